"""Background work: the deadline sweep (run every few minutes by cron/systemd through
``manage.py sweep_deadlines``, which enqueues this task for the db_worker)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.requests import pending
from linli.requests.services import sweep_deadlines


@task()
def sweep_deadlines_task() -> dict[str, Any]:
    result = asdict(sweep_deadlines())
    result.pop("escalated_ids", None)
    result["pending_photos_purged"] = pending.purge_stale()
    return result
