"""Recompute a ballot's tally from the audit chain alone and compare it with the
published result: ``manage.py voting_recount <ballot id> [--all-closed]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.voting.models import Ballot
from linli.voting.selectors import tally_verify


class Command(BaseCommand):
    help = "按审计链重新计票，并与公布结果比对。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ballot_ids", nargs="*", type=int)
        parser.add_argument("--all-closed", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        qs = Ballot.objects.select_related("community")
        if opts["all_closed"]:
            ballots = list(qs.filter(status=Ballot.Status.CLOSED).order_by("pk"))
        else:
            ballots = list(qs.filter(pk__in=opts["ballot_ids"]).order_by("pk"))
        if not ballots:
            raise CommandError("no ballot given (ids or --all-closed)")
        # The command runs as the platform (an operator with shell access sees all).
        system = User(username="system", is_superuser=True)
        bad = 0
        for b in ballots:
            v = tally_verify(viewer=system, ballot=b)
            line = (
                f"#{b.pk} {b.title}: {v.events} events, participants "
                f"{v.live.participants}/{v.replayed.participants}, "
                f"valid={v.replayed.valid} passed={v.replayed.passed}"
            )
            if v.ok:
                self.stdout.write(self.style.SUCCESS("OK   " + line))
            else:
                bad += 1
                self.stdout.write(self.style.ERROR("DIFF " + line + " " + "; ".join(v.differences)))
        if bad:
            raise CommandError(f"{bad} ballot(s) differ from the audit chain")
