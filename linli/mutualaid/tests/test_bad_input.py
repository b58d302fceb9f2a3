"""Bad input is refused with a clear message and nothing changes — one test each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.ledger.models import Account, AccountKind, LedgerTransaction
from linli.mutualaid import matching, services
from linli.mutualaid.models import Contribution, Match, MatchStatus, Need, NeedStatus
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db


def _unchanged(fn: Any, exc: type[Exception], text: str = "") -> Exception:
    counts = (
        AuditEvent.objects.count(),
        Need.objects.count(),
        Match.objects.count(),
        LedgerTransaction.objects.count(),
    )
    with pytest.raises(exc) as info:
        fn()
    if text:
        assert text in str(info.value.message)  # type: ignore[attr-defined]
    after = (
        AuditEvent.objects.count(),
        Need.objects.count(),
        Match.objects.count(),
        LedgerTransaction.objects.count(),
    )
    assert after == counts
    return info.value


@pytest.fixture
def agreed(world: Any) -> dict[str, Any]:
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=c.kind, candidate_id=c.id
    )
    m = services.match_accept(actor=helper.user, match=m)
    return {"need": need, "match": m, "helper": helper}


def test_accepting_an_agreed_match_again(world, agreed):
    m = agreed["match"]
    e = _unchanged(
        lambda: services.match_accept(actor=agreed["helper"].user, match=m), Conflict, "无需再次"
    )
    assert e.code == "already_accepted"  # type: ignore[attr-defined]


def test_accepting_twice_on_one_side(world):
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("worker"), need=need, kind=c.kind, candidate_id=c.id, accept=False
    )
    services.match_accept(actor=helper.user, match=m)
    _unchanged(lambda: services.match_accept(actor=helper.user, match=m), Conflict, "已接受过")
    assert Match.objects.get(pk=m.pk).status == MatchStatus.HELPER_ACCEPTED


def test_second_match_for_a_matched_need_refused(world, agreed):
    other = f.volunteer(world, "钱七", world.building, ["plumbing"])
    need = agreed["need"]
    need.refresh_from_db()
    _unchanged(
        lambda: services.match_propose(
            actor=world.user("worker"), need=need, kind="volunteer", candidate_id=other.pk
        ),
        Conflict,
        "不再等待匹配",
    )


def test_partner_awards_itself_via_contribution(world):
    p, member = f.partner(world)
    c = services.contribution_report(
        actor=member, partner=p, title="义诊", served_on=timezone.localdate(), points=50
    )
    _unchanged(
        lambda: services.contribution_confirm(actor=member, contribution=c, points=500),
        PermissionDenied,
        "不能给自己",
    )
    assert Contribution.objects.get(pk=c.pk).status == "reported"
    assert not Account.objects.filter(kind=AccountKind.PARTNER).exists()


def test_partner_settles_its_own_service_refused(world):
    p, member = f.partner(world)
    services.offering_save(
        actor=member, partner=p, kind="service", category="plumbing", title="上门维修"
    )
    f.refresh(world)
    need = f.need(world)
    s = next(s for s in matching.suggest(need) if s.candidate.kind == "partner_service")
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=s.candidate.kind, candidate_id=s.candidate.id
    )
    m = services.match_accept(actor=member, match=m)
    assert m.status == MatchStatus.AGREED
    _unchanged(
        lambda: services.match_settle(actor=member, match=m, points=999),
        PermissionDenied,
        "不能给自己",
    )
    # The community confirms instead: the partner's account is credited.
    m = services.match_settle(actor=world.user("secretary"), match=m, points=25)
    acc = Account.objects.get(kind=AccountKind.PARTNER, organisation=p.organisation)
    assert acc.balance == 25 and m.ledger_tx_id is not None


def test_confirming_a_contribution_twice(world):
    p, member = f.partner(world)
    c = services.contribution_report(
        actor=member, partner=p, title="义诊", served_on=timezone.localdate(), points=5
    )
    services.contribution_confirm(actor=world.user("secretary"), contribution=c)
    _unchanged(
        lambda: services.contribution_confirm(actor=world.user("secretary"), contribution=c),
        InvalidTransition,
    )
    assert Account.objects.get(kind=AccountKind.PARTNER).balance == 5


def test_settling_twice_pays_once(world, agreed):
    m = services.match_settle(actor=world.user("resident"), match=agreed["match"])
    _unchanged(lambda: services.match_settle(actor=world.user("resident"), match=m), Conflict)
    assert Account.objects.get(resident=agreed["helper"], currency="minutes").balance == 90


def test_helper_cannot_settle_for_themself(world, agreed):
    _unchanged(
        lambda: services.match_settle(actor=agreed["helper"].user, match=agreed["match"]),
        PermissionDenied,
    )


def test_bad_rating(world, agreed):
    _unchanged(
        lambda: services.match_settle(
            actor=world.user("resident"), match=agreed["match"], rating=7
        ),
        ValidationFailed,
        "1 到 5",
    )


def test_cancel_without_reason(world, agreed):
    _unchanged(
        lambda: services.match_cancel(
            actor=world.user("resident"), match=agreed["match"], reason=" "
        ),
        ValidationFailed,
        "理由",
    )


def test_cancel_reopens_need(world, agreed):
    services.match_cancel(actor=world.user("resident"), match=agreed["match"], reason="时间冲突")
    assert Need.objects.get(pk=agreed["need"].pk).status == NeedStatus.OPEN


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"category": "astrology"}, "类别"),
        ({"title": ""}, "需要什么帮助"),
        ({"title": "修" * 61}, "最多60字"),
        ({"minutes": 800}, "12 小时"),
        ({"minutes": "1.5"}, "小数"),
        ({"settle_in": "cash"}, "结算方式"),
        ({"wanted_until": timezone.now() - timedelta(hours=1)}, "已经过去"),
    ],
)
def test_need_bad_fields(world, kw, text):
    _unchanged(lambda: f.need(world, **kw), ValidationFailed, text)


def test_stale_suggestion(world):
    need = f.need(world)
    _unchanged(
        lambda: services.match_propose(
            actor=world.user("resident"), need=need, kind="volunteer", candidate_id=999999
        ),
        ValidationFailed,
        "失效",
    )


def test_代办_needs_a_channel_and_own_community(world):
    _unchanged(lambda: f.need(world, who="worker", channel="self"), ValidationFailed, "渠道")
    _unchanged(lambda: f.need(world, who="other_secretary", channel="phone"), PermissionDenied)
    _unchanged(lambda: f.need(world, who="neighbour"), PermissionDenied)
    need = f.need(world, who="worker", channel="phone")
    assert need.channel == "phone" and need.posted_by == world.user("worker")


def test_same_key_returns_the_first_need(world):
    a = f.need(world, idempotency_key="k-1")
    b = f.need(world, idempotency_key="k-1")
    assert a.pk == b.pk and Need.objects.count() == 1
    _unchanged(
        lambda: f.need(world, who="worker", channel="phone", idempotency_key="k-1"), Conflict
    )
