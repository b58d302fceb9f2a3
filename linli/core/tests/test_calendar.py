from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from linli.core.calendar import WorkCalendar, add_hours
from linli.core.models import CalendarDay

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_weekends_are_skipped() -> None:
    cal = WorkCalendar()
    fri = datetime(2026, 11, 20, 15, 0, tzinfo=SH)  # a Friday
    assert cal.add_working_days(fri, 1) == datetime(2026, 11, 23, 15, 0, tzinfo=SH)
    assert cal.add_working_days(fri, 7) == datetime(2026, 12, 1, 15, 0, tzinfo=SH)


def test_holidays_and_makeup_workdays() -> None:
    CalendarDay.objects.create(date=date(2026, 10, 1), kind="holiday", name="国庆")
    CalendarDay.objects.create(date=date(2026, 10, 2), kind="holiday", name="国庆")
    CalendarDay.objects.create(date=date(2026, 10, 10), kind="workday", name="调休")  # Saturday
    cal = WorkCalendar()
    wed = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    # Oct 1-2 off, 3-4 weekend, then 5,6,7,8,9 and the make-up Saturday 10th.
    assert cal.add_working_days(wed, 1) == datetime(2026, 10, 5, 10, 0, tzinfo=SH)
    assert cal.add_working_days(wed, 6) == datetime(2026, 10, 10, 10, 0, tzinfo=SH)
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 10, 10))


def test_start_on_weekend_counts_from_next_working_day() -> None:
    cal = WorkCalendar()
    sat = datetime(2026, 11, 21, 22, 0, tzinfo=SH)
    assert cal.add_working_days(sat, 1) == datetime(2026, 11, 24, 0, 0, tzinfo=SH)


def test_clock_hours_run_through_weekends() -> None:
    fri = datetime(2026, 11, 20, 15, 0, tzinfo=SH)
    assert add_hours(fri, 48) == datetime(2026, 11, 22, 15, 0, tzinfo=SH)
