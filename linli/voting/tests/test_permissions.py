"""Role × state matrix for every ballot permission."""

from __future__ import annotations

import pytest

from linli.voting import permissions as perms
from linli.voting.models import Ballot
from linli.voting.tests.conftest import make_ballot

STATES = ["draft", "open", "closed", "cancelled"]
MANAGERS = {"worker", "secretary", "street_officer", "platform_admin"}
WATCHERS = MANAGERS | {"grid_worker", "grid2_worker", "supervisor", "liaison"}
RESIDENTS = {"resident", "neighbour"}
EVERYONE = (
    WATCHERS
    | RESIDENTS
    | {
        "stranger",
        "other_secretary",
        "other_street_officer",
        "other_grid_worker",
        "department",
        "property",
        "other_property",
        "social_org",
    }
)


def expected(perm: str, who: str, state: str) -> bool:
    if perm == "view":
        return who in WATCHERS or (who in RESIDENTS and state in ("open", "closed"))
    if perm == "open":
        return who in MANAGERS and state == "draft"
    if perm in ("close", "paper", "proxy"):
        return who in MANAGERS and state == "open"
    if perm == "cancel":
        return who in MANAGERS and state in ("draft", "open")
    if perm == "result":
        return (who in MANAGERS and state in ("open", "closed")) or (
            state == "closed" and expected("view", who, state)
        )
    raise AssertionError(perm)


PREDICATES = {
    "view": perms.can_view_ballot,
    "open": perms.can_open_ballot,
    "close": perms.can_close_ballot,
    "paper": perms.can_enter_paper_vote,
    "proxy": perms.can_record_proxy,
    "cancel": perms.can_cancel_ballot,
    "result": perms.can_view_result,
}


@pytest.mark.parametrize("state", STATES)
def test_role_state_matrix(world, state):
    ballot = make_ballot(world, open_now=False)
    Ballot.objects.filter(pk=ballot.pk).update(status=state)
    ballot = Ballot.objects.select_related("community").get(pk=ballot.pk)
    wrong = []
    for who in sorted(EVERYONE):
        user = world.users[who]
        for name, pred in PREDICATES.items():
            if pred(user, ballot) != expected(name, who, state):
                wrong.append(f"{who}/{name}/{state}: got {pred(user, ballot)}")
    assert not wrong, wrong


def test_create_permission(world):
    allowed = {
        who for who in EVERYONE if perms.can_create_ballot(world.users[who], world.community)
    }
    assert allowed == MANAGERS
