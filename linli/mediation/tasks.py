"""Background work: the reminder sweep (follow-up visits due, the judicial-confirmation
window closing), run once an hour or a day by cron/systemd through
``manage.py mediation_sweep --enqueue``, which enqueues this task for the db_worker."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.mediation.services import sweep_reminders


@task()
def mediation_sweep_task() -> dict[str, Any]:
    result = asdict(sweep_reminders())
    result.pop("case_ids", None)
    return result
