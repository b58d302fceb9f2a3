"""Opening hours on the working calendar: when a resource may be booked on a given day.

Times are Beijing wall-clock times (``linli.core.calendar.LOCAL_TZ``). A day is closed
when it is a public holiday of the working calendar and the resource is not open on
holidays; otherwise the resource's weekly windows for that weekday apply (a 调休 working
Saturday keeps the Saturday windows: a playground's weekend hours do not change because
offices work that day).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.core.calendar import LOCAL_TZ, WorkCalendar
from linli.core.errors import ValidationFailed
from linli.core.models import CalendarDay

# Bookings start and end on a quarter hour; the day view shows half-hour rows.
GRANULARITY_MINUTES = 15
ROW_MINUTES = 30
# The weekday names, marked for the catalogue and translated where they are shown.
WEEKDAYS = (
    gettext_noop("一"),
    gettext_noop("二"),
    gettext_noop("三"),
    gettext_noop("四"),
    gettext_noop("五"),
    gettext_noop("六"),
    gettext_noop("日"),
)


def weekday_label(weekday: int) -> str:
    return _("周%(d)s") % {"d": _(WEEKDAYS[weekday])}


@dataclass(frozen=True)
class Window:
    weekday: int
    opens: time
    closes: time


def windows_for(hours: Iterable[object], weekday: int) -> list[tuple[time, time]]:
    out = [
        (h.opens, h.closes)  # type: ignore[attr-defined]
        for h in hours
        if h.weekday == weekday  # type: ignore[attr-defined]
    ]
    return sorted(out)


def local(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=LOCAL_TZ)


def open_intervals(
    *,
    hours: Sequence[object],
    day: date,
    open_on_holidays: bool,
    calendar: WorkCalendar | None = None,
) -> list[tuple[datetime, datetime]]:
    """The open intervals of one local day as aware datetimes; [] when closed."""
    cal = calendar or WorkCalendar.cached()
    if not open_on_holidays and day in cal.holidays:
        return []
    return [(local(day, o), local(day, c)) for o, c in windows_for(hours, day.weekday())]


def holiday_names(first: date, last: date) -> dict[date, str]:
    """Names of the calendar's holidays between two dates (for the conflict report)."""
    return {
        d: n or _("法定节假日")
        for d, n in CalendarDay.objects.filter(
            kind=CalendarDay.Kind.HOLIDAY, date__gte=first, date__lte=last
        ).values_list("date", "name")
    }


def fmt_windows(windows: Sequence[tuple[time, time]]) -> str:
    return "、".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in windows) or _("不开放")


_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")


def parse_day(raw: str, weekday: int) -> list[tuple[time, time]]:
    """``"08:00-12:00, 14:00-18:00"`` → windows; empty = closed that day. Windows
    must be on the quarter hour, in order and not overlap; 24:00 is written 23:59."""
    text = (raw or "").replace("，", ",").replace("、", ",").strip()
    if not text:
        return []
    out: list[tuple[time, time]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        bad = ValidationFailed(
            _("%(day)s的开放时间格式应为 08:00-12:00，多段用逗号分开。")
            % {"day": weekday_label(weekday)},
            field=f"hours_{weekday}",
        )
        if not m:
            raise bad
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise bad
        opens, closes = time(h1, m1), time(h2, m2)
        if closes <= opens:
            raise ValidationFailed(
                _("%(day)s的开放时间结束须晚于开始。") % {"day": weekday_label(weekday)},
                field=f"hours_{weekday}",
            )
        if opens.minute % GRANULARITY_MINUTES or (
            closes.minute % GRANULARITY_MINUTES and closes != time(23, 59)
        ):
            raise ValidationFailed(
                _("%(day)s的开放时间须为整刻钟（如 08:00、08:15）。")
                % {"day": weekday_label(weekday)},
                field=f"hours_{weekday}",
            )
        out.append((opens, closes))
    out.sort()
    for (_o1, c1), (o2, _c2) in zip(out, out[1:], strict=False):
        if o2 < c1:
            raise ValidationFailed(
                _("%(day)s的开放时间段有重叠。") % {"day": weekday_label(weekday)},
                field=f"hours_{weekday}",
            )
    return out


def days(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)
