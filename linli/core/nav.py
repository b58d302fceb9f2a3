"""Navigation registry: each app registers its entries in ``AppConfig.ready`` so the
shared layout never needs editing when a capability is added."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    audience: str  # "resident" (phone home tiles) or "staff" (workbench menu)
    order: int = 100
    icon: str = "•"
    # Optional extra check, e.g. only secretaries see "授权管理".
    visible: Callable[[Any], bool] | None = None
    # Optional count shown on the tile (unread notices, ballots awaiting a vote): the
    # user -> one cheap query; None or 0 shows nothing. ``badge_text`` says what it
    # counts, with ``{n}`` for the number ("{n} 条未读公告").
    badge: Callable[[Any], int | None] | None = None
    badge_text: str | Promise = ""
    # Where the resident home puts the tile: "primary" (the big button on top),
    # "main" (the tiles) or "more" (under 更多).
    placement: str = "main"

    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return "#"


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _REGISTRY[item.key] = item


def items_for(audience: str, user: Any) -> list[NavItem]:
    out = [i for i in _REGISTRY.values() if i.audience == audience]
    out = [i for i in out if i.visible is None or i.visible(user)]
    return sorted(out, key=lambda i: (i.order, i.key))


@dataclass(frozen=True)
class Tile:
    """A nav item as one user sees it: with its count (0 when nothing is waiting)."""

    item: NavItem
    count: int = 0

    @property
    def count_text(self) -> str:
        return str(self.item.badge_text).format(n=self.count) if self.count else ""


def tiles_for(audience: str, user: Any) -> list[Tile]:
    """The visible items with their counts: one query per item that has a count."""
    out = []
    for item in items_for(audience, user):
        n = item.badge(user) if item.badge is not None else None
        out.append(Tile(item, max(int(n or 0), 0)))
    return out


# --------------------------------------------------------------------- urgency strips
# A strip of counts on top of the staff workbench (超时 n · 即将到期 n · 待受理 n ...),
# each linking to the filtered list. An app registers a provider: user -> cells, or
# None when the strip is not for this user.


@dataclass(frozen=True)
class Cell:
    label: str | Promise
    count: int
    url: str
    tone: str = ""  # "bad" (overdue), "warn" or "" — shown only when count > 0


@dataclass(frozen=True)
class Strip:
    key: str
    title: str | Promise
    cells: list[Cell]


StripProvider = Callable[[Any], "Strip | None"]
_STRIPS: dict[str, tuple[int, StripProvider]] = {}


def register_strip(key: str, provider: StripProvider, order: int = 100) -> None:
    _STRIPS[key] = (order, provider)


def strips_for(user: Any) -> list[Strip]:
    out = []
    for _order, provider in sorted(_STRIPS.values(), key=lambda p: p[0]):
        strip = provider(user)
        if strip is not None:
            out.append(strip)
    return out


def counted_cells(queryset: Any, specs: list[tuple[str | Promise, Any, str, str]]) -> list[Cell]:
    """Count every cell of a strip in ONE query over ``queryset`` (already scoped to
    the viewer): ``specs`` are (label, Q filter, url, tone)."""
    from django.db.models import Count

    agg = queryset.order_by().aggregate(
        **{f"c{i}": Count("pk", filter=q) for i, (_l, q, _u, _t) in enumerate(specs)}
    )
    return [
        Cell(label, int(agg[f"c{i}"] or 0), url, tone)
        for i, (label, _q, url, tone) in enumerate(specs)
    ]
