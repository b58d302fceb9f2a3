"""Daily aggregates behind the 12345-style request metrics.

The metrics page reads a community's requests created in a period. Reading the rows
is linear in their number (×3.2 from 10 k to 100 k requests), so whole local days are
kept as one row per (community, day, category, channel) — counts, rating sum and the
exact cycle times (a sorted list of seconds, so the p90 stays exact) — refreshed by the
deadline sweep (:func:`refresh`). :func:`metrics_counts` then adds those rows for the
days they cover and reads only the rest (the period's partial first and last day, the
days not refreshed yet, and the days of requests that changed since) from the request
table.

Freshness without a write on the hot path: every change to a request writes a timeline
row (``RequestEvent``), so "changed since the last refresh" is a small indexed read of
the timeline. The refresh's watermark lags its start by :data:`LATE_MARGIN`, so a change
whose transaction commits late is still seen as changed (its day read from the rows)
until a later refresh recomputes that day.

Open and overdue counts are current states, not history: they are always read from
the open items (a partial index), never aggregated.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

LATE_MARGIN = timedelta(minutes=10)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: datetime) -> date:
    return timezone.localtime(at, _tz()).date()


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=_tz())


class RequestDayStat(models.Model):
    """Requests of one community created on one local day, per category and channel
    (merged duplicates excluded, as in the metrics)."""

    community = models.ForeignKey("communities.OrgUnit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    category = models.ForeignKey("requests.Category", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=12)
    total = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    good = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    cycle_sum = models.BigIntegerField(default=0)
    cycle_n = models.IntegerField(default=0)
    # Exact cycle times in seconds, sorted: the period's p90 is taken from them.
    cycles = models.JSONField(default=list)

    class Meta:
        app_label = "requests"
        constraints = [
            models.UniqueConstraint(
                fields=["community", "day", "category", "channel"], name="request_day_stat_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day} {self.category_id} {self.channel}: {self.total}"


class RequestStatsState(models.Model):
    """Per community: every request event before ``watermark`` is reflected in the
    day rows (days on or after ``watermark``'s day are always read from the rows)."""

    community = models.OneToOneField(
        "communities.OrgUnit", on_delete=models.CASCADE, related_name="+"
    )
    watermark = models.DateTimeField()

    class Meta:
        app_label = "requests"

    def __str__(self) -> str:
        return f"{self.community_id} @ {self.watermark}"


# --------------------------------------------------------------------------- counting


@dataclass
class Counts:
    total: int = 0
    responded: int = 0
    resolved: int = 0
    on_time: int = 0
    rated: int = 0
    good: int = 0
    rating_sum: int = 0
    cycle_sum: int = 0
    cycle_n: int = 0
    cycles: list[int] = field(default_factory=list)
    by_category: dict[int, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        for name in (
            "total",
            "responded",
            "resolved",
            "on_time",
            "rated",
            "good",
            "rating_sum",
            "cycle_sum",
            "cycle_n",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for c in other.cycles:
            bisect.insort(self.cycles, c)
        for k, v in other.by_category.items():
            self.by_category[k] = self.by_category.get(k, 0) + v
        for ch, v in other.by_channel.items():
            self.by_channel[ch] = self.by_channel.get(ch, 0) + v


_AGG = {
    "total": Count("id"),
    "responded": Count("id", filter=Q(responded_on_time=True)),
    "resolved": Count("id", filter=Q(resolved_at__isnull=False)),
    "on_time": Count("id", filter=Q(resolved_at__isnull=False, resolved_on_time=True)),
    "rated": Count("id", filter=Q(rating__isnull=False)),
    "good": Count("id", filter=Q(rating__gte=4)),
    "rating_sum": Sum("rating", default=0),
    "cycle_sum": Sum("cycle_seconds", filter=Q(resolved_at__isnull=False), default=0),
    "cycle_n": Count("id", filter=Q(resolved_at__isnull=False, cycle_seconds__isnull=False)),
}


def _rows_qs(community_id: int, ranges: Iterable[tuple[datetime, datetime]]) -> Any:
    from linli.requests.models import ServiceRequest, Status

    where = Q()
    for a, b in ranges:
        where |= Q(created_at__gte=a, created_at__lt=b)
    return ServiceRequest.objects.filter(where, community_id=community_id).exclude(
        status=Status.MERGED
    )


def _grouped(qs: Any, *extra: str) -> list[dict[str, Any]]:
    return list(qs.values("category_id", "channel", *extra).annotate(**_AGG).order_by())


def counts_from_rows(community_id: int, ranges: list[tuple[datetime, datetime]]) -> Counts:
    out = Counts()
    if not ranges:
        return out
    qs = _rows_qs(community_id, ranges)
    for g in _grouped(qs):
        _fold(out, g)
    out.cycles = sorted(
        qs.filter(resolved_at__isnull=False, cycle_seconds__isnull=False).values_list(
            "cycle_seconds", flat=True
        )
    )
    return out


def _fold(out: Counts, g: dict[str, Any]) -> None:
    for name in _AGG:
        setattr(out, name, getattr(out, name) + int(g[name] or 0))
    out.by_category[g["category_id"]] = out.by_category.get(g["category_id"], 0) + g["total"]
    out.by_channel[g["channel"]] = out.by_channel.get(g["channel"], 0) + g["total"]


def metrics_counts(
    community_id: int, start: datetime, end: datetime, *, now: datetime | None = None
) -> tuple[Counts, int]:
    """The counters for requests created in [start, end); also returns how many whole
    days came from the day rows (for tests and the bench)."""
    now = now or timezone.now()
    state = RequestStatsState.objects.filter(community_id=community_id).first()
    agg_days: set[date] = set()
    if state is not None:
        from linli.requests.models import RequestEvent

        first = local_day(start)
        if day_start(first) < start:
            first += timedelta(days=1)
        last_excl = local_day(end)  # the day containing ``end`` is partial or outside
        stop = min(last_excl, local_day(state.watermark))
        d = first
        while d < stop:
            agg_days.add(d)
            d += timedelta(days=1)
        if agg_days:
            # Days of requests that changed after the watermark are read from the rows.
            changed = (
                RequestEvent.objects.filter(community_id=community_id, at__gte=state.watermark)
                .values_list("request__created_at", flat=True)
                .distinct()
            )
            agg_days -= {local_day(c) for c in changed}
    out = Counts()
    if agg_days:
        for row in RequestDayStat.objects.filter(
            community_id=community_id, day__in=sorted(agg_days)
        ).iterator(chunk_size=2000):
            _fold(
                out,
                {n: getattr(row, n) for n in _AGG}
                | {
                    "category_id": row.category_id,
                    "channel": row.channel,
                },
            )
            out.cycles.extend(row.cycles)
        out.cycles.sort()
    out.add(counts_from_rows(community_id, _uncovered(start, end, agg_days)))
    return out, len(agg_days)


def _uncovered(
    start: datetime, end: datetime, covered: set[date]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the covered whole days, as few ranges as possible."""
    if not covered:
        return [(start, end)] if start < end else []
    ranges: list[tuple[datetime, datetime]] = []
    cursor = start
    for d in sorted(covered):
        a, b = day_start(d), day_start(d + timedelta(days=1))
        if cursor < a:
            ranges.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        ranges.append((cursor, end))
    return ranges


# --------------------------------------------------------------------------- refresh


def _recompute_days(community_id: int, days: Iterable[date]) -> int:
    days = sorted(set(days))
    n = 0
    for i in range(0, len(days), 200):
        chunk = days[i : i + 200]
        ranges = [(day_start(d), day_start(d + timedelta(days=1))) for d in chunk]
        qs = _rows_qs(community_id, ranges)
        from django.db.models.functions import TruncDate

        grouped = list(
            qs.annotate(day=TruncDate("created_at", tzinfo=_tz()))
            .values("day", "category_id", "channel")
            .annotate(**_AGG)
            .order_by()
        )
        cycles: dict[tuple[date, int, str], list[int]] = {}
        for created, cat, ch, secs in qs.filter(
            resolved_at__isnull=False, cycle_seconds__isnull=False
        ).values_list("created_at", "category_id", "channel", "cycle_seconds"):
            cycles.setdefault((local_day(created), cat, ch), []).append(int(secs))
        with transaction.atomic():
            RequestDayStat.objects.filter(community_id=community_id, day__in=chunk).delete()
            RequestDayStat.objects.bulk_create(
                [
                    RequestDayStat(
                        community_id=community_id,
                        day=g["day"],
                        category_id=g["category_id"],
                        channel=g["channel"],
                        cycles=sorted(cycles.get((g["day"], g["category_id"], g["channel"]), [])),
                        **{k: int(g[k] or 0) for k in _AGG},
                    )
                    for g in grouped
                ],
                batch_size=1000,
            )
        n += len(chunk)
    return n


def refresh(*, now: datetime | None = None, community_ids: Iterable[int] | None = None) -> int:
    """Bring the day rows up to date; returns how many (community, day) pairs were
    recomputed. The first run for a community builds every day it has."""
    from linli.communities.models import OrgUnit
    from linli.requests.models import RequestEvent, ServiceRequest

    # Never ahead of the real clock, whatever clock the caller runs on (a sweep with a
    # fixed future clock must not hide later changes).
    real = timezone.now()
    now = min(now, real) if now else real
    new_mark = now - LATE_MARGIN
    ids = (
        list(community_ids)
        if community_ids is not None
        else list(OrgUnit.objects.filter(kind="community").values_list("pk", flat=True))
    )
    done = 0
    for cid in ids:
        state = RequestStatsState.objects.filter(community_id=cid).first()
        if state is None:
            created = ServiceRequest.objects.filter(community_id=cid).values_list(
                "created_at", flat=True
            )
            days = {local_day(c) for c in created.iterator(chunk_size=5000)}
        else:
            changed = (
                RequestEvent.objects.filter(community_id=cid, at__gte=state.watermark)
                .values_list("request__created_at", flat=True)
                .distinct()
            )
            days = {local_day(c) for c in changed}
            # Requests created since the watermark without a timeline row (imports).
            days |= {
                local_day(c)
                for c in ServiceRequest.objects.filter(
                    community_id=cid, created_at__gte=state.watermark
                ).values_list("created_at", flat=True)
            }
        done += _recompute_days(cid, days)
        RequestStatsState.objects.update_or_create(
            community_id=cid, defaults={"watermark": new_mark}
        )
    return done


__all__ = ["RequestDayStat", "RequestStatsState", "metrics_counts", "refresh", "Counts"]
