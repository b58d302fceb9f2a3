"""Background work: pushing scheduled notices when their time comes (run every minute
by cron/systemd through ``manage.py send_due_notices --enqueue``, which enqueues this
task for the db_worker)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.notices.services import send_due_notices


@task()
def send_due_notices_task() -> dict[str, Any]:
    return asdict(send_due_notices())
