"""``manage.py backup DIR``: database + uploaded media + checksummed manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and every uploaded file into a new directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", help="a new (or empty) directory")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            result = backup(Path(opts["dest"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: {result.rows} rows, {result.files} media files."
            )
        )
