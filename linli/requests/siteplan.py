"""A site plan of one community drawn on the server as inline SVG: each building is placed
by its lat/lng, scaled from the community's bounding box into the drawing. No map tiles,
no internet: the resident taps the building (an SVG link, so it works without JS)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WIDTH = 320
HEIGHT = 220
PAD = 40  # room for the boxes at the edges
BOX_W = 64
BOX_H = 34


@dataclass(frozen=True)
class PlanBuilding:
    pk: int
    name: str
    x: float  # centre, SVG units
    y: float
    selected: bool

    # Pre-formatted SVG coordinates: never localised (a decimal comma would break SVG).
    @property
    def rect_x(self) -> str:
        return f"{self.x - BOX_W / 2:.1f}"

    @property
    def rect_y(self) -> str:
        return f"{self.y - BOX_H / 2:.1f}"

    @property
    def text_x(self) -> str:
        return f"{self.x:.1f}"

    @property
    def text_y(self) -> str:
        return f"{self.y + 6:.1f}"


@dataclass(frozen=True)
class SitePlan:
    width: int
    height: int
    buildings: list[PlanBuilding]
    box_w: int = BOX_W
    box_h: int = BOX_H


def site_plan(buildings: Iterable[Any], *, selected: int | None = None) -> SitePlan | None:
    """Buildings with a position, scaled into the SVG (north up, equal metres per unit on
    both axes); None when fewer than one building has coordinates."""
    placed = [b for b in buildings if b.lat is not None and b.lng is not None]
    if not placed:
        return None
    lats = [float(b.lat) for b in placed]
    lngs = [float(b.lng) for b in placed]
    mid_lat = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(mid_lat))  # a degree of longitude is shorter than of latitude
    span_x = (max(lngs) - min(lngs)) * kx
    span_y = max(lats) - min(lats)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    scale = min(
        inner_w / span_x if span_x > 0 else math.inf, inner_h / span_y if span_y > 0 else math.inf
    )
    if scale == math.inf:
        scale = 0.0
    off_x = PAD + (inner_w - span_x * scale) / 2
    off_y = PAD + (inner_h - span_y * scale) / 2
    out = [
        PlanBuilding(
            pk=b.pk,
            name=b.name,
            x=round(off_x + (float(b.lng) - min(lngs)) * kx * scale, 1),
            y=round(off_y + (max(lats) - float(b.lat)) * scale, 1),  # north up
            selected=b.pk == selected,
        )
        for b in placed
    ]
    return SitePlan(WIDTH, HEIGHT, out)
