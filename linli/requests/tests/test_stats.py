"""The request metrics served from daily aggregates equal the metrics computed from the
rows alone — before the first refresh, after it, after a change the refresh has not
seen yet, and for periods that start and end mid-day — and whole days really come from
the aggregates."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Avg, Count, Q
from django.db.models.functions import Coalesce
from django.test.utils import override_settings

from linli.requests import stats
from linli.requests.models import OPEN_STATUSES, DueState, ServiceRequest, Status
from linli.requests.selectors import request_metrics
from linli.requests.services import request_accept, request_rate, request_resolve, sweep_deadlines
from linli.requests.tests.conftest import MONDAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_limits")]


@pytest.fixture
def no_limits() -> Any:
    with override_settings(LINLI_RATE_LIMITS_ENABLED=False):
        yield


def reference(community_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """The metrics as they were computed before the aggregates: straight from rows."""
    base = ServiceRequest.objects.filter(
        community_id=community_id, created_at__gte=start, created_at__lt=end
    ).exclude(status=Status.MERGED)
    rq = Q(resolved_at__isnull=False)
    agg = base.aggregate(
        total=Count("id"),
        responded=Count("id", filter=Q(responded_on_time=True)),
        resolved=Count("id", filter=rq),
        on_time=Count("id", filter=rq & Q(resolved_on_time=True)),
        rated=Count("id", filter=Q(rating__isnull=False)),
        good=Count("id", filter=Q(rating__gte=4)),
        mean=Avg("rating"),
        avg_cycle=Avg("cycle_seconds"),
        open=Count("id", filter=Q(status__in=list(OPEN_STATUSES))),
        overdue=Count("id", filter=Q(status__in=list(OPEN_STATUSES), due_state=DueState.OVERDUE)),
    )
    p90 = None
    if agg["resolved"]:
        idx = max(0, math.ceil(0.9 * agg["resolved"]) - 1)
        vals = list(
            base.filter(rq, cycle_seconds__isnull=False)
            .order_by("cycle_seconds")
            .values_list("cycle_seconds", flat=True)[idx : idx + 1]
        )
        p90 = round(int(vals[0]) / 3600, 2) if vals and vals[0] is not None else None
    cats = dict(
        base.annotate(name=Coalesce("category__parent__name", "category__name"))
        .values("name")
        .annotate(n=Count("id"))
        .values_list("name", "n")
    )
    chans = dict(base.values("channel").annotate(n=Count("id")).values_list("channel", "n"))
    return {
        "total": agg["total"],
        "responded": agg["responded"],
        "resolved": agg["resolved"],
        "rated": agg["rated"],
        "mean": round(agg["mean"], 2) if agg["mean"] is not None else None,
        "avg": round(float(agg["avg_cycle"]) / 3600, 2) if agg["avg_cycle"] is not None else None,
        "p90": p90,
        "open": agg["open"],
        "overdue": agg["overdue"],
        "cats": cats,
        "chans": chans,
        "on_time": agg["on_time"],
        "good": agg["good"],
    }


def served(world: Any, start: datetime, end: datetime) -> dict[str, Any]:
    m = request_metrics(
        viewer=world.user("secretary"), community=world.community, start=start, end=end
    )
    return {
        "total": m.total,
        "responded": m.responded,
        "resolved": m.resolved,
        "rated": m.rated,
        "mean": m.satisfaction_mean,
        "avg": m.avg_cycle_hours,
        "p90": m.p90_cycle_hours,
        "open": m.open,
        "overdue": m.overdue,
        "cats": m.by_category,
        "chans": m.by_channel,
        "on_time": round((m.on_time_rate or 0) * m.resolved),
        "good": round((m.satisfaction_share_4_5 or 0) * m.rated),
    }


@pytest.fixture
def history(world: Any, submit: Any) -> list[ServiceRequest]:
    """Twelve requests over eight days in March 2026, some resolved and rated."""
    made = []
    codes = ["fac-light", "env-garbage", "fac-light", "di-noise"]
    for i in range(12):
        at = MONDAY + timedelta(days=i % 8, hours=(i * 5) % 11)
        user = "resident" if i % 2 else "neighbour"
        req = submit(codes[i % 4], f"第{i}件：楼道里的问题需要处理一下", user=user, now=at)
        if i % 3 != 2:
            req = request_accept(
                actor=world.user("grid_worker"), request=req, now=at + timedelta(hours=2)
            )
            req = request_resolve(
                actor=world.user("grid_worker"),
                request=req,
                resolution="已处理完毕",
                now=at + timedelta(hours=3 + i),
            )
            if i % 2:
                request_rate(
                    actor=world.user(user),
                    request=req,
                    rating=5 - i % 3,
                    now=at + timedelta(hours=30),
                )
        made.append(req)
    return made


PERIODS = [
    (MONDAY - timedelta(days=1), MONDAY + timedelta(days=10)),
    (MONDAY + timedelta(hours=5), MONDAY + timedelta(days=5, hours=3)),  # mid-day edges
    (MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)),
]


def test_aggregates_equal_rows_before_and_after_refresh(world: Any, history: Any) -> None:
    for start, end in PERIODS:
        assert served(world, start, end) == reference(world.community.pk, start, end)
    assert stats.refresh() > 0
    for start, end in PERIODS:
        assert served(world, start, end) == reference(world.community.pk, start, end)
    _c, days = stats.metrics_counts(world.community.pk, *PERIODS[0])
    assert days >= 8  # whole days came from the aggregates


def test_change_after_refresh_is_seen_at_once(world: Any, history: Any) -> None:
    stats.refresh()
    open_one = next(r for r in history if r.status == Status.SUBMITTED)
    # A change the refresh has not seen: accepted and resolved now (real clock).
    req = request_accept(actor=world.user("grid_worker"), request=open_one)
    request_resolve(actor=world.user("grid_worker"), request=req, resolution="修好了")
    start, end = PERIODS[0]
    assert served(world, start, end) == reference(world.community.pk, start, end)
    stats.refresh()
    assert served(world, start, end) == reference(world.community.pk, start, end)


def test_sweep_refreshes_and_other_communities_do_not_mix(
    world: Any, history: Any, submit: Any
) -> None:
    submit(
        "fac-light",
        "别的社区的路灯坏了很久了",
        user="stranger",
        building=world.other_building,
        now=MONDAY,
    )
    res = sweep_deadlines(now=MONDAY + timedelta(days=30))
    assert res.stat_days > 0
    start, end = PERIODS[0]
    assert served(world, start, end) == reference(world.community.pk, start, end)
    assert served(world, start, end)["total"] == 12
