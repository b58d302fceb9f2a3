"""Reads for the resource pool, each taking the viewer: "not found" and "not allowed"
look the same."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.core.calendar import LOCAL_TZ, WorkCalendar
from linli.core.errors import NotFound
from linli.resources import clock
from linli.resources.hours import ROW_MINUTES, days, open_intervals
from linli.resources.models import (
    LIVE_STATUSES,
    Booking,
    BookingStatus,
    Resource,
    ResourceStatus,
)
from linli.resources.permissions import (
    MANAGER_ROLES,
    VIEW_ROLES,
    can_manage_resource,
    community_ids,
    org_ids,
    sees_resource,
)
from linli.resources.states import BOOKING

# A resource idle on more than this share of its open days is flagged for another use.
IDLE_FLAG = 0.30


def _street_peers(community_id: int) -> list[int]:
    street = OrgUnit.objects.filter(pk=community_id).values_list("parent_id", flat=True).first()
    if street is None:
        return []
    return list(
        OrgUnit.objects.filter(parent_id=street, kind="community").values_list("pk", flat=True)
    )


def resources_for(
    *, viewer: Any, q: str = "", kind: str = "", building_id: int | None = None
) -> QuerySet[Resource]:
    """What the viewer may see: active resources of their own community, street-shared
    ones of the other communities of their street, their own listings, and everything
    in the communities they work for."""
    scope = scope_of(viewer)
    staff = community_ids(viewer, VIEW_ROLES)
    cond = Q(community_id__in=staff)
    if scope.community_id is not None:
        cond |= Q(community_id=scope.community_id, status=ResourceStatus.ACTIVE)
        peers = [c for c in _street_peers(scope.community_id) if c != scope.community_id]
        if peers:
            cond |= Q(community_id__in=peers, share_scope="street", status=ResourceStatus.ACTIVE)
        if scope.resident_id is not None:
            cond |= Q(owner_kind="resident", owner_resident_id=scope.resident_id)
    orgs = org_ids(viewer)
    if orgs:
        cond |= Q(owner_kind="partner", owner_org_id__in=orgs)
    qs = Resource.objects.filter(cond)
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(description__icontains=q) | Q(location__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if building_id:
        qs = qs.filter(building_id=building_id)
    return qs.select_related("building", "community", "owner_org").order_by(
        "status", "kind", "name", "id"
    )


def resource_get_for(*, viewer: Any, pk: int) -> Resource:
    r = (
        Resource.objects.select_related("building", "community", "owner_org", "owner_resident")
        .prefetch_related("hours", "photos")
        .filter(pk=pk)
        .first()
    )
    if r is None or not sees_resource(viewer, r):
        raise NotFound()
    return r


def booking_get_for(*, viewer: Any, pk: int) -> Booking:
    b = (
        Booking.objects.select_related(
            "resource", "resource__building", "resident", "booked_by", "series"
        )
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )
    if b is None or not BOOKING.visible or not BOOKING.visible(viewer, b):
        raise NotFound()
    return b


def my_bookings(*, viewer: Any, upcoming: bool = True) -> QuerySet[Booking]:
    """The viewer's own bookings (as a resident, or booked for themself as staff)."""
    scope = scope_of(viewer)
    cond = Q(user_id=getattr(viewer, "pk", None) or 0, resident__isnull=True)
    if scope.resident_id is not None:
        cond |= Q(resident_id=scope.resident_id)
    qs = Booking.objects.filter(cond).select_related("resource", "resource__building")
    if upcoming:
        qs = qs.filter(
            Q(status__in=LIVE_STATUSES) | Q(ends_at__gte=clock.now() - timedelta(days=1))
        )
    return qs.order_by("-starts_at", "-id")


def my_listings(*, viewer: Any) -> QuerySet[Resource]:
    rid = scope_of(viewer).resident_id
    return Resource.objects.filter(owner_kind="resident", owner_resident_id=rid or 0).order_by(
        "-created_at"
    )


def requests_for_owner(*, viewer: Any) -> QuerySet[Booking]:
    """Requests for a resident's own items, waiting for them to decide or hand over."""
    rid = scope_of(viewer).resident_id
    return (
        Booking.objects.filter(
            resource__owner_kind="resident",
            resource__owner_resident_id=rid or 0,
            status__in=LIVE_STATUSES,
        )
        .select_related("resource", "resident")
        .order_by("starts_at")
    )


# --------------------------------------------------------------------------- calendar


@dataclass
class Row:
    """One half-hour row of the day view."""

    starts_at: datetime
    ends_at: datetime
    state: str  # "free", "booked", "mine", "past"
    booking: Booking | None = None


@dataclass
class Day:
    day: date
    closed: bool
    holiday: bool
    intervals: list[tuple[datetime, datetime]]
    bookings: list[Booking] = field(default_factory=list)
    free: list[tuple[datetime, datetime]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def past_rows(self) -> int:
        return sum(1 for r in self.rows if r.state == "past")


def _mine(b: Booking, viewer: Any) -> bool:
    scope = scope_of(viewer)
    if b.resident_id is not None:
        return b.resident_id == scope.resident_id
    return b.user_id is not None and b.user_id == getattr(viewer, "pk", None)


def calendar_for(*, viewer: Any, resource: Resource, first: date, n_days: int = 1) -> list[Day]:
    """Day (``n_days=1``) and week (7) views: open intervals, live bookings, the free
    gaps and half-hour rows. Other people's bookings show only as 已约 (no names)."""
    if not sees_resource(viewer, resource):
        raise NotFound()
    last = first + timedelta(days=n_days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
    bookings = list(
        Booking.objects.filter(
            community_id=resource.community_id,
            resource_id=resource.pk,
            status__in=LIVE_STATUSES,
            starts_at__lt=end,
            ends_at__gt=start,
        ).order_by("starts_at")
    )
    hours = list(resource.hours.all())
    cal = WorkCalendar.cached()
    now = clock.now()
    out: list[Day] = []
    for d in days(first, last):
        intervals = open_intervals(
            hours=hours, day=d, open_on_holidays=resource.open_on_holidays, calendar=cal
        )
        holiday = d in cal.holidays
        todays = [b for b in bookings if b.starts_at.astimezone(LOCAL_TZ).date() == d]
        day = Day(d, closed=not intervals, holiday=holiday, intervals=intervals, bookings=todays)
        for o, c in intervals:
            cursor = o
            for b in todays:
                if b.ends_at <= o or b.starts_at >= c:
                    continue
                if b.starts_at > cursor:
                    day.free.append((cursor, b.starts_at))
                cursor = max(cursor, b.ends_at)
            if cursor < c:
                day.free.append((cursor, c))
            t = o
            while t < c:
                e = min(t + timedelta(minutes=ROW_MINUTES), c)
                hit = next((b for b in todays if b.starts_at < e and t < b.ends_at), None)
                if hit is not None:
                    state = "mine" if _mine(hit, viewer) else "booked"
                elif e <= now:
                    state = "past"
                else:
                    state = "free"
                day.rows.append(Row(t, e, state, hit))
                t = e
        # Free time already past is not free any more: start today's gaps at the next
        # quarter hour.
        soon = (now + timedelta(minutes=(-now.minute) % 15)).replace(second=0, microsecond=0)
        day.free = [(max(a, soon), b) for a, b in day.free if b > soon]
        out.append(day)
    return out


# --------------------------------------------------------------------------- staff


def manage_queue(*, viewer: Any, community_id: int) -> dict[str, list[Booking]]:
    """The desk's work: requests to decide, today's pick-ups, items out past their end,
    deposits still held after the booking ended."""
    if community_id not in community_ids(viewer, VIEW_ROLES):
        raise NotFound()
    now = clock.now()
    base = Booking.objects.filter(community_id=community_id).select_related(
        "resource", "resident", "resident__household__building"
    )
    today = now.astimezone(LOCAL_TZ).date()
    day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
    return {
        "requested": list(base.filter(status=BookingStatus.REQUESTED).order_by("starts_at")[:100]),
        "today": list(
            base.filter(
                status=BookingStatus.CONFIRMED, starts_at__lt=day_end, ends_at__gt=now
            ).order_by("starts_at")[:100]
        ),
        "overdue": list(
            base.filter(status=BookingStatus.CHECKED_OUT, ends_at__lt=now).order_by("ends_at")[:100]
        ),
        "late": list(
            base.filter(status=BookingStatus.CONFIRMED, ends_at__lt=now).order_by("starts_at")[:100]
        ),
        "deposits": list(
            base.filter(deposit_state="held")
            .exclude(status__in=LIVE_STATUSES)
            .order_by("starts_at")[:100]
        ),
    }


@dataclass
class Utilisation:
    resource: Resource
    open_minutes: int
    used_minutes: int
    open_days: int
    idle_days: int
    bookings: int
    no_shows: int

    @property
    def utilisation(self) -> float:
        return self.used_minutes / self.open_minutes if self.open_minutes else 0.0

    @property
    def idle_rate(self) -> float:
        return self.idle_days / self.open_days if self.open_days else 1.0

    @property
    def flagged(self) -> bool:
        """Idle on more than 30 % of its open days: suggest another use (SPEC §6)."""
        return self.idle_rate > IDLE_FLAG


def utilisation_for(
    *, viewer: Any, community_id: int, first: date | None = None, last: date | None = None
) -> list[Utilisation]:
    """Per resource over ``[first, last]`` (default: the 30 days up to yesterday):
    open minutes (opening hours on the working calendar), used minutes (bookings that
    were confirmed, picked up, returned or handed over, clipped to the opening hours),
    and the idle rate = open days without any use / open days. Suspended and retired
    resources are left out; one listed during the period counts from its listing day
    (or its first recorded use, when earlier)."""
    if community_id not in community_ids(viewer, VIEW_ROLES) and community_id not in community_ids(
        viewer, MANAGER_ROLES
    ):
        raise NotFound()
    today = clock.now().astimezone(LOCAL_TZ).date()
    last = last or today - timedelta(days=1)
    first = first or last - timedelta(days=29)
    resources = list(
        Resource.objects.filter(community_id=community_id, status=ResourceStatus.ACTIVE)
        .prefetch_related("hours")
        .order_by("kind", "name", "id")
    )
    start = datetime.combine(first, datetime.min.time(), tzinfo=LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
    used_statuses = [
        BookingStatus.CONFIRMED,
        BookingStatus.CHECKED_OUT,
        BookingStatus.RETURNED,
        BookingStatus.HANDED_OVER,
    ]
    by_res: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for rid, s, e, st in Booking.objects.filter(
        community_id=community_id, starts_at__lt=end, ends_at__gt=start
    ).values_list("resource_id", "starts_at", "ends_at", "status"):
        by_res[rid].append((s, e, st))
    cal = WorkCalendar.cached()
    out: list[Utilisation] = []
    for r in resources:
        hours = list(r.hours.all())
        rows = by_res.get(r.pk, [])
        used = [(s, e) for s, e, st in rows if st in used_statuses]
        u = Utilisation(r, 0, 0, 0, 0, len(used), sum(1 for *_x, st in rows if st == "no_show"))
        # A resource listed during the period is counted from the day it was listed (or
        # its first use, if that was recorded earlier: a register taken over from paper).
        since = r.created_at.astimezone(LOCAL_TZ).date()
        if rows:
            since = min(since, min(s for s, _e, _st in rows).astimezone(LOCAL_TZ).date())
        for d in days(max(first, since), last):
            intervals = open_intervals(
                hours=hours, day=d, open_on_holidays=r.open_on_holidays, calendar=cal
            )
            if not intervals:
                continue
            u.open_days += 1
            day_used = 0
            for o, c in intervals:
                u.open_minutes += int((c - o).total_seconds() // 60)
                for s, e in used:
                    lo, hi = max(s, o), min(e, c)
                    if hi > lo:
                        day_used += int((hi - lo).total_seconds() // 60)
            u.used_minutes += day_used
            if day_used == 0:
                u.idle_days += 1
        out.append(u)
    return out


def manageable_communities(viewer: Any) -> list[OrgUnit]:
    ids = community_ids(viewer, VIEW_ROLES)
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))


def can_manage(viewer: Any, resource: Resource) -> bool:
    return bool(can_manage_resource(viewer, resource))
