"""Role × state matrix for the case predicates and the two machines' tables."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from conftest import WORLD_USERS
from linli.mediation.models import Case
from linli.mediation.permissions import (
    can_add_evidence,
    can_assign_mediators,
    forget,
    sees_case,
    sees_case_file,
)
from linli.mediation.states import CASE, LEVEL

pytestmark = pytest.mark.django_db

PARTIES = {"resident", "neighbour"}
# The case's mediator is the grid worker; it was opened by the community worker.
RUNNERS = {"grid_worker", "worker", "secretary", "street_officer", "platform_admin"}
FILE = RUNNERS
VIEWERS = RUNNERS | PARTIES
MANAGERS = {"worker", "secretary", "street_officer", "platform_admin"}
STATES = ["open", "mediating", "closed_agreement", "closed_withdrawn", "visited"]


def put_in(case: Case, state: str) -> Case:
    now = timezone.now()
    fields: dict[str, Any] = {"status": state, "outcome": "", "closed_at": None}
    if state.startswith("closed") or state == "visited":
        outcome = "withdrawn" if state == "closed_withdrawn" else "agreement"
        fields = {
            "status": "visited" if state == "visited" else "closed",
            "outcome": outcome,
            "closed_at": now,
            "agreement_effective_on": timezone.localdate() if outcome == "agreement" else None,
            "followup_at": now if state == "visited" else None,
        }
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    forget(case)
    return case


@pytest.mark.parametrize("state", STATES)
def test_role_by_state_matrix(mw: Any, state: str) -> None:
    case = put_in(mw.case, state)
    active = state in ("open", "mediating")
    for role in WORLD_USERS:
        user = mw.user(role)
        got = {
            "view": bool(sees_case(user, case)),
            "file": bool(sees_case_file(user, case)),
            "record_session": CASE.can(user, case, "record_session"),
            "close": CASE.can(user, case, "close"),
            "follow_up": CASE.can(user, case, "follow_up"),
            "escalate": LEVEL.can(user, case, "to_community"),
            "assign": bool(can_assign_mediators(user, case)),
            "evidence": bool(can_add_evidence(user, case)),
        }
        want = {
            "view": role in VIEWERS,
            "file": role in FILE,
            "record_session": active and role in RUNNERS,
            "close": active and role in RUNNERS,
            "follow_up": state == "closed_agreement" and role in RUNNERS,
            "escalate": active and role in RUNNERS,
            "assign": active and role in MANAGERS,
            "evidence": active and role in RUNNERS,
        }
        assert got == want, (role, state)


def test_tables_cover_every_state() -> None:
    assert CASE.states() == {"open", "mediating", "closed", "visited"}
    assert LEVEL.states() == {"building", "community", "street"}
    assert CASE.actions_from("closed") == ["follow_up"]
    assert CASE.actions_from("visited") == []


def test_grid_worker_who_opened_sees_it(world: Any) -> None:
    from linli.mediation.tests.conftest import open_case

    case = open_case(world, actor=world.user("grid2_worker"))
    assert sees_case(world.user("grid2_worker"), case)
    assert not CASE.can(world.user("grid2_worker"), case, "close")
    assert not sees_case(world.user("other_grid_worker"), case)
