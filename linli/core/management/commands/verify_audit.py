"""Verify the audit log: every event's hash, every signed checkpoint (chain, signature,
Merkle root, sealed id list) and, with ``--published FILE``, that no checkpoint in a
copy downloaded earlier from /audit/checkpoints.jsonl was removed or changed."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.audit import verify_all


class Command(BaseCommand):
    help = "Verify the tamper-evident audit log (SPEC §0)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--published",
            action="append",
            default=[],
            help="a checkpoints.jsonl file downloaded earlier (may repeat)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        published: list[dict[str, Any]] = []
        for path in opts["published"]:
            try:
                with open(path, encoding="utf-8") as fh:
                    published += [json.loads(line) for line in fh if line.strip()]
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from exc
        result = verify_all(published=published)
        if not result.ok:
            raise CommandError(
                f"Audit log BROKEN at {result.first_break} ({result.events} events checked)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log OK: {result.checkpoints} checkpoints, {result.events} events "
                f"({result.unsealed} not yet sealed)."
            )
        )
