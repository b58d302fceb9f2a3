"""Dates as residents say them: a deadline is a day in Beijing time ("12月7日前"), not
a UTC timestamp to the minute. Staff pages keep exact times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def due_day(value: datetime) -> date:
    """The local (``TIME_ZONE``) day a deadline falls on. A deadline at exactly 00:00
    means "by the end of the day before"."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    day = local.date()
    if local.time() == time(0, 0):
        day -= timedelta(days=1)
    return day


def friendly_due(value: datetime | None, today: date | None = None) -> str:
    """``12月7日前`` (``by Dec 7``); the year only when it is not this year's."""
    if not value:
        return ""
    day = due_day(value)
    this_year = (today or timezone.localdate()).year
    if day.year == this_year:
        fmt = pgettext("due date format", "n月j日")
    else:
        fmt = pgettext("due date format", "Y年n月j日")
    return _("%(date)s前") % {"date": dateformat.format(day, fmt)}
