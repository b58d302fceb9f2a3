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
    "start": ({"filed"}, MANAGERS),
    "accept": ({"in_progress"}, MANAGERS),
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


def test_programme_matrix(world: World) -> None:
    """Every phase action: community workers, the secretary and the platform admin, in
    the phase it starts from; nobody else (residents, the street, other communities)."""
    from datetime import timedelta

    from django.utils import timezone

    from linli.projects.models import Programme
    from linli.projects.states import PROGRAMME
    from linli.projects.tests.conftest import make_programme

    prog = make_programme(world)
    services.programme_advance(
        actor=world.user("secretary"), programme=prog, action="open_proposals"
    )
    prog.refresh_from_db()
    services.pb_project_submit(
        actor=world.user("resident"), programme=prog, title="t", description="d", cost_yuan="10"
    )
    past = timezone.now() - timedelta(minutes=1)
    Programme.objects.filter(pk=prog.pk).update(
        voting_opens=past - timedelta(hours=1), voting_closes=past
    )
    prog.refresh_from_db()
    sources = {
        "open_proposals": "draft",
        "start_review": "proposals",
        "open_voting": "review",
        "close_voting": "voting",
        "start_implementation": "results",
        "close": "implementation",
    }
    assert set(sources) == set(PROGRAMME.table)
    for phase in Programme.Phase.values:
        prog.phase = phase
        for key in WORLD_USERS:
            for action, src in sources.items():
                want = phase == src and key in MANAGERS
                assert PROGRAMME.can(world.user(key), prog, action) == want, (key, phase, action)
