"""The working-day calendar used by every time limit (SPEC §1: deadlines skip weekends
and configured holidays; worked weekend days 调休 count as working days).

All deadlines are computed here, on the server, in Asia/Shanghai local dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from linli.core.models import CalendarDay

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class WorkCalendar:
    """Loads the exceptions once; cheap to query many times (e.g. in a deadline sweep)."""

    def __init__(self) -> None:
        self.holidays: set[date] = set()
        self.workdays: set[date] = set()
        for d, kind in CalendarDay.objects.values_list("date", "kind"):
            (self.holidays if kind == CalendarDay.Kind.HOLIDAY else self.workdays).add(d)

    def is_working_day(self, d: date) -> bool:
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        return d.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time of day, ``days`` working days after ``start``.

        A start on a non-working day counts from the next working day's start of day,
        as hotline rules count a weekend report from Monday.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        local = start.astimezone(LOCAL_TZ)
        d = local.date()
        if not self.is_working_day(d):
            while not self.is_working_day(d):
                d += timedelta(days=1)
            local = datetime(d.year, d.month, d.day, 0, 0, tzinfo=LOCAL_TZ)
        remaining = days
        while remaining > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                remaining -= 1
        return local.replace(year=d.year, month=d.month, day=d.day).astimezone(start.tzinfo)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        n = 0
        d = start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n += 1
        return n


def add_hours(start: datetime, hours: int) -> datetime:
    """Clock hours: the 24 h / 48 h limits run through nights and weekends."""
    return start + timedelta(hours=hours)
