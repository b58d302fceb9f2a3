"""Role × action matrix for the ledger and activities (the world fixture's users)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from linli.core.errors import DomainError
from linli.ledger import permissions as p
from linli.ledger import services, states
from linli.ledger.models import ClaimStatus, EarnKind
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
# 张三's statement: 张三, managers and oversight, and the grid worker of 张三's grid only
# (not the grid-2 worker of the same community: issue 9, finding 13).
VIEW_ACCOUNT = TRIAL | {"grid_worker", "resident"}
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
    assert p.can_view_account(u, objs["account"]) == (role in VIEW_ACCOUNT)
    assert vp.can_create_activity(u, c) == (role in CREATE_ACTIVITY)
    assert vp.can_check_in(u, objs["activity"]) == (role in CHECK_IN)


# Who may take each action of the claim machine, per claim, whatever the state; the
# state part comes from the table itself (``CLAIMS[action].sources``).
CLAIMS = states.CLAIMS
CLAIM_WHO = {
    "garbage": {
        states.CONFIRM: set(),
        states.APPROVE: APPROVE_GARBAGE,
        states.REJECT: APPROVE_GARBAGE,
    },
    "mutual": {
        states.CONFIRM: CONFIRM,
        states.APPROVE: APPROVE_MUTUAL,
        states.REJECT: APPROVE_MUTUAL | CONFIRM,
    },
}
SERVICES = {
    states.CONFIRM: lambda u, c: services.claim_confirm(actor=u, claim=c),
    states.APPROVE: lambda u, c: services.claim_approve(actor=u, claim=c),
    states.REJECT: lambda u, c: services.claim_reject(actor=u, claim=c, reason="不符合规则"),
}


class _Undo(Exception):
    pass


def _accepted(fn: Any) -> bool:
    """Run a service and roll it back: True if it accepted the action."""
    try:
        with transaction.atomic():
            fn()
            raise _Undo
    except _Undo:
        return True
    except DomainError:
        return False


@pytest.mark.parametrize("role", ROLES)
def test_claim_machine_matrix(world: Any, objs: Any, role: str) -> None:
    """Role × claim × state × action, driven by the claim machine's table; the real
    services accept exactly what the machine (and so the page's buttons) offers."""
    u = world.user(role)
    assert set(CLAIMS.table) == set(SERVICES) == set(CLAIM_WHO["mutual"])
    for name, who in CLAIM_WHO.items():
        claim = objs[name]
        real = claim.status
        for state in ClaimStatus.values:
            claim.status = state
            for action, t in CLAIMS.table.items():
                expected = state in t.sources and role in who[action]
                assert CLAIMS.can(u, claim, action) == expected, (name, state, action)
            offered = CLAIMS.available(u, claim)
            assert offered == [a for a in CLAIMS.table if CLAIMS.can(u, claim, a)]
        claim.status = real
        for action, call in SERVICES.items():
            claim.refresh_from_db()
            may = CLAIMS.can(u, claim, action)
            accepted = _accepted(lambda call=call, claim=claim: call(u, claim))
            assert accepted == may, (name, action)
