"""Push (SMS/WeChat) every published notice whose publish time has come and that has
not been pushed yet. Idempotent: safe to run every minute, and twice at once.

``--enqueue`` hands the work to the task worker (``manage.py db_worker``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.notices.services import DUE_LOOKBACK_DAYS, send_due_notices
from linli.notices.tasks import send_due_notices_task


class Command(BaseCommand):
    help = "定时公告推送：把发布时间已到、尚未推送的公告通过短信/微信发出（可重复运行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")
        parser.add_argument(
            "--lookback-days",
            type=int,
            default=DUE_LOOKBACK_DAYS,
            help="do not push notices that became due longer ago than this",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = send_due_notices_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        r = send_due_notices(lookback_days=opts["lookback_days"])
        self.stdout.write(
            f"due={r.checked} sent={r.sent} recipients={r.recipients} "
            f"in {time.perf_counter() - t0:.2f}s"
        )
