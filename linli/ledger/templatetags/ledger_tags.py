"""Show time-bank minutes as hours (``90|hours`` → "1.5")."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def hours(minutes: int | None) -> str:
    if minutes is None:
        return "0"
    value = minutes / 60
    return f"{value:.0f}" if minutes % 60 == 0 else f"{value:.2f}".rstrip("0").rstrip(".")


@register.filter
def amount(value: int, currency: str) -> str:
    return hours(value) if currency == "minutes" else str(value)
