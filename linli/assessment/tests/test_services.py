"""Weights, expert scores, snapshots and recomputation through the services: each
refusal changes nothing; each accepted write is audited; history keeps its weights."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from linli.accounts.models import Membership, Role
from linli.assessment import services
from linli.assessment.models import ExpertScore, Snapshot, WeightSet
from linli.assessment.periods import Period
from linli.assessment.tests.conftest import MARCH, SH
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.core.notify import MemorySender

GOOD = {
    "w_satisfaction": 50,
    "w_participation": 25,
    "w_conflict": 25,
    "w_awareness": 40,
    "w_normativity": 30,
    "w_openness": 30,
    "outcome_share": 70,
    "resident_share": 60,
    "min_sample": 10,
}
APRIL_10 = datetime(2026, 4, 10, 9, 0, tzinfo=SH)


@pytest.fixture
def district_officer(world: Any) -> Any:
    from conftest import make_user

    u = make_user("district_officer")
    Membership.objects.create(user=u, role=Role.STREET_OFFICER, unit=world.district)
    return u


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"w_conflict": 20}, "结果指标的三项权重之和须为 100%，现在是 95%"),
        ({"w_openness": 40}, "过程指标的三项权重之和须为 100%，现在是 110%"),
        ({"w_satisfaction": "四十"}, "须为整数"),
        ({"outcome_share": 120}, "0 到 100"),
        ({"min_sample": 0}, "1 到 10000"),
    ],
)
def test_bad_weights_are_refused_and_change_nothing(
    world: Any, district_officer: Any, change: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.weights_create(
            actor=district_officer, district=world.district, values={**GOOD, **change}
        )
    assert needle in str(exc.value.message)
    assert not WeightSet.objects.filter(district=world.district).exists()
    assert not AuditEvent.objects.filter(action="assessment.weights").exists()


def test_weights_are_versioned_audited_and_idempotent(world: Any, district_officer: Any) -> None:
    a = services.weights_create(
        actor=district_officer, district=world.district, values=GOOD, idempotency_key="k1"
    )
    again = services.weights_create(
        actor=district_officer, district=world.district, values=GOOD, idempotency_key="k1"
    )
    b = services.weights_create(
        actor=district_officer,
        district=world.district,
        values={**GOOD, "w_satisfaction": 40, "w_participation": 35},
    )
    assert again.pk == a.pk
    assert (a.version, b.version) == (1, 2)
    assert services.weights_for(world.district.pk).pk == b.pk
    assert AuditEvent.objects.filter(action="assessment.weights").count() == 2


@pytest.mark.parametrize("who", ["street_officer", "secretary", "grid_worker", "resident"])
def test_only_district_level_sets_weights(world: Any, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.weights_create(actor=world.user(who), district=world.district, values=GOOD)
    assert not WeightSet.objects.filter(district=world.district).exists()


def test_admin_sets_weights(world: Any) -> None:
    ws = services.weights_create(
        actor=world.user("platform_admin"), district=world.district, values=GOOD
    )
    assert ws.version == 1 and ws.w_satisfaction == 50


def test_expert_score_rules(world: Any) -> None:
    officer = world.user("street_officer")
    row = services.expert_score_record(
        actor=officer,
        community=world.community,
        month=MARCH,
        kind="professional",
        score=82,
        basis="台账齐全，走访记录完整",
    )
    # The same entry sent again returns it; a different one is refused.
    same = services.expert_score_record(
        actor=officer,
        community=world.community,
        month=MARCH,
        kind="professional",
        score=82,
        basis="台账齐全，走访记录完整",
    )
    assert same.pk == row.pk
    with pytest.raises(ValidationFailed):
        services.expert_score_record(
            actor=officer,
            community=world.community,
            month=MARCH,
            kind="professional",
            score=60,
            basis="改主意了",
        )
    bad: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"score": 101}, ValidationFailed),
        ({"basis": ""}, ValidationFailed),
        ({"kind": "guess"}, ValidationFailed),
        ({"month": timezone.localdate() + timedelta(days=40)}, ValidationFailed),
        ({"community": world.other_community}, PermissionDenied),
    ]
    for change, error in bad:
        kw: dict[str, Any] = {
            "actor": officer,
            "community": world.community,
            "month": date(2026, 2, 1),
            "kind": "professional",
            "score": 80,
            "basis": "检查记录",
            **change,
        }
        with pytest.raises(error):
            services.expert_score_record(**kw)
    with pytest.raises(PermissionDenied):  # the community's own staff cannot score it
        services.expert_score_record(
            actor=world.user("secretary"),
            community=world.community,
            month=MARCH,
            kind="professional",
            score=99,
            basis="自评",
        )
    assert ExpertScore.objects.count() == 1
    assert AuditEvent.objects.filter(action="assessment.expert_score").count() == 1


def test_snapshot_refuses_a_month_not_ended(world: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.snapshot_month(month=date(2026, 4, 1), now=APRIL_10)
    assert not Snapshot.objects.exists()


@override_settings(LINLI_NOTIFIER="linli.core.notify.MemorySender")
def test_snapshot_creates_once_and_tells_the_street(
    world: Any, march: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.snapshot_month(month=MARCH, now=APRIL_10)
    assert run.created == 2  # both communities of the world
    s = Snapshot.objects.get(community=world.community, month=MARCH)
    assert s.current and s.revision == 1
    assert s.figures["req_total"] == 6
    assert s.weight_set == services.default_weights()
    assert s.street_id == world.street.pk and s.district_id == world.district.pk
    msgs = [m for m in MemorySender.outbox if m.subject == "月度考核报表"]
    assert {m.to for m in msgs} == {"street_officer", "other_street_officer"}
    assert f"/assessment/u/{world.street.pk}/export.xlsx?period=2026-03" in " ".join(
        m.body for m in msgs
    )
    # Run again: nothing recomputed, even after the weights changed.
    services.weights_create(
        actor=world.user("platform_admin"), district=world.district, values=GOOD
    )
    again = services.snapshot_month(month=MARCH, now=APRIL_10)
    assert (again.created, again.skipped) == (0, 2)
    assert (
        Snapshot.objects.get(community=world.community, month=MARCH).weight_set_id
        == s.weight_set_id
    )


def test_recompute_keeps_history_and_names_new_weights(world: Any, march: Any) -> None:
    services.snapshot_month(month=MARCH, now=APRIL_10, notify=False)
    first = Snapshot.objects.get(community=world.community, month=MARCH)
    new_ws = services.weights_create(
        actor=world.user("platform_admin"), district=world.district, values=GOOD
    )
    p = Period("month", 2026, 3)
    with pytest.raises(ValidationFailed):  # a reason is required
        services.snapshot_recompute(
            actor=world.user("street_officer"), community=world.community, period=p, reason=""
        )
    with pytest.raises(PermissionDenied):
        services.snapshot_recompute(
            actor=world.user("secretary"), community=world.community, period=p, reason="想重算一下"
        )
    assert Snapshot.objects.filter(community=world.community).count() == 1
    row = services.snapshot_recompute(
        actor=world.user("street_officer"),
        community=world.community,
        period=p,
        reason="区里调整了满意度权重",
    )
    assert row.revision == 2 and row.current and row.weight_set_id == new_ws.pk
    first.refresh_from_db()
    assert not first.current and first.revision == 1
    ev = AuditEvent.objects.get(action="assessment.recompute")
    assert ev.payload["reason"] == "区里调整了满意度权重"
    assert ev.payload["previous_score"] == str(first.score)


def test_recompute_sent_twice_makes_one_revision(world: Any, march: Any) -> None:
    services.snapshot_month(month=MARCH, now=APRIL_10, notify=False)
    p = Period("month", 2026, 3)
    kw = {
        "actor": world.user("street_officer"),
        "community": world.community,
        "period": p,
        "reason": "专业评估补录后重算",
    }
    a = services.snapshot_recompute(**kw)
    b = services.snapshot_recompute(**kw)
    assert a.pk == b.pk and a.revision == 2
    assert Snapshot.objects.filter(community=world.community, month=MARCH).count() == 2
    assert AuditEvent.objects.filter(action="assessment.recompute").count() == 1


def test_statement_budgets_of_the_assessment_writes(world: Any) -> None:
    """Weights and expert scores: a handful of statements each, whatever the data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = world.user("platform_admin")
    officer = world.user("street_officer")
    services.default_weights()
    with CaptureQueriesContext(connection) as q:
        services.weights_create(actor=admin, district=world.district, values=GOOD)
    assert len(q.captured_queries) <= 8, [x["sql"][:70] for x in q.captured_queries]
    with CaptureQueriesContext(connection) as q:
        services.expert_score_record(
            actor=officer,
            community=world.community,
            month=MARCH,
            kind="professional",
            score=80,
            basis="台账检查",
        )
    assert len(q.captured_queries) <= 6, [x["sql"][:70] for x in q.captured_queries]
