"""Retrain per-community category models from staff corrections; a new model is
adopted only when it beats the one in use on held-out data. Run by cron or a systemd
timer (nightly is plenty). ``--enqueue`` hands the work to the task worker."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.insight.services import MIN_CORRECTIONS, retrain_all
from linli.insight.tasks import retrain_communities_task


class Command(BaseCommand):
    help = "按社区的类别更正重新训练分类模型（只有更好时才启用）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")
        parser.add_argument("--min-corrections", type=int, default=MIN_CORRECTIONS)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            result = retrain_communities_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        for r in retrain_all(min_corrections=opts["min_corrections"]):
            self.stdout.write(
                f"community={r.community_id} corrections={r.corrections} trained={r.trained} "
                f"adopted={r.adopted} accuracy={r.accuracy} baseline={r.baseline_accuracy} "
                f"{r.note}"
            )
        self.stdout.write(f"done in {time.perf_counter() - t0:.1f}s")
