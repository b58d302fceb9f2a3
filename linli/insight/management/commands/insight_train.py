"""Rebuild the starter model (``data/starter_model.npz``) from the bundled training set
and the hand-written splits, calibrate it (temperature, threshold) on out-of-fold
predictions of the hand-written splits, and print those figures and the third held-out
split's (which only measures).
``--embed`` first re-embeds the bundled sets (needed after editing them; minutes)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.insight import classifier, embeddings


class Command(BaseCommand):
    help = "Train the starter category model from linli/insight/data and save it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--embed", action="store_true", help="re-embed the data sets")
        parser.add_argument("--dry-run", action="store_true", help="do not write the model")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["embed"]:
            for name in embeddings.STORED:
                t0 = time.perf_counter()
                n = embeddings.rebuild_store(name)
                self.stderr.write(f"embedded {name}: {n} texts in {time.perf_counter() - t0:.0f}s")
        t0 = time.perf_counter()
        model = classifier.build_starter()
        took = time.perf_counter() - t0
        if not opts["dry_run"]:
            classifier.STARTER_PATH.write_bytes(model.to_bytes())
            classifier.starter.cache_clear()
        out: dict[str, Any] = {
            "train_seconds": round(took, 1),
            "digest": model.digest(),
            "temperature": model.temperature,
            "threshold": model.threshold,
            "out_of_fold": model.meta.get("out_of_fold"),
        }
        rows = classifier.load_rows(classifier.DATA / classifier.MEASURE_SET)
        fig = classifier.evaluate(model, rows).as_dict()
        fig["confusions"] = fig["confusions"][:10]
        out["heldout3"] = fig
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=1))
