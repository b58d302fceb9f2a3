"""A site plan of one community drawn on the server as inline SVG: each building is placed
by its lat/lng, scaled from the community's bounding box into the drawing. No map tiles,
no internet: the resident taps the building (an SVG link, so it works without JS)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WIDTH = 320
HEIGHT = 220  # the smallest drawing; a crowded estate gets a taller one (never wider)
PAD = 36  # room for the boxes at the edges
BOX_W = 52  # fits "12幢" / "A3栋" at the plan's font size
BOX_H = 30
GAP = 4  # the least space between two boxes, so each stays a separate tap target


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
    both axes); None when no building has coordinates.

    No two boxes overlap, so each building stays tappable on a 360 px phone: the drawing
    is first scaled to fit 320 × 220; when that would pile boxes onto each other the
    scale grows until they clear (the drawing grows taller, never wider than the phone);
    and if even the full width is too tight, each box moves to the nearest free slot of
    a grid of box-sized cells, keeping the buildings' order from north to south and west
    to east."""
    placed = [b for b in buildings if b.lat is not None and b.lng is not None]
    if not placed:
        return None
    lats = [float(b.lat) for b in placed]
    lngs = [float(b.lng) for b in placed]
    mid_lat = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(mid_lat))  # a degree of longitude is shorter than of latitude
    # Positions in "degrees of latitude" east and south of the north-west corner.
    pts = [((lng - min(lngs)) * kx, max(lats) - lat) for lat, lng in zip(lats, lngs, strict=True)]
    span_x = max(p[0] for p in pts)
    span_y = max(p[1] for p in pts)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    fit_width = inner_w / span_x if span_x > 0 else math.inf
    fit_box = min(fit_width, inner_h / span_y if span_y > 0 else math.inf)
    scale = max(fit_box if fit_box != math.inf else 0.0, _clearing_scale(pts))
    # Even the phone's full width cannot separate them (or two share one spot).
    crowded = scale == math.inf or scale > fit_width
    scale = min(scale, fit_width) if fit_width != math.inf else scale
    if scale == math.inf:
        scale = 0.0
    height = max(HEIGHT, math.ceil(span_y * scale + 2 * PAD))
    off_x = PAD + (inner_w - span_x * scale) / 2
    off_y = PAD + (height - 2 * PAD - span_y * scale) / 2
    centres = [(off_x + x * scale, off_y + y * scale) for x, y in pts]
    if crowded:
        centres, height = _snap_to_free_cells(centres, height)
    out = [
        PlanBuilding(
            pk=b.pk,
            name=b.name,
            x=round(cx, 1),
            y=round(cy, 1),
            selected=b.pk == selected,
        )
        for b, (cx, cy) in zip(placed, centres, strict=True)
    ]
    return SitePlan(WIDTH, height, out)


def _clearing_scale(pts: list[tuple[float, float]]) -> float:
    """The least scale at which no two boxes overlap: a pair is clear once it is apart
    by a box and a gap on either axis. Quadratic, but an estate has at most a few
    hundred buildings."""
    need = 0.0
    for i, (x1, y1) in enumerate(pts):
        for x2, y2 in pts[i + 1 :]:
            dx, dy = abs(x1 - x2), abs(y1 - y2)
            by_x = (BOX_W + GAP) / dx if dx > 0 else math.inf
            by_y = (BOX_H + GAP) / dy if dy > 0 else math.inf
            pair = min(by_x, by_y)
            if pair == math.inf:  # the same spot twice: only the grid can separate them
                return math.inf
            need = max(need, pair)
    return need


def _snap_to_free_cells(
    centres: list[tuple[float, float]], height: int
) -> tuple[list[tuple[float, float]], int]:
    """Move each box to the nearest unused cell of a grid of box-sized cells, northern
    and western buildings first; the grid gets as many rows as it needs."""
    cell_w, cell_h = BOX_W + GAP, BOX_H + GAP
    cols = max(1, int((WIDTH - 2 * GAP) // cell_w))
    left = (WIDTH - cols * cell_w) / 2
    top = PAD - cell_h / 2
    taken: set[tuple[int, int]] = set()
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(centres)
    order = sorted(range(len(centres)), key=lambda i: (centres[i][1], centres[i][0]))
    for i in order:
        cx, cy = centres[i]
        want_c = min(cols - 1, max(0, int((cx - left) // cell_w)))
        want_r = max(0, int((cy - top) // cell_h))
        best: tuple[float, int, int] | None = None
        radius = 0
        while best is None or radius <= best[0] ** 0.5 + 1:
            for r in range(max(0, want_r - radius), want_r + radius + 1):
                for c in range(max(0, want_c - radius), min(cols, want_c + radius + 1)):
                    if (r, c) in taken:
                        continue
                    d = (r - want_r) ** 2 + (c - want_c) ** 2
                    if best is None or d < best[0]:
                        best = (d, r, c)
            radius += 1
        _d, row, col = best
        taken.add((row, col))
        out[i] = (left + col * cell_w + cell_w / 2, top + row * cell_h + cell_h / 2)
    bottom = max(y for _x, y in out) + BOX_H / 2 + PAD / 2
    return out, max(height, math.ceil(bottom))
