"""Refuse over-long user text instead of cutting it silently.

Services call :func:`within` on every piece of text a person typed; a cut would lose what
they wrote without telling them. Text the system itself builds may still be shortened."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import ValidationFailed


def within(value: str | None, *, field: str, limit: int, label: str = "") -> str:
    """Return ``value`` stripped, or raise :class:`ValidationFailed` naming the field and
    the limit when it is longer than ``limit`` characters. Nothing is written."""
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(
            _("%(label)s最多%(limit)s字，您输入了%(n)s字，请删减后再提交。")
            % {"label": label or _("内容"), "limit": limit, "n": len(text)},
            field=field,
            details={"limit": limit, "length": len(text)},
        )
    return text
