"""Mark due-soon/overdue requests, escalate overdue ones, auto-close unrated ones, and
delete the photos of report forms abandoned more than two hours ago.

Run by cron or a systemd timer every 5 minutes. ``--enqueue`` hands the work to the
task worker (``manage.py db_worker``) instead of running it in this process."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.requests import pending
from linli.requests.services import sweep_deadlines
from linli.requests.tasks import sweep_deadlines_task


class Command(BaseCommand):
    help = "诉求时限巡检：标记即将到期/超时，超时升级督办，办结 7 天未评价自动关闭。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = sweep_deadlines_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        r = sweep_deadlines()
        purged = pending.purge_stale()  # photos of report forms abandoned > 2 h ago
        self.stdout.write(
            f"checked={r.checked} soon={r.due_soon} overdue={r.overdue} escalated={r.escalated} "
            f"auto_closed={r.auto_closed} pending_photos_purged={purged} "
            f"in {time.perf_counter() - t0:.2f}s"
        )
