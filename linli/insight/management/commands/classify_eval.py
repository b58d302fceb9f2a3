"""Contract: evaluate the product model on a labelled JSON Lines file
(``{"text", "label"}`` per line, optional ``"also": [codes]`` for an alternative a
dispatcher could reasonably choose): accuracy, macro-F1, top-level accuracy, the most
frequent confusion pairs, and accuracy and coverage above the confidence threshold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.insight.classifier import evaluate, load_rows
from linli.insight.suggest import model_for


class Command(BaseCommand):
    help = "Evaluate the category model on a labelled JSON Lines file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--community", type=int, default=None)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            rows = load_rows(path)
        except ValueError as exc:
            raise CommandError(f"{path}: not JSON Lines ({exc})") from exc
        bad = [i for i, r in enumerate(rows, 1) if not isinstance(r, dict) or "label" not in r]
        if bad or not rows:
            raise CommandError(f"{path}: every line needs text and label (lines {bad[:5]})")
        for r in rows:
            r["text"] = r.get("text") if isinstance(r.get("text"), str) else ""
        ev = evaluate(model_for(opts["community"]), rows)
        if opts["json"]:
            self.stdout.write(json.dumps(ev.as_dict(), ensure_ascii=False))
            return
        w = self.stdout.write
        w(f"texts              {ev.n}")
        w(
            f"accuracy           {ev.accuracy:.3f}  (strict, without accepted alternatives: "
            f"{ev.strict_accuracy:.3f})"
        )
        w(f"macro-F1           {ev.macro_f1:.3f}")
        w(f"top-level accuracy {ev.top_level_accuracy:.3f}")
        w(f"top-3 accuracy     {ev.top3_accuracy:.3f}")
        ca = "-" if ev.confident_accuracy is None else f"{ev.confident_accuracy:.3f}"
        w(f"threshold          {ev.threshold:.3f}")
        w(f"above threshold    accuracy {ca}, coverage {ev.coverage:.3f}")
        w("confusions (label -> predicted: count)")
        for a, b, n in ev.confusions[:15]:
            w(f"  {a} -> {b}: {n}")
