"""The one definition of when a care visit is due and when it is overdue.

Lists (the grid worker's 我的关爱 page, the community overview), the overdue sweep,
alerts and the assessment (§8) all read it from here.

Due date (``next_due``), from the subject's tier, in Beijing local time:

* ``high`` — ``high_interval_days`` after the last visit (or after enrolment).
* ``alone`` — a quota of ``alone_visits_per_month`` visits per calendar month: the
  month is cut into that many equal parts and the k-th visit of the month is due by
  the end of the k-th part (2 a month: by the 15th, then by the month's last day).
  With the quota met, the first part of next month.
* ``monthly`` / ``quarterly`` — one visit per calendar month / quarter, due by its
  last day; once made, the end of the next period.
* A major event declared after the last visit makes a high-risk resident due within
  ``event_visit_hours`` of the declaration, if that is sooner.
* Someone new on the roster, never visited, is due no sooner than
  ``high_interval_days`` after enrolment.

State (``due_state``): ``ok``; ``soon`` (due within 2 days); ``overdue`` (past due);
``escalated`` (overdue for more than ``grace_days``: the sweep tells the community).
Only home visits count (a phone call does not meet the quota: SPEC "home visits").
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SOON = timedelta(days=2)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _end_of(day: date) -> datetime:
    """The first instant after ``day`` in local time (a deadline "by the end of day")."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=_tz())


def _month_parts(year: int, month: int, parts: int) -> list[date]:
    """The last day of each of ``parts`` equal parts of the month."""
    days = calendar.monthrange(year, month)[1]
    return [date(year, month, max(1, round(days * (k + 1) / parts))) for k in range(parts)]


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass(frozen=True)
class Plan:
    high_interval_days: int = 7
    event_visit_hours: int = 24
    alone_visits_per_month: int = 2
    grace_days: int = 3


def plan_of(settings_row: object) -> Plan:
    return Plan(
        high_interval_days=int(getattr(settings_row, "high_interval_days", 7)),
        event_visit_hours=int(getattr(settings_row, "event_visit_hours", 24)),
        alone_visits_per_month=int(getattr(settings_row, "alone_visits_per_month", 2)),
        grace_days=int(getattr(settings_row, "grace_days", 3)),
    )


def next_due(
    *,
    tier: str,
    plan: Plan,
    enrolled_at: datetime,
    visits: list[datetime],
    events: list[datetime] | None = None,
    now: datetime,
) -> datetime:
    """When the next home visit is due. ``visits`` are the home-visit times (any
    order); ``events`` the declaration times of major events in the community."""
    due = _plan_due(tier=tier, plan=plan, enrolled_at=enrolled_at, visits=visits, now=now)
    if not visits:
        # Newly on the roster: the first home visit within a week of enrolment, never
        # already overdue on the day someone is added.
        due = max(due, enrolled_at + timedelta(days=plan.high_interval_days))
    if tier == "high":
        last = max(visits) if visits else None
        later_events = [e for e in events or [] if last is None or e > last]
        if later_events:
            due = min(due, min(later_events) + timedelta(hours=plan.event_visit_hours))
    return due


def _plan_due(
    *,
    tier: str,
    plan: Plan,
    enrolled_at: datetime,
    visits: list[datetime],
    now: datetime,
) -> datetime:
    tz = _tz()
    last = max(visits) if visits else None
    if tier == "high":
        return (last or enrolled_at) + timedelta(days=plan.high_interval_days)
    today = now.astimezone(tz).date()
    if tier == "alone":
        parts = max(1, plan.alone_visits_per_month)
        year, month = today.year, today.month
        this_month = sum(
            1 for v in visits if (lv := v.astimezone(tz)).year == year and lv.month == month
        )
        if this_month < parts:
            return _end_of(_month_parts(year, month, parts)[this_month])
        ny, nm = _next_month(year, month)
        return _end_of(_month_parts(ny, nm, parts)[0])
    months = 1 if tier == "monthly" else 3
    # The period containing today: a calendar month, or a calendar quarter.
    first_month = today.month if months == 1 else 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    end_month = first_month + months - 1
    end = date(today.year, end_month, calendar.monthrange(today.year, end_month)[1])
    if last is not None and last.astimezone(tz).date() >= start:
        # Visited this period: due by the end of the next one.
        ny, nm = today.year, end_month
        for _i in range(months):
            ny, nm = _next_month(ny, nm)
        end = date(ny, nm, calendar.monthrange(ny, nm)[1])
    return _end_of(end)


def due_state(next_due_at: datetime | None, *, now: datetime, grace_days: int = 3) -> str:
    """``ok`` / ``soon`` / ``overdue`` / ``escalated`` (see the module docstring)."""
    if next_due_at is None:
        return "ok"
    if now >= next_due_at + timedelta(days=grace_days):
        return "escalated"
    if now >= next_due_at:
        return "overdue"
    if now >= next_due_at - SOON:
        return "soon"
    return "ok"


def overdue_q(now: datetime, *, prefix: str = "") -> Q:
    """Filter for subjects past due (``next_due_at`` ≤ now)."""
    return Q(**{f"{prefix}next_due_at__lte": now})


def soon_q(now: datetime, *, prefix: str = "") -> Q:
    return Q(**{f"{prefix}next_due_at__gt": now, f"{prefix}next_due_at__lte": now + SOON})


def escalate_q(now: datetime, grace_days: int, *, prefix: str = "") -> Q:
    return Q(**{f"{prefix}next_due_at__lte": now - timedelta(days=grace_days)})


DUE_LABELS = {
    "ok": _("正常"),
    "soon": _("即将到期"),
    "overdue": _("已超期"),
    "escalated": _("超期已上报社区"),
}
