"""A valid 阳光社区 council for the tests: 7 residents (2 young, 2 elderly, 2 tenants)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import World, make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.communities.models import Resident
from linli.deliberation.models import Council, CouncilMember
from linli.deliberation.services import MemberSpec, council_constitute, council_create

YEAR = timezone.localdate().year
# (name, age, tenure)
SEATS = [
    ("赵青", 28, "owner"),
    ("钱朝阳", 31, "tenant"),
    ("孙建国", 66, "owner"),
    ("李秀英", 71, "owner"),
    ("周海燕", 45, "tenant"),
    ("吴德福", 52, "owner"),
    ("郑丽", 40, "owner"),
]


@dataclass
class CouncilWorld:
    w: World
    council: Council
    members: list[CouncilMember]
    residents: list[Resident]
    users: list[Any]


def add_resident(w: World, name: str, age: int, tenure: str, *, with_user: bool = True) -> Resident:
    n = Resident.objects.count() + 1
    h = make_household(w.building, f"{300 + n}", tenure=tenure)
    user = make_user(f"cm{n}") if with_user else None
    r = make_resident(h, name, birth_year=YEAR - age, user=user)
    if user is not None:
        Membership.objects.create(user=user, role=Role.RESIDENT, unit=w.community)
    return r


@pytest.fixture
def cw(world: World) -> CouncilWorld:
    sec = world.user("secretary")
    council = council_create(
        actor=sec, community=world.community, kind="council", name="阳光社区居民议事会"
    )
    residents = [add_resident(world, n, a, t) for n, a, t in SEATS]
    members = council_constitute(
        actor=sec, council=council, seats=[MemberSpec(resident=r) for r in residents]
    )
    return CouncilWorld(world, council, members, residents, [r.user for r in residents])


def future(days: float) -> Any:
    return timezone.now() + timedelta(days=days)
