"""Assessment periods: a month ("2026-10"), a quarter ("2026-Q3") or a year ("2026").
Only periods that have ended can be assessed; the snapshot of a month is taken after
the month ends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.assessment.indicators import next_month
from linli.core.errors import ValidationFailed

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter", "year"
    year: int
    number: int  # month 1–12, quarter 1–4, or 0 for a year

    @property
    def months(self) -> list[date]:
        if self.kind == "month":
            return [date(self.year, self.number, 1)]
        if self.kind == "quarter":
            first = 3 * (self.number - 1) + 1
            return [date(self.year, m, 1) for m in range(first, first + 3)]
        return [date(self.year, m, 1) for m in range(1, 13)]

    @property
    def start(self) -> date:
        return self.months[0]

    @property
    def end(self) -> date:
        """The first day after the period."""
        return next_month(self.months[-1])

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(y)d年%(m)d月") % {"y": self.year, "m": self.number}
        if self.kind == "quarter":
            return _("%(y)d年第%(q)d季度") % {"y": self.year, "q": self.number}
        return _("%(y)d年") % {"y": self.year}

    def previous(self) -> Period:
        if self.kind == "month":
            y, m = (self.year - 1, 12) if self.number == 1 else (self.year, self.number - 1)
            return Period("month", y, m)
        if self.kind == "quarter":
            y, q = (self.year - 1, 4) if self.number == 1 else (self.year, self.number - 1)
            return Period("quarter", y, q)
        return Period("year", self.year - 1, 0)


def last_complete_month(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    prev = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return Period("month", prev.year, prev.month)


def parse(text: str | None, *, today: date | None = None) -> Period:
    """A period from its key; empty means the last complete month. A period that has
    not ended (or lies in the future) is refused: its figures are not final."""
    today = today or timezone.localdate()
    raw = (text or "").strip()
    if not raw:
        return last_complete_month(today)
    if m := _MONTH.match(raw):
        y, n = int(m[1]), int(m[2])
        if not 1 <= n <= 12:
            raise ValidationFailed(_("月份应在 1 到 12 之间。"), field="period")
        p = Period("month", y, n)
    elif m := _QUARTER.match(raw):
        p = Period("quarter", int(m[1]), int(m[2]))
    elif m := _YEAR.match(raw):
        p = Period("year", int(m[1]), 0)
    else:
        raise ValidationFailed(
            _("考核期格式应为 2026-10（月）、2026-Q3（季度）或 2026（年）。"), field="period"
        )
    if p.year < 2000:
        raise ValidationFailed(_("考核期过早。"), field="period")
    if p.start > today:
        raise ValidationFailed(_("考核期在未来，还没有数据。"), field="period")
    if p.end > today:
        raise ValidationFailed(
            _("%(p)s尚未结束，结束后才能考核。") % {"p": p.label}, field="period"
        )
    return p
