"""The product's one entry to the classifier: which model a community uses (its own
adopted model, else the starter model) and the unit kind of a suggested leaf. The
contract commands, the report form, triage and the API all call :func:`suggest`."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.db import DatabaseError

from linli.insight.classifier import Model, Prediction, starter
from linli.requests import catalog
from linli.requests.models import Category

_cache: dict[int, tuple[str, Model]] = {}
_lock = threading.Lock()


def _live() -> dict[str, Category]:
    """The active categories by code; empty before the tree is seeded (or without a
    migrated database: the contract commands also work on a bare checkout)."""
    try:
        return catalog._tree().by_code
    except DatabaseError:
        return {}


def unit_kind_for(code: str | None, live: dict[str, Category] | None = None) -> str | None:
    """The routing kind of a leaf: the live category's, else the starter tree's."""
    if not code:
        return None
    cat = (_live() if live is None else live).get(code)
    if cat is not None:
        return str(cat.responsible_kind)
    for _top, _name, leaves in catalog.TREE:
        for leaf in leaves:
            if leaf[0] == code:
                return str(leaf[3])
    return None


def model_for(community_id: int | None) -> Model:
    """The community's adopted model, if any, else the starter model (per-process
    cache keyed by the adopted model's digest)."""
    if community_id is None:
        return starter()
    from linli.insight.models import CommunityModel

    row = (
        CommunityModel.objects.filter(community_id=community_id, is_active=True)
        .values_list("digest", flat=True)
        .first()
    )
    if row is None:
        return starter()
    cached = _cache.get(community_id)
    if cached is not None and cached[0] == row:
        return cached[1]
    data = (
        CommunityModel.objects.filter(community_id=community_id, is_active=True)
        .values_list("data", flat=True)
        .first()
    )
    if data is None:
        return starter()
    model = Model.from_bytes(bytes(data))
    with _lock:
        _cache[community_id] = (row, model)
    return model


def suggest_many(texts: Sequence[str], *, community_id: int | None = None) -> list[Prediction]:
    model = model_for(community_id)
    preds = model.predict(list(texts))
    live = _live()
    for p in preds:
        p.unit_kind = unit_kind_for(p.category, live)
        if live and p.category is not None and p.category not in live and not p.needs_human:
            # A leaf the staff switched off in the admin: never route to it silently.
            p.reason = "low_confidence"
            p.needs_human = True
    return preds


def suggest(text: str, *, community_id: int | None = None) -> Prediction:
    return suggest_many([text], community_id=community_id)[0]
