"""The monthly snapshot, run once a day (it only acts on months without snapshots) by
cron/systemd through ``manage.py assessment_snapshot --enqueue`` for the db_worker."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.assessment.periods import last_complete_month
from linli.assessment.services import snapshot_month


@task()
def assessment_snapshot_task() -> dict[str, Any]:
    run = snapshot_month(month=last_complete_month().start)
    out = asdict(run)
    out["month"] = run.month.isoformat()
    return out
