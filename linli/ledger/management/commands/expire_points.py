"""Lapse points past each community's validity period (LedgerSettings.points_valid_months).

Run once a night by cron or a systemd timer. ``--enqueue`` hands the work to the task
worker (``manage.py db_worker``) instead of running it in this process. Safe to re-run:
a second run on the same day expires nothing more."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.communities.models import OrgUnit
from linli.ledger.services import points_expire
from linli.ledger.tasks import expire_points_task


class Command(BaseCommand):
    help = "积分过期：按各社区设置的有效期，先进先出清零超期未用的积分。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", type=int, help="only this community (OrgUnit id)")
        parser.add_argument("--enqueue", action="store_true", help="enqueue for the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        cid = opts.get("community")
        community = None
        if cid:
            community = OrgUnit.objects.filter(pk=cid, kind="community").first()
            if community is None:
                raise CommandError(f"no community with id {cid}")
        if opts["enqueue"]:
            result = expire_points_task.enqueue(community_id=cid)
            self.stdout.write(f"enqueued {result.id}")
            return
        t0 = time.perf_counter()
        r = points_expire(actor=None, community=community)
        self.stdout.write(
            f"communities={r.communities} accounts={r.accounts} points={r.points} "
            f"in {time.perf_counter() - t0:.2f}s"
        )
