"""Helpers for the mutual-aid tests: ledger rules, a partner, volunteers and distances,
all through the real services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from conftest import World, make_household, make_resident, make_user
from linli.accounts.models import Membership, Role, User
from linli.communities.models import Building, Organisation, Resident
from linli.ledger.models import Currency, EarningRule, EarnKind
from linli.mutualaid import distances, services
from linli.mutualaid.models import Partner
from linli.volunteers import services as volunteer_services


def rules(world: World) -> None:
    """The two earning rules settlement uses (no approver: paid on settle)."""
    EarningRule.objects.create(
        community=world.community, kind=EarnKind.TIMEBANK_SERVICE, currency=Currency.MINUTES
    )
    EarningRule.objects.create(
        community=world.community, kind=EarnKind.MUTUAL_AID, currency=Currency.POINTS, amount=5
    )


def volunteer(
    world: World, name: str, building: Building, skills: list[str], slots: list[str] | None = None
) -> Resident:
    user = make_user(f"vol-{name}")
    r = make_resident(make_household(building, f"{name}室"), name, user=user)
    Membership.objects.create(user=user, role=Role.RESIDENT, unit=world.community)
    volunteer_services.profile_save(
        actor=user, resident=r, skills=[(s, "") for s in skills], availability=slots or []
    )
    return r


def far_building(world: World, name: str = "20幢", lat: str = "30.310000") -> Building:
    return Building.objects.create(
        community=world.community,
        grid=world.grid,
        name=name,
        lat=Decimal(lat),
        lng=Decimal("120.100000"),
    )


def refresh(world: World) -> None:
    distances.refresh_street(world.street.pk)


def partner(world: World) -> tuple[Partner, User]:
    org = Organisation.objects.create(kind="enterprise", name="康健药房", scope=world.street)
    member = make_user("pharmacy")
    Membership.objects.create(
        user=member, role=Role.SOCIAL_ORG, unit=world.community, organisation=org
    )
    p = services.partner_save(
        actor=world.user("secretary"),
        community=world.community,
        organisation=org,
        intro="社区药房",
        building=world.building2,
    )
    return p, member


def need(world: World, who: str = "resident", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "category": "plumbing",
        "title": "厨房水管漏水",
        "minutes": 90,
    }
    args.update(kw)
    return services.need_post(actor=world.user(who), resident=world.residents["resident"], **args)
