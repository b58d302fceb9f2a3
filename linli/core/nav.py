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
