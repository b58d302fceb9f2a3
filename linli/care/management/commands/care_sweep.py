"""Run the care sweep: rules over every device (leaks, silence, and the care rules for
households on the roster), alert escalation down the ladder, overdue visits told to
the community. Every few minutes by cron/systemd; ``--enqueue`` hands it to the task
worker instead."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.care.services import sweep
from linli.care.tasks import care_sweep_task


class Command(BaseCommand):
    help = "关爱巡检：设备规则、报警逐级上报、走访超期上报。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = care_sweep_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        r = sweep()
        self.stdout.write(
            f"devices={r.devices_checked} alerts={dict(r.alerts)} recovered={r.recovered} "
            f"escalated={r.escalated} visits_escalated={r.visits_escalated} "
            f"in {time.perf_counter() - t0:.2f}s"
        )
