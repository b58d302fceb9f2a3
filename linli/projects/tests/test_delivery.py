"""Delivery: phases, progress and delays, acceptance, ratings, evaluations and the
automatic funding cut after two failed evaluations in a row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import World
from linli.core.errors import Conflict, DomainError, ValidationFailed
from linli.core.notify import MemorySender
from linli.projects import services
from linli.projects.models import MicroProject
from linli.projects.services import delivery, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(world: World, submitted: MicroProject) -> MicroProject:
    p = services.micro_transition(actor=world.user("worker"), project=submitted, action="approve")
    p = services.micro_transition(actor=world.user("street_officer"), project=p, action="file")
    return services.micro_transition(actor=world.user("worker"), project=p, action="start")


def test_phases_progress_and_acceptance(
    world: World, running: MicroProject, client: Client
) -> None:
    worker = world.user("worker")
    today = timezone.localdate()
    late = delivery.phase_add(
        actor=worker,
        project=running,
        name="设计",
        owner="规划师",
        starts_on=today - timedelta(days=10),
        due_on=today - timedelta(days=3),
    )
    works = delivery.phase_add(
        actor=worker,
        project=running,
        name="施工",
        owner="施工队",
        starts_on=today,
        due_on=today + timedelta(days=14),
    )
    with pytest.raises(ValidationFailed):
        delivery.phase_add(
            actor=worker,
            project=running,
            name="x",
            owner="y",
            starts_on=today,
            due_on=today - timedelta(days=1),
        )
    with pytest.raises(ValidationFailed):
        delivery.phase_progress(actor=worker, phase=works, progress=101)
    delivery.phase_progress(actor=worker, phase=works, progress=50)
    body = client.get(reverse("projects:project_page", args=[running.pk])).content.decode()
    assert "逾期" in body and "实施进度 25%" in body and "张三" not in body
    with pytest.raises(DomainError):  # phases still open
        services.micro_transition(actor=worker, project=running, action="accept")
    delivery.phase_progress(actor=worker, phase=late, progress=100)
    delivery.phase_progress(actor=worker, phase=works, progress=100)
    p = services.micro_transition(actor=worker, project=running, action="accept")
    assert p.status == "delivered" and p.delivered_at is not None


def test_feedback_once_after_delivery(world: World, running: MicroProject) -> None:
    with pytest.raises(ValidationFailed):
        delivery.feedback_submit(actor=world.user("neighbour"), project=running, rating=5)
    p = services.micro_transition(actor=world.user("worker"), project=running, action="accept")
    with pytest.raises(ValidationFailed):
        delivery.feedback_submit(actor=world.user("neighbour"), project=p, rating=6)
    delivery.feedback_submit(actor=world.user("neighbour"), project=p, rating=4, comment="很好")
    with pytest.raises(Conflict):
        delivery.feedback_submit(actor=world.user("neighbour"), project=p, rating=5)


def test_two_failed_evaluations_cut_funding(
    world: World, running: MicroProject, django_capture_on_commit_callbacks: Any
) -> None:
    sec = world.user("secretary")
    fund.fund_income(
        actor=sec, community=world.community, source="grant", amount_yuan="10000", memo="g"
    )
    p = services.micro_transition(actor=world.user("worker"), project=running, action="accept")
    # Accepted but still paying the last bills: funding continues until cut.
    MicroProject.objects.filter(pk=p.pk).update(status="in_progress")
    p.refresh_from_db()
    fund.fund_expense(actor=sec, line=p.lines.get(position=2), amount_yuan="100", memo="尾款")
    MicroProject.objects.filter(pk=p.pk).update(status="delivered")
    p.refresh_from_db()
    delivery.evaluation_record(actor=sec, project=p, round="delivery", score=50, note="维护不到位")
    with pytest.raises(ValidationFailed) as exc:
        delivery.evaluation_record(actor=sec, project=p, round="six_months", score=40, note="x")
    assert exc.value.code == "too_early"
    MemorySender.outbox.clear()
    assert p.delivered_at is not None
    later = p.delivered_at + timedelta(days=183)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.evaluation_record(
            actor=sec, project=p, round="six_months", score=40, note="设施损坏未修", now=later
        )
    p.refresh_from_db()
    assert p.funding_cut
    assert any("停止资助" in m.subject for m in MemorySender.outbox)
    MicroProject.objects.filter(pk=p.pk).update(status="in_progress")
    p.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc2:
        fund.fund_expense(actor=sec, line=p.lines.get(position=2), amount_yuan="1", memo="x")
    assert exc2.value.code == "funding_cut"


def test_recurring_project_group_loses_funding_after_two_failed_evaluations_in_a_row(
    world: World, running: MicroProject, django_capture_on_commit_callbacks: Any
) -> None:
    """A recurring project (round 2 continues round 1, run by the same group): the last
    two evaluations of the *series* both failed — round 1's six-month one and round 2's
    first — so every round is cut at once, with an audit event and a notice each, and a
    third round is refused. One failure alone cuts nothing. Fixed clock throughout."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from linli.core import ratelimit
    from linli.core.models import AuditEvent
    from linli.projects.tests.conftest import propose

    t0 = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    sec = world.user("secretary")
    MicroProject.objects.filter(pk=running.pk).update(status="delivered", delivered_at=t0)
    r1 = MicroProject.objects.get(pk=running.pk)
    delivery.evaluation_record(
        actor=sec, project=r1, round="delivery", score=80, note="良好", now=t0 + timedelta(days=1)
    )
    delivery.evaluation_record(
        actor=sec,
        project=r1,
        round="six_months",
        score=50,
        note="维护不到位",
        now=t0 + timedelta(days=190),
    )
    r1.refresh_from_db()
    assert not r1.funding_cut  # passed, then failed: not two in a row
    with ratelimit.suspended():
        r2 = propose(world, title="楼道清洁（第二期）", continues=r1.pk)
        other = propose(world, title="小花园")
    assert r2.series_id == r1.pk and other.series_id is None
    t1 = t0 + timedelta(days=200)
    MicroProject.objects.filter(pk__in=[r2.pk, other.pk]).update(
        status="delivered", submitted_at=t1, review_due=t1, filed_at=t1, delivered_at=t1
    )
    r2.refresh_from_db()
    MemorySender.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        delivery.evaluation_record(
            actor=sec,
            project=r2,
            round="delivery",
            score=40,
            note="再次不合格",
            now=t1 + timedelta(days=1),
        )
    cut = dict(
        MicroProject.objects.filter(pk__in=[r1.pk, r2.pk, other.pk]).values_list(
            "pk", "funding_cut"
        )
    )
    assert cut == {r1.pk: True, r2.pk: True, other.pk: False}
    events = AuditEvent.objects.filter(action="projects.funding_cut")
    assert sorted(int(e.target_id) for e in events) == sorted([r1.pk, r2.pk])
    assert sum("本系列已停止资助" in m.body for m in MemorySender.outbox) >= 2
    # The group cannot start a third round.
    with ratelimit.suspended(), pytest.raises(ValidationFailed) as exc:
        propose(world, title="楼道清洁（第三期）", continues=r2.pk)
    assert exc.value.code == "series_cut"
    assert not MicroProject.objects.filter(title="楼道清洁（第三期）").exists()
