"""Duplicate scoring: text meaning (``linli.insight.semantic``: multilingual-e5
embeddings + agreement of the category model, offline on the CPU) and great-circle
distance. The place and time window are applied by the callers' queries."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000.0
# Two texts at or above this meaning similarity describe the same problem: the same
# value as linli.insight.semantic.THRESHOLD (chosen on labelled pairs, see
# linli/insight/README.md; an insight test keeps the two equal).
MIN_SIMILARITY = 0.42


def text_similarity(a: str, b: str) -> float:
    """0..1: how likely the two request texts describe the same problem."""
    from linli.insight.semantic import meaning

    return meaning(a, b)


def text_similarities(text: str, others: list[str]) -> list[float]:
    """:func:`text_similarity` of ``text`` to each of ``others`` (one batch)."""
    from linli.insight.semantic import meaning_to_many

    return meaning_to_many(text, others)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def degree_box(lat: float, metres: float) -> tuple[float, float]:
    """Half-widths in degrees of a box that contains a circle of ``metres`` radius."""
    dlat = metres / 111_320.0
    dlng = metres / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
    return dlat, dlng
