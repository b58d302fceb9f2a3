"""Alert handling on a fixed clock: the escalation ladder, who may acknowledge,
resolving with an outcome, held alerts, false-alarm rates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linli.care import rules, selectors, services
from linli.care.models import Alert, AlertStep
from linli.care.rules import Point, Verdict
from linli.care.tests.conftest import NOW, Care
from linli.core.errors import DomainError, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.core.notify import MemorySender

pytestmark = pytest.mark.django_db


def _raise(care: Care, rule: str = "sos", *, now: Any = NOW, device: Any = None) -> Alert:
    v = Verdict(rule, "一键呼救 1 次", [Point(1, now, 1, rule)])
    alert = services.raise_alert(
        device=device or care.sos, verdict=v, subject=care.subject, now=now
    )
    assert alert is not None
    return alert


def _rungs(alert: Alert) -> list[str]:
    return list(
        AlertStep.objects.filter(alert=alert).order_by("step").values_list("rung", flat=True)
    )


def test_ladder_escalates_every_15_minutes_until_the_street(care: Care) -> None:
    alert = _raise(care)
    assert alert.step == 0 and alert.ack_due_at == NOW + timedelta(minutes=15)
    assert services.sweep_escalations(now=NOW + timedelta(minutes=14)) == 0
    assert services.sweep_escalations(now=NOW + timedelta(minutes=15)) == 1
    assert _rungs(alert) == ["worker", "volunteer"]
    assert services.sweep_escalations(now=NOW + timedelta(minutes=31)) == 1
    assert services.sweep_escalations(now=NOW + timedelta(minutes=47)) == 1
    assert _rungs(alert) == ["worker", "volunteer", "duty", "street"]
    # Past the last rung: the deadline is cleared, nothing further.
    services.sweep_escalations(now=NOW + timedelta(minutes=63))
    alert.refresh_from_db()
    assert alert.step == 3 and alert.ack_due_at is None
    assert services.sweep_escalations(now=NOW + timedelta(hours=5)) == 0
    events = AuditEvent.objects.filter(action="care.alert.escalate", target_id=str(alert.pk))
    assert events.count() == 4


def test_empty_rung_is_skipped(care: Care) -> None:
    care.subject.volunteer = None
    care.subject.save()
    alert = _raise(care)
    services.sweep_escalations(now=NOW + timedelta(minutes=16))
    assert _rungs(alert) == ["worker", "duty"]


def test_acknowledged_alert_stops_escalating(care: Care) -> None:
    alert = _raise(care)
    services.alert_acknowledge(actor=care.world.user("neighbour"), alert=alert, now=NOW)
    assert services.sweep_escalations(now=NOW + timedelta(hours=1)) == 0
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == care.world.user("neighbour")


@pytest.mark.parametrize(
    "who", ["stranger", "grid2_worker", "other_secretary", "property", "resident"]
)
def test_acknowledgement_only_by_someone_on_the_ladder(care: Care, who: str) -> None:
    alert = _raise(care)
    with pytest.raises(DomainError) as exc:
        services.alert_acknowledge(actor=care.world.user(who), alert=alert)
    assert isinstance(exc.value, PermissionDenied) or exc.value.status == 404
    alert.refresh_from_db()
    assert alert.status == "open" and alert.acknowledged_by is None


@pytest.mark.parametrize(
    "who", ["grid_worker", "neighbour", "worker", "secretary", "street_officer"]
)
def test_everyone_on_the_ladder_may_acknowledge(care: Care, who: str) -> None:
    alert = _raise(care)
    services.alert_acknowledge(actor=care.world.user(who), alert=alert)
    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


def test_resolve_needs_an_outcome(care: Care) -> None:
    alert = _raise(care)
    with pytest.raises(ValidationFailed):
        services.alert_resolve(actor=care.world.user("grid_worker"), alert=alert, outcome="")
    with pytest.raises(ValidationFailed):
        services.alert_resolve(
            actor=care.world.user("grid_worker"), alert=alert, outcome="repaired"
        )
    assert Alert.objects.get(pk=alert.pk).status == "open"
    services.alert_resolve(
        actor=care.world.user("grid_worker"), alert=alert, outcome="fine", note="老人在午睡"
    )
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.outcome == "fine" and alert.acknowledged_at


def test_false_alarm_rate_per_rule(care: Care) -> None:
    gw = care.world.user("grid_worker")
    for i, outcome in enumerate(["false_alarm", "false_alarm", "fine", "helped"]):
        a = _raise(care, now=NOW + timedelta(hours=i))
        services.alert_resolve(actor=gw, alert=a, outcome=outcome)
    _raise(care, now=NOW + timedelta(hours=9))
    rates = {
        r.rule: r for r in selectors.false_alarm_rates(gw, community_id=care.world.community.pk)
    }
    assert rates["sos"].total == 4 and rates["sos"].false_alarms == 2 and rates["sos"].rate == 50.0
    assert rates["sos"].open == 1 and rates["leak"].rate is None
    assert (
        selectors.false_alarm_rates(
            care.world.user("other_secretary"), community_id=care.world.community.pk
        )
        == []
    )


def test_held_alert_released_starts_the_ladder(
    care: Care, django_capture_on_commit_callbacks: Any
) -> None:
    services.away_set(
        actor=care.world.user("grid_worker"),
        subject=care.subject,
        until=NOW + timedelta(days=3),
        channel="phone",
        now=NOW,
    )
    alert = _raise(care, "no_water", device=care.meter)
    assert alert.status == "held" and not AlertStep.objects.exists()
    assert services.sweep_escalations(now=NOW + timedelta(hours=2)) == 0
    MemorySender.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_release(actor=care.world.user("grid_worker"), alert=alert, now=NOW)
    alert.refresh_from_db()
    assert alert.status == "open" and _rungs(alert) == ["worker"]
    assert any(m.to == "13900001111" for m in MemorySender.outbox)


def test_storm_of_duplicate_alarms_is_one_alert_in_the_database(care: Care) -> None:
    first = _raise(care)
    v = Verdict("sos", "x", [Point(2, NOW, 1, "sos")])
    for _i in range(50):
        assert (
            services.raise_alert(
                device=care.sos, verdict=v, subject=care.subject, now=NOW, repeats=1
            )
            is None
        )
    assert Alert.objects.filter(device=care.sos, rule="sos").count() == 1
    first.refresh_from_db()
    assert first.repeats == 50
    # Once resolved, a new alarm is a new alert.
    services.alert_resolve(actor=care.world.user("grid_worker"), alert=first, outcome="false_alarm")
    assert (
        services.raise_alert(device=care.sos, verdict=v, subject=care.subject, now=NOW) is not None
    )


def test_maintenance_alert_has_no_ladder_and_recovers(care: Care) -> None:
    v = rules.silent(
        None,
        registered_at=NOW - timedelta(days=3),
        kind="water_meter",
        now=NOW,
        t=rules.Thresholds(),
    )
    assert v is not None
    alert = services.raise_alert(device=care.meter, verdict=v, subject=care.subject, now=NOW)
    assert alert is not None and alert.maintenance and alert.ack_due_at is None
    assert not AlertStep.objects.filter(alert=alert).exists()
    services.alert_recover(alert=alert, now=NOW + timedelta(hours=1))
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.outcome == "recovered"
