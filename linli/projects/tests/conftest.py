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


def make_programme(
    w: World,
    *,
    kind: str = "approval",
    k: int | None = 2,
    unit: str = "resident",
    method: str = "mes",
    budget: str = "100000",
) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return services.programme_create(
        actor=w.user("secretary"),
        community=w.community,
        title="2026 社区营造",
        description="一年一期",
        budget_yuan=budget,
        ballot_kind=kind,
        max_choices=k,
        unit=unit,
        method=method,
        criteria=[("必要性", 3), ("可行性", 2)],
        dates=services.Dates(
            now - timedelta(days=3),
            now - timedelta(days=2),
            now - timedelta(hours=1),
            now + timedelta(days=1),
        ),
    )


def voting_programme(
    w: World, costs: tuple[str, ...] = ("40000", "50000", "30000"), **kw: Any
) -> Any:
    """A programme in its voting phase with the given shortlisted projects."""
    from linli.core import ratelimit

    # Trusted set-up: the proposals below are not a resident flooding the form.
    with ratelimit.suspended():
        return _voting_programme(w, costs, **kw)


def _voting_programme(w: World, costs: tuple[str, ...], **kw: Any) -> Any:
    from linli.projects.models import PBProject

    prog = make_programme(w, **kw)
    sec = w.user("secretary")
    reviewer = services.reviewer_add(
        actor=sec, programme=prog, user=w.user("supervisor"), title="监督员"
    )
    services.programme_advance(actor=sec, programme=prog, action="open_proposals")
    prog.refresh_from_db()
    for i, c in enumerate(costs):
        services.pb_project_submit(
            actor=w.user("resident"),
            programme=prog,
            title=f"项目{i + 1}",
            description="说明",
            cost_yuan=c,
        )
    services.programme_advance(actor=sec, programme=prog, action="start_review")
    prog.refresh_from_db()
    crits = list(prog.criteria.all())
    for p in PBProject.objects.filter(programme=prog):
        services.score_submit(
            actor=reviewer.user, project=p, scores={c.pk: 8 for c in crits}, comment="可行"
        )
    services.programme_advance(actor=sec, programme=prog, action="open_voting")
    prog.refresh_from_db()
    return prog
