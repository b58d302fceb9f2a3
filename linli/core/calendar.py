"""The working-day calendar used by every time limit (SPEC §1: deadlines skip weekends
and configured holidays; worked weekend days 调休 count as working days).

All deadlines are computed here, on the server, in Asia/Shanghai local dates.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models.signals import post_delete, post_save

from linli.core.models import CalendarDay

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Another process's edit of the calendar is seen after at most this long; this
# process's own edits drop the cache at once (signals below).
CACHE_SECONDS = 60.0

_cache: tuple[float, WorkCalendar] | None = None
_cache_lock = threading.Lock()


def clear_cache(*args: Any, **kwargs: Any) -> None:
    """Forget the per-process calendar (connected to CalendarDay saves and deletes)."""
    global _cache
    with _cache_lock:
        _cache = None


post_save.connect(clear_cache, sender=CalendarDay, dispatch_uid="workcalendar_cache_save")
post_delete.connect(clear_cache, sender=CalendarDay, dispatch_uid="workcalendar_cache_delete")


class WorkCalendar:
    """Loads the exceptions once; cheap to query many times (e.g. in a deadline sweep).

    :meth:`cached` shares one instance per process (a hot write then reads no
    calendar rows); treat it as read-only."""

    @classmethod
    def cached(cls) -> WorkCalendar:
        global _cache
        now = time.monotonic()
        entry = _cache
        if entry is not None and now - entry[0] < CACHE_SECONDS:
            return entry[1]
        cal = cls()
        with _cache_lock:
            _cache = (now, cal)
        return cal

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
