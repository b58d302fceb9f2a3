"""Role × state matrices for the mutual-aid machines: every user of the ``world`` (plus
the helper and a partner member) against every state of a match, a need and a
contribution, compared with the rules written out independently here."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import WORLD_USERS
from linli.mutualaid import matching, services
from linli.mutualaid.models import (
    Contribution,
    ContributionStatus,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
)
from linli.mutualaid.states import CONTRIBUTION, MATCH, NEED
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db

AID_STAFF = {"grid_worker", "grid2_worker", "worker", "secretary", "platform_admin"}
CONFIRMERS = {"worker", "secretary", "platform_admin"}
NEED_SIDE = {"resident"} | AID_STAFF
USERS = (*WORLD_USERS, "helper", "pharmacy")

MATCH_SOURCES = {
    "accept_need": {MatchStatus.PROPOSED},
    "agree_need": {MatchStatus.HELPER_ACCEPTED},
    "accept_helper": {MatchStatus.PROPOSED},
    "agree_helper": {MatchStatus.NEED_ACCEPTED},
    "decline": {MatchStatus.PROPOSED, MatchStatus.NEED_ACCEPTED, MatchStatus.HELPER_ACCEPTED},
    "cancel": {MatchStatus.AGREED},
    "settle": {MatchStatus.AGREED},
}


def expected_match(user: str, action: str, state: str, partner: bool) -> bool:
    if state not in MATCH_SOURCES[action]:
        return False
    helper_side = {"pharmacy"} if partner else {"helper"} | AID_STAFF
    if action in ("accept_need", "agree_need"):
        return user in NEED_SIDE
    if action in ("accept_helper", "agree_helper"):
        return user in helper_side
    if action in ("decline", "cancel"):
        return user in NEED_SIDE | helper_side
    if action == "settle":
        # A partner's service is confirmed by community staff only, never the partner.
        return user in (CONFIRMERS - {"pharmacy"}) if partner else user in NEED_SIDE
    raise AssertionError(action)


@pytest.fixture
def setup(world: Any) -> dict[str, Any]:
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    partner, member = f.partner(world)
    services.offering_save(
        actor=member, partner=partner, kind="service", category="plumbing", title="上门维修"
    )
    f.refresh(world)
    need = f.need(world)
    by_kind = {s.candidate.kind: s for s in matching.suggest(need)}
    vol = services.match_propose(
        actor=world.user("worker"),
        need=need,
        kind="volunteer",
        candidate_id=by_kind["volunteer"].candidate.id,
        accept=False,
    )
    par = services.match_propose(
        actor=world.user("worker"),
        need=need,
        kind="partner_service",
        candidate_id=by_kind["partner_service"].candidate.id,
        accept=False,
    )
    c = services.contribution_report(
        actor=member, partner=partner, title="义诊", served_on=need.created_at.date()
    )
    users = dict(world.users)
    users["helper"] = helper.user
    users["pharmacy"] = member
    return {"need": need, "vol": vol, "par": par, "contribution": c, "users": users}


@pytest.mark.parametrize("user", USERS)
def test_match_matrix(setup: dict[str, Any], user: str) -> None:
    actor = setup["users"][user]
    for partner, m in ((False, setup["vol"]), (True, setup["par"])):
        m = Match.objects.select_related("need", "partner", "helper").get(pk=m.pk)
        for state in MatchStatus.values:
            m.status = state
            for action in MATCH.table:
                want = expected_match(user, action, state, partner)
                got = MATCH.can(actor, m, action)
                assert got == want, (user, partner, state, action)


@pytest.mark.parametrize("user", USERS)
def test_need_and_contribution_matrix(setup: dict[str, Any], user: str) -> None:
    actor = setup["users"][user]
    need = Need.objects.get(pk=setup["need"].pk)
    for state in NeedStatus.values:
        need.status = state
        assert NEED.can(actor, need, "cancel") == (
            state == NeedStatus.OPEN and user in NEED_SIDE
        ), (user, state)
        for system_action in ("match", "reopen", "complete"):
            assert not NEED.can(actor, need, system_action)
    c = Contribution.objects.select_related("partner").get(pk=setup["contribution"].pk)
    for state in ContributionStatus.values:
        c.status = state
        for action in ("confirm", "reject"):
            want = state == ContributionStatus.REPORTED and user in CONFIRMERS
            assert CONTRIBUTION.can(actor, c, action) == want, (user, state, action)
