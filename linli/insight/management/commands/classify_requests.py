"""Contract: JSON Lines on standard input, one ``{"id": …, "text": …}`` per line →
one ``{"id", "category", "unit_kind", "confidence", "alternatives"}`` per line on
standard output (plus ``needs_human`` and ``reason``), with exactly the model the
product uses (``--community`` picks a community's adopted model). A line that is not
a JSON object with a text still gets an answer line (category null, reason)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.insight.suggest import suggest_many

BATCH = 64


class Command(BaseCommand):
    help = "Classify request texts read as JSON Lines from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        batch: list[tuple[Any, str]] = []
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                ident, text = obj.get("id"), obj.get("text")
            else:
                ident, text = None, None
            batch.append((ident, text if isinstance(text, str) else ""))
            if len(batch) >= BATCH:
                self._flush(batch, opts["community"])
                batch = []
        self._flush(batch, opts["community"])

    def _flush(self, batch: list[tuple[Any, str]], community: int | None) -> None:
        if not batch:
            return
        preds = suggest_many([t for _i, t in batch], community_id=community)
        for (ident, _t), p in zip(batch, preds, strict=True):
            self.stdout.write(json.dumps(p.as_contract(ident), ensure_ascii=False))
        self.stdout.flush()
