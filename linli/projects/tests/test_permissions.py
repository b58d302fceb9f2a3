"""Role × state matrix of the fast track (every world user, every status, every action),
written out by hand so it cannot simply echo the machine's table."""

from __future__ import annotations

import pytest

from conftest import WORLD_USERS, World
from linli.communities.models import Resident
from linli.projects import services
from linli.projects.models import MicroProject
from linli.projects.permissions import can_view_project
from linli.projects.states import MICRO
from linli.projects.tests.conftest import propose

pytestmark = pytest.mark.django_db

MANAGERS = {"worker", "secretary", "platform_admin"}
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    # action: (statuses, users)
    "submit": ({"gathering"}, {"resident"} | MANAGERS),
    "withdraw": ({"gathering", "proposed"}, {"resident"} | MANAGERS),
    "approve": ({"proposed"}, MANAGERS),
    "reject": ({"proposed"}, MANAGERS),
    "file": ({"reviewed"}, {"street_officer", "platform_admin"}),
    "refuse_filing": ({"reviewed"}, {"street_officer", "platform_admin"}),
}
VIEWERS = {
    "resident",
    "neighbour",
    "grid_worker",
    "grid2_worker",
    "worker",
    "secretary",
    "street_officer",
    "supervisor",
    "platform_admin",
}


def test_matrix(world: World, third: Resident) -> None:
    p = propose(world)
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    services.micro_cosign(actor=third.user, project=p)
    assert set(EXPECTED) == set(MICRO.table)
    for status in MicroProject.Status.values:
        p.status = status
        for key in WORLD_USERS:
            user = world.user(key)
            assert bool(can_view_project(user, p)) == (key in VIEWERS), (key, status)
            for action, (states, users) in EXPECTED.items():
                want = status in states and key in users
                assert MICRO.can(user, p, action) == want, (key, status, action)
