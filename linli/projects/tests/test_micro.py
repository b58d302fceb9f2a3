"""The micro-project fast track through the real services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from linli.communities.models import Resident
from linli.core.errors import DomainError, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.core.notify import MemorySender
from linli.projects import selectors, services
from linli.projects.models import BudgetLine, CoSigner, MicroProject, MicroStep
from linli.projects.tests.conftest import propose

pytestmark = pytest.mark.django_db
S = MicroProject.Status


def test_propose_stores_exact_fen_and_first_household(world: World) -> None:
    p = propose(world)
    assert p.budget_fen == 850_050
    assert [b.amount_fen for b in BudgetLine.objects.filter(project=p)] == [600_000, 250_050]
    assert CoSigner.objects.filter(project=p).count() == 1
    assert p.status == S.GATHERING
    assert AuditEvent.objects.filter(action="projects.micro_propose").count() == 1


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([("油漆", "4999.99")], "budget_out_of_range"),
        ([("油漆", "30000"), ("工具", "20000.01")], "budget_out_of_range"),
        ([], "no_budget_lines"),
        ([("", "")], "no_budget_lines"),
    ],
)
def test_budget_range_and_lines_refused(world: World, lines: list, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        propose(world, lines=lines)
    assert exc.value.code == code
    assert MicroProject.objects.count() == 0
    assert AuditEvent.objects.filter(action="projects.micro_propose").count() == 0


@pytest.mark.parametrize("amount", ["abc", "-5", "1.234", "1e5", 12.5])
def test_bad_amounts_refused(world: World, amount: object) -> None:
    with pytest.raises(ValidationFailed):
        propose(world, lines=[("油漆", amount)])
    assert MicroProject.objects.count() == 0


def test_submit_needs_enough_households(world: World) -> None:
    p = propose(world)
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    with pytest.raises(ValidationFailed) as exc:
        services.micro_transition(actor=world.user("resident"), project=p, action="submit")
    assert exc.value.code == "too_few_households"
    p.refresh_from_db()
    assert p.status == S.GATHERING and p.submitted_at is None


def test_household_signs_once(world: World, third: Resident) -> None:
    p = propose(world)
    with pytest.raises(ValidationFailed):  # the proposer's own household already counts
        services.micro_cosign(actor=world.user("resident"), project=p)
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    with pytest.raises(ValidationFailed):
        services.micro_cosign(actor=world.user("neighbour"), project=p)
    assert CoSigner.objects.filter(project=p).count() == 2


def test_outsider_cannot_propose_or_sign(world: World) -> None:
    with pytest.raises(PermissionDenied):
        propose(world, actor=world.user("stranger"))
    p = propose(world)
    with pytest.raises(PermissionDenied):
        services.micro_cosign(actor=world.user("stranger"), project=p)


def test_fast_track_deadlines_and_notices(
    world: World, submitted: MicroProject, django_capture_on_commit_callbacks: Any
) -> None:
    p = submitted
    assert p.status == S.PROPOSED
    assert p.review_due is not None and p.path_due is not None and p.submitted_at
    assert p.path_due - p.submitted_at == timedelta(days=7)
    assert p.review_due <= p.path_due
    MemorySender.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        p = services.micro_transition(actor=world.user("worker"), project=p, action="approve")
    assert p.filing_due is not None and p.path_due and p.filing_due <= p.path_due
    with pytest.raises(PermissionDenied):  # the community cannot file for the street
        services.micro_transition(actor=world.user("worker"), project=p, action="file")
    with django_capture_on_commit_callbacks(execute=True):
        p = services.micro_transition(actor=world.user("street_officer"), project=p, action="file")
    assert p.status == S.FILED and p.filed_at is not None
    # Three households with accounts, told at each of the two steps.
    assert len(MemorySender.outbox) == 6
    assert list(MicroStep.objects.filter(project=p).values_list("to_status", flat=True)) == [
        "proposed",
        "reviewed",
        "filed",
    ]


def test_rejection_needs_reason(world: World, submitted: MicroProject) -> None:
    with pytest.raises(ValidationFailed):
        services.micro_transition(actor=world.user("worker"), project=submitted, action="reject")
    submitted.refresh_from_db()
    assert submitted.status == S.PROPOSED
    p = services.micro_transition(
        actor=world.user("worker"), project=submitted, action="reject", reason="与消防通道冲突"
    )
    assert p.status == S.REJECTED and p.decision_reason == "与消防通道冲突"


def test_overdue_first_on_workbench(world: World, submitted: MicroProject) -> None:
    later = propose(world, title="另一个")
    MicroProject.objects.filter(pk=submitted.pk).update(
        review_due=timezone.now() - timedelta(hours=1)
    )
    rows = selectors.workbench_for(viewer=world.user("worker"))
    assert rows[0][0].pk == submitted.pk and rows[0][1] is not None and rows[0][1].overdue
    assert later.pk not in {p.pk for p, _d in rows}  # still gathering: nothing to do yet
    assert selectors.workbench_for(viewer=world.user("other_secretary")) == []


def test_staff_proposes_for_resident_with_channel(world: World) -> None:
    r = world.residents["neighbour"]
    with pytest.raises(ValidationFailed):  # 代办 needs a channel
        propose(world, actor=world.user("worker"), resident=r)
    p = propose(world, actor=world.user("worker"), resident=r, channel="counter")
    assert p.proposer_id == r.pk and p.channel == "counter"
    with pytest.raises(PermissionDenied):
        propose(world, actor=world.user("grid_worker"), resident=r, channel="counter")


def test_idempotent_propose(world: World) -> None:
    a = propose(world, idempotency_key="k-1")
    b = propose(world, idempotency_key="k-1")
    assert a.pk == b.pk and MicroProject.objects.count() == 1


def test_settings_bound_the_path(world: World) -> None:
    with pytest.raises(DomainError):
        services.settings_save(
            actor=world.user("secretary"),
            community=world.community,
            min_households=3,
            min_budget_fen=500_000,
            max_budget_fen=5_000_000,
            review_days=5,
            filing_days=5,
            total_days=7,
        )
    services.settings_save(
        actor=world.user("secretary"),
        community=world.community,
        min_households=2,
        min_budget_fen=100_000,
        max_budget_fen=5_000_000,
        review_days=3,
        filing_days=2,
        total_days=7,
    )
    p = propose(world, lines=[("花苗", "1500")])
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    p = services.micro_transition(actor=world.user("resident"), project=p, action="submit")
    assert p.status == S.PROPOSED
