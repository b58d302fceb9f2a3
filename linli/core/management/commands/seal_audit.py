"""Seal new audit events into signed checkpoints. Run every minute (cron/systemd), or
with ``--enqueue`` to hand the work to the db_worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core import audit


class Command(BaseCommand):
    help = "Seal new audit events into a signed Merkle checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="run in the task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["enqueue"]:
            from linli.core.tasks import seal_audit_task

            seal_audit_task.enqueue()
            self.stdout.write("queued")
            return
        made = audit.seal_all()
        if not made:
            self.stdout.write("nothing new to seal")
        for cp in made:
            self.stdout.write(
                f"checkpoint #{cp.seq}: events {cp.after_id + 1}..{cp.last_id} "
                f"({cp.count}), root {cp.merkle_root[:16]}…"
            )
