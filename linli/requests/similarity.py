"""Offline, dependency-free duplicate scoring: character-bigram Jaccard similarity of the
descriptions (works for Chinese without word segmentation) and great-circle distance."""

from __future__ import annotations

import math
import re

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
EARTH_RADIUS_M = 6_371_000.0


def bigrams(text: str) -> set[str]:
    clean = _NOISE.sub("", text.lower())
    if len(clean) < 2:
        return {clean} if clean else set()
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = bigrams(a), bigrams(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


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
