"""Visit scheduling across months (the one definition of due and overdue)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linli.care import schedule
from linli.care.schedule import Plan

BJ = ZoneInfo("Asia/Shanghai")
P = Plan()


def bj(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=BJ)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=BJ) + timedelta(days=1)


def test_living_alone_twice_a_month() -> None:
    enrolled = bj(2026, 1, 1)
    # Nothing yet in January: the first visit is due by the 16th (31 days / 2).
    due = schedule.next_due(
        tier="alone", plan=P, enrolled_at=enrolled, visits=[], now=bj(2026, 1, 3)
    )
    assert due == end_of(2026, 1, 16)
    # One visit on the 5th: the second by the month's last day.
    due = schedule.next_due(
        tier="alone", plan=P, enrolled_at=enrolled, visits=[bj(2026, 1, 5)], now=bj(2026, 1, 6)
    )
    assert due == end_of(2026, 1, 31)
    # Both made: the first half of February (28 days → the 14th).
    two = [bj(2026, 1, 5), bj(2026, 1, 20)]
    due = schedule.next_due(
        tier="alone", plan=P, enrolled_at=enrolled, visits=two, now=bj(2026, 1, 21)
    )
    assert due == end_of(2026, 2, 14)
    # Into February, January's visits no longer count.
    due = schedule.next_due(
        tier="alone", plan=P, enrolled_at=enrolled, visits=two, now=bj(2026, 2, 1)
    )
    assert due == end_of(2026, 2, 14)


def test_december_rolls_into_january() -> None:
    two = [bj(2026, 12, 2), bj(2026, 12, 9)]
    due = schedule.next_due(
        tier="alone", plan=P, enrolled_at=bj(2026, 1, 1), visits=two, now=bj(2026, 12, 10)
    )
    assert due == end_of(2027, 1, 16)
    due = schedule.next_due(
        tier="monthly",
        plan=P,
        enrolled_at=bj(2026, 1, 1),
        visits=[bj(2026, 12, 2)],
        now=bj(2026, 12, 3),
    )
    assert due == end_of(2027, 1, 31)


def test_a_visit_late_at_night_counts_in_beijing_time() -> None:
    # 23:30 on 31 Jan in Beijing is still January (15:30 UTC).
    late = datetime(2026, 1, 31, 23, 30, tzinfo=BJ)
    due = schedule.next_due(
        tier="monthly", plan=P, enrolled_at=bj(2026, 1, 1), visits=[late], now=bj(2026, 1, 31, 23)
    )
    assert due == end_of(2026, 2, 28)


def test_quarterly() -> None:
    due = schedule.next_due(
        tier="quarterly", plan=P, enrolled_at=bj(2026, 1, 1), visits=[], now=bj(2026, 2, 10)
    )
    assert due == end_of(2026, 3, 31)
    due = schedule.next_due(
        tier="quarterly",
        plan=P,
        enrolled_at=bj(2026, 1, 1),
        visits=[bj(2026, 2, 10)],
        now=bj(2026, 2, 11),
    )
    assert due == end_of(2026, 6, 30)


def test_high_risk_weekly_and_after_a_major_event() -> None:
    last = bj(2026, 3, 2)
    due = schedule.next_due(
        tier="high", plan=P, enrolled_at=bj(2026, 1, 1), visits=[last], now=bj(2026, 3, 3)
    )
    assert due == last + timedelta(days=7)
    typhoon = bj(2026, 3, 4, 8)
    due = schedule.next_due(
        tier="high",
        plan=P,
        enrolled_at=bj(2026, 1, 1),
        visits=[last],
        events=[typhoon],
        now=bj(2026, 3, 4, 9),
    )
    assert due == typhoon + timedelta(hours=24)
    # A visit after the event meets it: weekly again.
    after = bj(2026, 3, 4, 15)
    due = schedule.next_due(
        tier="high",
        plan=P,
        enrolled_at=bj(2026, 1, 1),
        visits=[last, after],
        events=[typhoon],
        now=bj(2026, 3, 5),
    )
    assert due == after + timedelta(days=7)


def test_configurable_plan() -> None:
    plan = Plan(high_interval_days=3, alone_visits_per_month=4)
    due = schedule.next_due(
        tier="high", plan=plan, enrolled_at=bj(2026, 4, 1), visits=[], now=bj(2026, 4, 1)
    )
    assert due == bj(2026, 4, 4)
    due = schedule.next_due(
        tier="alone", plan=plan, enrolled_at=bj(2026, 4, 1), visits=[], now=bj(2026, 4, 1)
    )
    assert due == end_of(2026, 4, 8)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (bj(2026, 5, 1), "ok"),
        (bj(2026, 5, 9), "soon"),
        (bj(2026, 5, 10, 1), "overdue"),
        (bj(2026, 5, 13, 1), "escalated"),
    ],
)
def test_due_state(now: datetime, state: str) -> None:
    assert schedule.due_state(end_of(2026, 5, 9), now=now, grace_days=3) == state
