"""``manage.py restore DIR [--replace]``: restore a backup made by ``backup``, then run
the consistency checks (audit log, ledger, closed ballots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.backup import BackupError, restore, table_counts


class Command(BaseCommand):
    help = "Restore a backup (database and media) and verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", help="a directory written by manage.py backup")
        parser.add_argument(
            "--replace", action="store_true", help="overwrite a database that holds data"
        )
        parser.add_argument("--no-check", action="store_true", help="skip the checks")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            manifest = restore(Path(opts["src"]), replace=opts["replace"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = table_counts()
        differ = {
            t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n
        }
        if differ:
            raise CommandError(f"row counts differ after restore: {differ}")
        self.stdout.write(self.style.SUCCESS(f"Restored backup of {manifest['created_at']}."))
        if opts["no_check"]:
            return
        call_command("verify_audit", stdout=self.stdout)
        call_command("ledger_recompute", stdout=self.stdout)
        from linli.voting.models import Ballot

        if Ballot.objects.filter(status=Ballot.Status.CLOSED).exists():
            call_command("voting_recount", all_closed=True, stdout=self.stdout)
