"""Fixtures for insight tests: the starter categories, small training subsets (texts
whose embeddings ship with the data, so nothing slow is embedded) and a helper that
submits a request as the world's resident."""

from __future__ import annotations

from typing import Any

import pytest

from linli.insight import classifier
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, ServiceRequest
from linli.requests.services import request_submit


@pytest.fixture
def cats(db: Any) -> dict[str, Category]:
    ensure_categories()
    return {c.code: c for c in Category.objects.all()}


def subset(per_class: int, *, offset: int = 0) -> list[dict[str, Any]]:
    """``per_class`` training rows of every leaf (deterministic)."""
    rows = classifier.load_rows(classifier.DATA / "train.jsonl")
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        n = seen.get(r["label"], 0)
        seen[r["label"]] = n + 1
        if offset <= n < offset + per_class:
            out.append(r)
    return out


@pytest.fixture
def submit(world: Any, cats: dict[str, Category]) -> Any:
    def _submit(code: str, text: str, **kw: Any) -> ServiceRequest:
        kw.setdefault("building", world.building)
        return request_submit(
            actor=world.user(kw.pop("user", "resident")),
            category=cats[code],
            description=text,
            **kw,
        )

    return _submit
