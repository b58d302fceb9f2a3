"""Mutual aid end to end through the services: post, rank, propose, accept, settle."""

from __future__ import annotations

import pytest

from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.ledger.models import Account, AccountKind, Currency
from linli.mutualaid import matching, selectors, services
from linli.mutualaid.models import MatchStatus, Need, NeedStatus
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db


def test_need_to_settled_hours(world):
    f.rules(world)
    plumber = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    sugg = matching.suggest(need)
    assert sugg and sugg[0].candidate.extra["resident_id"] == str(plumber.pk)
    codes = [r["code"] for r in sugg[0].reasons]
    assert "skill" in codes and "distance" in codes
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind="volunteer", candidate_id=sugg[0].candidate.id
    )
    assert m.status == MatchStatus.NEED_ACCEPTED
    m = services.match_accept(actor=plumber.user, match=m)
    assert m.status == MatchStatus.AGREED
    need.refresh_from_db()
    assert need.status == NeedStatus.MATCHED and need.matched_at
    m = services.match_settle(actor=world.user("resident"), match=m, rating=5)
    assert m.status == MatchStatus.SETTLED
    acc = Account.objects.get(resident=plumber, currency=Currency.MINUTES)
    assert acc.balance == 90
    need.refresh_from_db()
    assert need.status == NeedStatus.DONE
    assert AuditEvent.objects.filter(action="mutualaid.match.settle").count() == 1
    # Settling again is refused, nothing paid twice.
    with pytest.raises(Conflict):
        services.match_settle(actor=world.user("resident"), match=m)
    acc.refresh_from_db()
    assert acc.balance == 90


def test_accepting_twice_refused(world):
    f.rules(world)
    f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=c.kind, candidate_id=c.id
    )
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict) as exc:
        services.match_accept(actor=world.user("resident"), match=m)
    assert "已接受" in str(exc.value.message)
    m.refresh_from_db()
    assert m.status == MatchStatus.NEED_ACCEPTED
    assert AuditEvent.objects.count() == before


def test_partner_cannot_award_itself(world):
    p, member = f.partner(world)
    c = services.contribution_report(
        actor=member, partner=p, title="免费测血压", served_on=world_today(), points=20
    )
    with pytest.raises(PermissionDenied) as exc:
        services.contribution_confirm(actor=member, contribution=c)
    assert "不能给自己" in str(exc.value.message)
    c.refresh_from_db()
    assert c.status == "reported" and c.ledger_tx_id is None
    assert not Account.objects.filter(kind=AccountKind.PARTNER).exists()
    c = services.contribution_confirm(actor=world.user("secretary"), contribution=c)
    acc = Account.objects.get(kind=AccountKind.PARTNER, organisation=p.organisation)
    assert acc.balance == 20 and c.status == "confirmed"
    assert selectors.partner_balance(p) == 20


def world_today():
    from django.utils import timezone

    return timezone.localdate()


def test_timebank_only_for_elderly_or_disabled(world):
    with pytest.raises(ValidationFailed):
        services.need_post(
            actor=world.user("neighbour"),
            resident=world.residents["neighbour"],
            category="errand",
            title="代买菜",
            settle_in="minutes",
        )
    assert not Need.objects.exists()
