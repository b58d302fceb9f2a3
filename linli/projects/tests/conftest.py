"""Fixtures: a third household with a resident account in 阳光社区, and a ready-made
micro-project gathering signatures."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import World, make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.communities.models import Resident
from linli.projects import services
from linli.projects.models import MicroProject

LINES = [("防滑地砖", "6000"), ("扶手", "2500.50")]


def add_resident(w: World, name: str, room: str) -> Resident:
    h = make_household(w.building, room)
    user = make_user(f"u{room}")
    r = make_resident(h, name, user=user)
    Membership.objects.create(user=user, role=Role.RESIDENT, unit=w.community)
    return r


@pytest.fixture
def third(world: World) -> Resident:
    return add_resident(world, "王六", "103")


def propose(w: World, actor: Any = None, **kw: Any) -> MicroProject:
    args: dict[str, Any] = {
        "actor": actor or w.user("resident"),
        "community": w.community,
        "title": "3幢楼道防滑改造",
        "problem": "楼道地砖湿滑，老人摔倒过两次",
        "plan": "更换防滑地砖，加装扶手",
        "place": "1幢1单元楼道",
        "lines": LINES,
    }
    args.update(kw)
    return services.micro_propose(**args)


@pytest.fixture
def gathering(world: World) -> MicroProject:
    return propose(world)


@pytest.fixture
def submitted(world: World, third: Resident) -> MicroProject:
    p = propose(world)
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    services.micro_cosign(actor=third.user, project=p)
    return services.micro_transition(actor=world.user("resident"), project=p, action="submit")
