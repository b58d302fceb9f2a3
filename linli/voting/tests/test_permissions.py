"""Role × state matrices. The status changes (open, close, cancel) are driven off the
transitions table in linli/voting/states.py: every action × state × role, with the
refusal the service gives, and the page flags and rules permissions agree with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import rules
from django.utils import timezone

from linli.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.voting import permissions as perms
from linli.voting import services
from linli.voting.models import Ballot
from linli.voting.states import ballot_machine
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


def visible(who: str, state: str) -> bool:
    return who in WATCHERS or (who in RESIDENTS and state in ("open", "closed"))


def expected(perm: str, who: str, state: str) -> bool:
    if perm == "view":
        return visible(who, state)
    if perm in ("paper", "proxy"):
        return who in MANAGERS and state == "open"
    if perm == "result":
        return (who in MANAGERS and state in ("open", "closed")) or (
            state == "closed" and expected("view", who, state)
        )
    raise AssertionError(perm)


# Non-state permissions (the state changes are in the table-driven test below).
PREDICATES = {
    "view": perms.can_view_ballot,
    "paper": perms.can_enter_paper_vote,
    "proxy": perms.can_record_proxy,
    "result": perms.can_view_result,
}


def _ballot_in(world: Any, state: str, *, expired: bool) -> Ballot:
    ballot = make_ballot(world, open_now=False)
    fields: dict[str, Any] = {"status": state, "eligible_count": 2}
    if expired:
        past = timezone.now() - timedelta(seconds=1)
        fields.update(opens_at=past - timedelta(days=1), closes_at=past)
    Ballot.objects.filter(pk=ballot.pk).update(**fields)
    return Ballot.objects.select_related("community").get(pk=ballot.pk)


@pytest.mark.parametrize("state", STATES)
def test_role_state_matrix(world, state):
    ballot = _ballot_in(world, state, expired=False)
    wrong = []
    for who in sorted(EVERYONE):
        user = world.users[who]
        for name, pred in PREDICATES.items():
            if pred(user, ballot) != expected(name, who, state):
                wrong.append(f"{who}/{name}/{state}: got {pred(user, ballot)}")
    assert not wrong, wrong


# Who may run each transition of the table, by role (the test's own expectation; the
# table says which states). A new transition fails the test until it is listed here.
ROLES_FOR = {"open": MANAGERS, "close": MANAGERS, "cancel": MANAGERS}
# The guards: "open" needs the closing time ahead; "close" before the closing time
# needs every voter to have voted (nobody has, two on the roll).
GUARD_OK = {
    "open": lambda expired: not expired,
    "close": lambda expired: expired,
    "cancel": lambda expired: True,
}


def expected_refusal(action: str, who: str, state: str, expired: bool) -> type[DomainError] | None:
    t = ballot_machine[action]
    if not visible(who, state):
        return NotFound
    if who not in ROLES_FOR[action]:
        return PermissionDenied
    if state not in t.sources:
        return InvalidTransition
    if not GUARD_OK[action](expired):
        return ValidationFailed if action == "open" else Conflict
    return None


def test_the_table_is_the_one_we_test():
    assert set(ballot_machine.table) == set(ROLES_FOR) == set(GUARD_OK)
    assert ballot_machine.states() == set(STATES)
    # The transitions themselves: draft → open → closed, draft/open → cancelled.
    assert {a: (sorted(t.sources), t.target) for a, t in ballot_machine.table.items()} == {
        "open": (["draft"], "open"),
        "close": (["open"], "closed"),
        "cancel": (["draft", "open"], "cancelled"),
    }


@pytest.mark.parametrize("expired", [False, True], ids=["before_close_time", "after_close_time"])
@pytest.mark.parametrize("state", STATES)
def test_transition_matrix_from_the_table(world, state, expired):
    ballot = _ballot_in(world, state, expired=expired)
    wrong = []
    for who in sorted(EVERYONE):
        user = world.users[who]
        flags = ballot_machine.flags(user, ballot)
        for action in ballot_machine.table:
            want = expected_refusal(action, who, state, expired)
            got = ballot_machine.refusal(user, ballot, action)
            if type(got) is not want and not (want is None and got is None):
                wrong.append(f"{who}/{action}/{state}/{expired}: {type(got).__name__}")
            allowed = want is None
            if flags[f"can_{action}"] != allowed:
                wrong.append(f"{who}/{action}/{state}/{expired}: flag {flags[f'can_{action}']}")
            if rules.has_perm(f"voting.{action}_ballot", user, ballot) != allowed:
                wrong.append(f"{who}/{action}/{state}/{expired}: rules perm disagrees")
            if (action in ballot_machine.available(user, ballot)) != allowed:
                wrong.append(f"{who}/{action}/{state}/{expired}: available() disagrees")
    assert not wrong, wrong


SERVICES = {
    "open": lambda user, b: services.ballot_open(actor=user, ballot=b),
    "close": lambda user, b: services.ballot_close(actor=user, ballot=b),
    "cancel": lambda user, b: services.ballot_cancel(actor=user, ballot=b, reason="议题撤回"),
}


@pytest.mark.parametrize("expired", [False, True], ids=["before_close_time", "after_close_time"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(SERVICES))
@pytest.mark.parametrize("who", ["secretary", "resident", "grid_worker", "stranger"])
def test_services_refuse_exactly_as_the_table_says(world, who, action, state, expired):
    ballot = _ballot_in(world, state, expired=expired)
    want = expected_refusal(action, who, state, expired)
    if want is None:
        done = SERVICES[action](world.users[who], ballot)
        assert done.status == ballot_machine[action].target
        assert Ballot.objects.get(pk=ballot.pk).status == ballot_machine[action].target
    else:
        with pytest.raises(want):
            SERVICES[action](world.users[who], ballot)
        assert Ballot.objects.get(pk=ballot.pk).status == state


def test_create_permission(world):
    allowed = {
        who for who in EVERYONE if perms.can_create_ballot(world.users[who], world.community)
    }
    assert allowed == MANAGERS
