"""One writer for the hand-written labelled splits (validation, held-out 1–3): each
split is a dict leaf → texts plus the texts that honestly belong to a second leaf
(``also``, a leaf a dispatcher could reasonably choose). Before this module every split
carried its own copy of the same row builder and file writer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"


def rows(texts: Mapping[str, Sequence[str]], also: Mapping[str, str]) -> list[dict[str, Any]]:
    """Labelled rows in leaf order; a text in ``also`` carries its second leaf."""
    out: list[dict[str, Any]] = []
    for code in sorted(texts):
        for text in texts[code]:
            row: dict[str, Any] = {"text": text, "label": code}
            if text in also:
                row["also"] = [also[text]]
            out.append(row)
    return out


def pairs(texts: Mapping[str, Sequence[str]], seed: int) -> list[dict[str, Any]]:
    """Duplicate pairs from a split's texts, the recipe of ``pairs.py`` with the split's
    own seed: 100 positives, 100 hard negatives, 20 place/time negatives."""
    from linli.insight.dataset.pairs import _pairs

    return _pairs({k: list(v) for k, v in texts.items()}, random.Random(seed), 100, 100)


def write_jsonl(name: str, data: Iterable[Mapping[str, Any]]) -> Path:
    path = DATA / name
    with path.open("w", encoding="utf-8") as fh:
        for r in data:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def write_split(
    name: str,
    texts: Mapping[str, Sequence[str]],
    also: Mapping[str, str],
    *,
    pairs_name: str,
    seed: int,
) -> None:
    """Write a split's labelled rows (``<name>.jsonl``) and its duplicate pairs."""
    write_jsonl(f"{name}.jsonl", rows(texts, also))
    write_jsonl(pairs_name, pairs(texts, seed))
