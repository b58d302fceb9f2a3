"""Role × action matrix for the ledger and activities (the world fixture's users)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.ledger import permissions as p
from linli.ledger import services
from linli.ledger.models import EarnKind
from linli.volunteers import permissions as vp
from linli.volunteers import services as vs

pytestmark = pytest.mark.django_db

ROLES = [
    "resident",
    "neighbour",
    "stranger",
    "liaison",
    "grid_worker",
    "grid2_worker",
    "other_grid_worker",
    "worker",
    "secretary",
    "other_secretary",
    "street_officer",
    "department",
    "property",
    "social_org",
    "supervisor",
    "platform_admin",
]

# Expected holders of each right in world.community.
MANAGE = {"worker", "secretary", "platform_admin"}
TRIAL = MANAGE | {"street_officer", "supervisor"}
AWARD = MANAGE | {"grid_worker", "grid2_worker"}
REVERSE = {"secretary", "platform_admin"}
# Garbage rule approvers: grid workers of the earner's grid (resident lives in grid 1).
APPROVE_GARBAGE = {"grid_worker", "platform_admin"}
# Mutual aid approvers: community staff; never the earner.
APPROVE_MUTUAL = {"worker", "secretary", "platform_admin"}
# Confirmation of a service to 李四 (grid 2): 李四 or the grid-2 worker.
CONFIRM = {"neighbour", "grid2_worker", "platform_admin"}
CREATE_ACTIVITY = {"worker", "secretary", "social_org", "platform_admin"}
CHECK_IN = CREATE_ACTIVITY | {"grid_worker", "grid2_worker"}


@pytest.fixture
def objs(world: Any) -> dict[str, Any]:
    sec = world.user("secretary")
    services.rule_save(
        actor=sec,
        community=world.community,
        kind=EarnKind.GARBAGE_SORTING,
        amount=5,
        approver_roles=["grid_worker"],
    )
    services.rule_save(
        actor=sec,
        community=world.community,
        kind=EarnKind.MUTUAL_AID,
        amount=5,
        approver_roles=["staff"],
        recipient_must_confirm=True,
    )
    r = world.residents["resident"]
    today = timezone.localdate()
    garbage = services.claim_submit(
        actor=world.user("resident"), resident=r, kind=EarnKind.GARBAGE_SORTING, service_date=today
    )
    mutual = services.claim_submit(
        actor=world.user("resident"),
        resident=r,
        kind=EarnKind.MUTUAL_AID,
        service_date=today,
        recipient=world.residents["neighbour"],
    )
    now = timezone.now()
    act = vs.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="cleanup",
        title="清洁",
        location="小区",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        capacity=3,
    )
    return {
        "garbage": garbage,
        "mutual": mutual,
        "activity": act,
        "account": services.resident_account(r, "points"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_matrix(world: Any, objs: Any, role: str) -> None:
    u = world.user(role)
    c = world.community
    assert p.can_manage_ledger(u, c) == (role in MANAGE)
    assert p.can_view_trial_balance(u, c) == (role in TRIAL)
    assert p.can_award(u, c) == (role in AWARD)
    assert p.can_reverse(u, c) == (role in REVERSE)
    assert p.can_award_honour(u, c) == (role in MANAGE)
    assert p.can_approve_claim(u, objs["garbage"]) == (role in APPROVE_GARBAGE)
    assert p.can_approve_claim(u, objs["mutual"]) == (role in APPROVE_MUTUAL)
    assert p.can_confirm_claim(u, objs["mutual"]) == (role in CONFIRM)
    assert p.can_view_account(u, objs["account"]) == (role in TRIAL | AWARD | {"resident"})
    assert vp.can_create_activity(u, c) == (role in CREATE_ACTIVITY)
    assert vp.can_check_in(u, objs["activity"]) == (role in CHECK_IN)
