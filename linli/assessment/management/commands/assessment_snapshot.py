"""Take the monthly assessment snapshots (SPEC §8): by default the last complete
month, for every community that has none yet; ``--month 2026-10`` for another ended
month, ``--backfill N`` for the N months before. Safe to re-run: a month already
taken is kept as it is (recomputing one is a street officer's act with a reason)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.assessment.periods import last_complete_month, parse
from linli.assessment.services import snapshot_month
from linli.assessment.tasks import assessment_snapshot_task
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = "生成月度考核快照（默认上一个完整月份）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", default="", help="YYYY-MM (an ended month)")
        parser.add_argument("--backfill", type=int, default=0, help="also the N months before")
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")
        parser.add_argument("--no-notify", action="store_true", help="do not tell street staff")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = assessment_snapshot_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        try:
            period = parse(opts["month"]) if opts["month"] else last_complete_month()
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if period.kind != "month":
            raise CommandError("--month takes YYYY-MM")
        months = [period]
        for _i in range(max(0, opts["backfill"])):
            months.append(months[-1].previous())
        for p in reversed(months):
            run = snapshot_month(month=p.start, notify=not opts["no_notify"])
            self.stdout.write(
                f"{p.key}: created={run.created} kept={run.skipped} communities={run.communities}"
            )
