"""Yuan ↔ fen, exactly. Amounts are stored as integer fen; people type and read yuan.

``parse_yuan`` accepts "5000", "5000.5", "5,000.50", "¥5000" and refuses anything that
is not a plain positive amount with at most two decimals (no floats, no exponents)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed

# Far above any community budget; keeps a typo from becoming an overflow-sized number.
MAX_FEN = 10**12
_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


def parse_yuan(raw: Any, *, field: str = "amount", label: str = "") -> int:
    """A positive amount in yuan (text or int) as integer fen, or a clear refusal."""
    label = label or _("金额")
    if isinstance(raw, bool | float):
        # A float cannot hold 0.1 exactly; clients send text or whole numbers.
        raise ValidationFailed(_("%(l)s请用文字或整数表示。") % {"l": label}, field=field)
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, Decimal):
        text = format(raw, "f")
    else:
        text = str(raw or "").strip().replace(",", "").replace("，", "").lstrip("¥￥")
    if not _AMOUNT.match(text):
        raise ValidationFailed(
            _("%(l)s格式不正确：请填写金额（元），最多两位小数。") % {"l": label}, field=field
        )
    try:
        fen = int(Decimal(text) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValidationFailed(_("%(l)s格式不正确。") % {"l": label}, field=field) from exc
    if fen <= 0:
        raise ValidationFailed(_("%(l)s必须大于零。") % {"l": label}, field=field)
    if fen > MAX_FEN:
        raise ValidationFailed(_("%(l)s过大。") % {"l": label}, field=field)
    return fen


def fmt_fen(fen: int | None, *, grouped: bool = True) -> str:
    """``1234567`` → ``"12,345.67"`` (no currency sign)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    whole = f"{yuan:,}" if grouped else str(yuan)
    return f"{sign}{whole}.{cents:02d}"
