"""Record no-shows: confirmed bookings nobody picked up 30 minutes after the start.

Run every few minutes by cron or a systemd timer; ``--enqueue`` hands the work to the
task worker (``manage.py db_worker``). Safe to re-run: a booking is recorded once (the
state machine refuses a second no-show)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.resources.services import no_show_sweep
from linli.resources.tasks import no_show_sweep_task


class Command(BaseCommand):
    help = "资源预约：开始 30 分钟后仍未取用的预约记为爽约（扣除押金）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = no_show_sweep_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        n = no_show_sweep()
        self.stdout.write(f"no_shows={n} in {time.perf_counter() - t0:.2f}s")
