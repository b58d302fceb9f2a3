"""Template filters for amounts kept in fen."""

from __future__ import annotations

from typing import Any

from django import template

from linli.projects.money import fmt_fen

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """``1234567`` → ``12,345.67`` (the page adds 元 or ¥)."""
    if fen is None or fen == "":
        return ""
    return fmt_fen(int(fen))


@register.filter
def percent_of(part: Any, whole: Any) -> int:
    try:
        return 0 if not whole else round(100 * int(part) / int(whole))
    except (TypeError, ValueError):
        return 0
