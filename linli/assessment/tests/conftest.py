"""Fixtures for the assessment: a month of hand-made records in the world's community
(March 2026), every figure of which is known in advance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from linli.core.notify import MemorySender
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, EventKind, RequestEvent, ServiceRequest, Status

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
AT = datetime(2026, 3, 10, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _outbox() -> Any:
    MemorySender.outbox.clear()
    yield MemorySender.outbox
    MemorySender.outbox.clear()


@dataclass
class MonthWorld:
    requests: list[ServiceRequest]


def make_request(
    world: Any,
    code: str,
    *,
    at: datetime = AT,
    rating: int | None = None,
    resolved: bool = True,
    responded_on_time: bool | None = True,
    resolved_on_time: bool | None = True,
    building: Any = None,
    reporter: str | None = "resident",
) -> ServiceRequest:
    """A request as an import would write it (the figures do not depend on how)."""
    cat = Category.objects.get(code=code)
    b = building or world.building
    r = ServiceRequest.objects.create(
        community_id=b.community_id,
        grid=b.grid,
        building=b,
        category=cat,
        description="测试诉求",
        channel="app",
        status=Status.CLOSED if resolved else Status.ACCEPTED,
        created_at=at,
        reporter_resident=world.residents[reporter] if reporter else None,
        responded_at=at + timedelta(hours=2),
        responded_on_time=responded_on_time,
        resolved_at=at + timedelta(days=2) if resolved else None,
        resolved_on_time=resolved_on_time if resolved else None,
        cycle_seconds=2 * 86400 if resolved else None,
        closed_at=at + timedelta(days=3) if resolved else None,
        rating=rating,
    )
    RequestEvent.objects.create(
        request=r,
        community_id=b.community_id,
        at=at,
        kind=EventKind.SUBMITTED,
        to_status="submitted",
    )
    return r


@pytest.fixture
def march(world: Any) -> MonthWorld:
    ensure_categories()
    reqs = [
        make_request(world, "fac-light", rating=5),
        make_request(world, "fac-light", rating=4, responded_on_time=False),
        make_request(world, "env-clutter", rating=2, resolved_on_time=False),
        make_request(world, "env-clutter", resolved=False, responded_on_time=None),
        # Disputes: one settled, one not.
        make_request(world, "di-noise", reporter="neighbour"),
        make_request(world, "di-noise", resolved=False, responded_on_time=None, reporter=None),
        # Another month and another community: never counted.
        make_request(world, "fac-light", at=AT + timedelta(days=40), rating=1),
    ]
    return MonthWorld(reqs)
