"""Recompute every audit hash chain; exit 1 and name the first broken link if any."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from linli.core.audit import verify_all


class Command(BaseCommand):
    help = "Verify the tamper-evident audit chain (SPEC §0)."

    def handle(self, *args: Any, **opts: Any) -> None:
        result = verify_all()
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at {result.first_break} ({result.events} events checked)"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain OK: {result.chains} chains, {result.events} events.")
        )
