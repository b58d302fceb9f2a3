from __future__ import annotations

from typing import Any

import pytest

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.ledger import services
from linli.ledger.models import AccountKind, Currency, EarnKind


@pytest.fixture
def rules(world: Any) -> dict[str, Any]:
    c = world.community
    sec = world.user("secretary")
    out = {
        "volunteer": services.rule_save(
            actor=sec,
            community=c,
            kind=EarnKind.VOLUNTEER_SERVICE,
            amount=10,
            daily_cap=30,
            monthly_cap=200,
            approver_roles=[],
        ),
        "garbage": services.rule_save(
            actor=sec,
            community=c,
            kind=EarnKind.GARBAGE_SORTING,
            amount=5,
            daily_cap=5,
            approver_roles=["grid_worker"],
        ),
        "mutual": services.rule_save(
            actor=sec,
            community=c,
            kind=EarnKind.MUTUAL_AID,
            amount=8,
            approver_roles=["staff"],
            recipient_must_confirm=True,
        ),
        "timebank": services.rule_save(
            actor=sec,
            community=c,
            kind=EarnKind.TIMEBANK_SERVICE,
            amount=0,
            recipient_must_confirm=True,
        ),
    }
    return out


@pytest.fixture
def family(world: Any) -> Any:
    """A second member of the resident's household (for hour transfers)."""
    h = world.residents["resident"].household
    u = make_user("spouse")
    r = make_resident(h, "张三妻", user=u, birth_year=1950)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    return r


def give_points(world: Any, resident: Any, n: int, key: str) -> None:
    services.award(
        actor=world.user("secretary"),
        resident=resident,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=n,
        idempotency_key=key,
    )


def balance(resident: Any, currency: str = Currency.POINTS) -> int:
    return services.resident_account(resident, currency).balance


def fund(world: Any, currency: str = Currency.POINTS) -> int:
    return services.system_account(world.community.pk, currency, AccountKind.PUBLIC_FUND).balance


__all__ = ["make_household"]
