"""Fixtures for requests tests: the starter categories, a fixed clock and a helper to
submit a request as the world's resident."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from linli.core.models import CalendarDay
from linli.core.notify import MemorySender
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, ServiceRequest
from linli.requests.services import request_submit

SH = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 09:00 Beijing time: a plain working week.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SH)


@pytest.fixture
def cats(db: Any) -> dict[str, Category]:
    ensure_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def holidays(db: Any) -> None:
    from linli.core.demo import HOLIDAYS_2026, WORKDAYS_2026

    for d, n in HOLIDAYS_2026.items():
        CalendarDay.objects.get_or_create(date=d, defaults={"kind": "holiday", "name": n})
    for d, n in WORKDAYS_2026.items():
        CalendarDay.objects.get_or_create(date=d, defaults={"kind": "workday", "name": n})


@pytest.fixture(autouse=True)
def _outbox() -> Any:
    MemorySender.outbox.clear()
    yield MemorySender.outbox
    MemorySender.outbox.clear()


@pytest.fixture
def submit(world: Any, cats: dict[str, Category]) -> Any:
    def _submit(
        code: str = "fac-light",
        text: str = "1幢楼道灯坏了，晚上很黑，老人下楼不安全",
        *,
        user: str = "resident",
        now: datetime = MONDAY,
        building: Any = "default",
        **kw: Any,
    ) -> ServiceRequest:
        return request_submit(
            actor=world.user(user),
            category=cats[code],
            description=text,
            building=world.building if building == "default" else building,
            now=now,
            **kw,
        )

    return _submit


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    """The per-process category and calendar caches are dropped by signals, but a
    test's rollback sends none: start every test from the database."""
    from linli.core.calendar import clear_cache as clear_calendar
    from linli.requests.catalog import clear_cache as clear_categories

    clear_calendar()
    clear_categories()
    yield
    clear_calendar()
    clear_categories()
