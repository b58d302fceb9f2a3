"""Quarters: parsing ("2026Q3", "2026-3"), their bounds in local time, and the clock
the services compare against (one function so tests can fix the day)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed

_today: ContextVar[date | None] = ContextVar("linli_propertyco_today", default=None)


def today() -> date:
    return _today.get() or timezone.localdate()


@contextmanager
def frozen(day: date) -> Iterator[None]:
    """Act as if today were ``day`` (this context only): tests and the demo."""
    token = _today.set(day)
    try:
        yield
    finally:
        _today.reset(token)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, raw: object) -> Quarter:
        """ "2026Q3", "2026-q3", "2026-3" or a Quarter; anything else is refused."""
        if isinstance(raw, Quarter):
            return raw
        text = str(raw or "").strip().upper().replace("-", "Q").replace("QQ", "Q")
        year_s, sep, q_s = text.partition("Q")
        if not sep or not year_s.isdigit() or not q_s.isdigit():
            raise ValidationFailed(_("季度格式应为“2026Q3”。"), field="quarter")
        year, q = int(year_s), int(q_s)
        if not (2000 <= year <= 2100) or not (1 <= q <= 4):
            raise ValidationFailed(_("季度格式应为“2026Q3”。"), field="quarter")
        return cls(year, q)

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def label(self) -> str:
        return _("%(year)s年第%(q)s季度") % {"year": self.year, "q": self.q}

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.q - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def prev(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes in local time (Asia/Shanghai)."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.first_day, time.min, tzinfo=tz),
            datetime.combine(self.next().first_day, time.min, tzinfo=tz),
        )

    def ended(self, on: date | None = None) -> bool:
        return self.last_day < (on or today())


def last_ended(on: date | None = None, count: int = 4) -> list[Quarter]:
    """The ``count`` most recent ended quarters, newest first."""
    q = Quarter.of(on or today()).prev()
    out = []
    for _i in range(count):
        out.append(q)
        q = q.prev()
    return out


def plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
