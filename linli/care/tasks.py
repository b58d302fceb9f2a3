"""Background work: the care sweep (``manage.py care_sweep --enqueue`` puts it on the
task worker)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from linli.care.services import sweep


@task()
def care_sweep_task() -> dict[str, Any]:
    r = sweep()
    return {
        "devices": r.devices_checked,
        "alerts": dict(r.alerts),
        "recovered": r.recovered,
        "escalated": r.escalated,
        "visits_escalated": r.visits_escalated,
    }
