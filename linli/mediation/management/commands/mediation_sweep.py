"""Send the mediation reminders that are due: follow-up visits (回访) 30 days after an
agreement, and the parties' reminder before the 30-day judicial-confirmation window
closes. Safe to re-run: each reminder goes out once per case."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.mediation.services import sweep_reminders
from linli.mediation.tasks import mediation_sweep_task


class Command(BaseCommand):
    help = "人民调解提醒：到期回访、司法确认期限。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = mediation_sweep_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        r = sweep_reminders()
        self.stdout.write(f"followups={r.followups} confirmations={r.confirmations}")
