"""/api/v1/resources/: the resource pool, its calendar, bookings (one or a weekly series
with its conflict report), every booking action, deposits, the desk queue and
utilisation. Creates take an ``idempotency_key`` (body) or the ``Idempotency-Key``
header; times are ISO 8601 with an offset (Beijing time is ``+08:00``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core.errors import NotFound, ValidationFailed
from linli.resources import selectors, services
from linli.resources.models import Booking, Resource
from linli.resources.permissions import DESK_ROLES, community_ids
from linli.resources.states import BOOKING, DEPOSIT, RESOURCE

router = Router(tags=["resources"])


class HoursIn(Schema):
    weekday: int
    opens: time
    closes: time


class ResourceIn(Schema):
    community_id: int | None = None
    kind: str
    name: str
    description: str = ""
    location: str = ""
    building_id: int | None = None
    owner_kind: str = "community"
    owner_org_id: int | None = None
    share_mode: str = "lend"
    bookable_by: str = "residents"
    share_scope: str = "community"
    max_minutes: int = 120
    max_advance_days: int = 120
    deposit_points: int = 0
    approval_required: bool = False
    outside_approval: bool = True
    open_on_holidays: bool = False
    hours: list[HoursIn]
    idempotency_key: str = ""


class ResourceOut(Schema):
    id: int
    community_id: int
    kind: str
    name: str
    description: str
    location: str
    building_id: int | None
    owner_kind: str
    share_mode: str
    bookable_by: str
    share_scope: str
    max_minutes: int
    max_advance_days: int
    deposit_points: int
    approval_required: bool
    outside_approval: bool
    open_on_holidays: bool
    status: str
    hours: list[HoursIn] = []
    # What the caller may do now (from the resource state machine).
    actions: list[str] = []


class StatusIn(Schema):
    action: str
    reason: str = ""


class BookingIn(Schema):
    resource_id: int
    starts_at: datetime
    ends_at: datetime
    purpose: str = ""
    # 代办: desk staff booking for a resident, with the channel (phone / visit / desk).
    resident_id: int | None = None
    channel: str = "self"
    idempotency_key: str = ""


class BookingOut(Schema):
    id: int
    resource_id: int
    series_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str
    deposit_points: int
    deposit_state: str
    checked_out_at: datetime | None
    returned_at: datetime | None
    return_condition: str
    actions: list[str] = []


class SeriesIn(Schema):
    resource_id: int
    first_date: date
    last_date: date
    start_time: time
    end_time: time
    purpose: str = ""
    resident_id: int | None = None
    channel: str = "self"
    idempotency_key: str = ""


class OccurrenceOut(Schema):
    date: date
    starts_at: datetime
    ends_at: datetime
    status: str
    note: str


class SeriesOut(Schema):
    id: int
    bookings: list[int]
    skipped: list[list[str]]


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class DepositIn(Schema):
    forfeit: bool
    reason: str = ""


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime


class DayOut(Schema):
    date: date
    closed: bool
    holiday: bool
    open: list[SlotOut]
    free: list[SlotOut]
    # Other people's bookings are shown as busy time only.
    busy: list[SlotOut]


class UsageOut(Schema):
    resource_id: int
    name: str
    open_minutes: int
    used_minutes: int
    utilisation: float
    open_days: int
    idle_days: int
    idle_rate: float
    flagged: bool
    bookings: int
    no_shows: int


def _key(request: HttpRequest, body_key: str) -> str:
    return body_key or request.headers.get("Idempotency-Key", "")


def _resource(r: Resource, viewer: Any) -> ResourceOut:
    return ResourceOut(
        id=r.pk,
        community_id=r.community_id,
        kind=r.kind,
        name=r.name,
        description=r.description,
        location=r.location,
        building_id=r.building_id,
        owner_kind=r.owner_kind,
        share_mode=r.share_mode,
        bookable_by=r.bookable_by,
        share_scope=r.share_scope,
        max_minutes=r.max_minutes,
        max_advance_days=r.max_advance_days,
        deposit_points=r.deposit_points,
        approval_required=r.approval_required,
        outside_approval=r.outside_approval,
        open_on_holidays=r.open_on_holidays,
        status=r.status,
        hours=[HoursIn(weekday=h.weekday, opens=h.opens, closes=h.closes) for h in r.hours.all()],
        actions=RESOURCE.available(viewer, r),
    )


def _booking(b: Booking, viewer: Any) -> BookingOut:
    return BookingOut(
        id=b.pk,
        resource_id=b.resource_id,
        series_id=b.series_id,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        status=b.status,
        channel=b.channel,
        deposit_points=b.deposit_points,
        deposit_state=b.deposit_state,
        checked_out_at=b.checked_out_at,
        returned_at=b.returned_at,
        return_condition=b.return_condition,
        actions=BOOKING.available(viewer, b) + DEPOSIT.available(viewer, b),
    )


def _spec(body: ResourceIn) -> services.ResourceSpec:
    hours: dict[int, list[tuple[time, time]]] = {}
    for h in body.hours:
        hours.setdefault(h.weekday, []).append((h.opens, h.closes))
    return services.ResourceSpec(
        kind=body.kind,
        name=body.name,
        description=body.description,
        location=body.location,
        building_id=body.building_id,
        share_mode=body.share_mode,
        bookable_by=body.bookable_by,
        share_scope=body.share_scope,
        max_minutes=body.max_minutes,
        max_advance_days=body.max_advance_days,
        deposit_points=body.deposit_points,
        approval_required=body.approval_required,
        outside_approval=body.outside_approval,
        open_on_holidays=body.open_on_holidays,
        hours=hours,
    )


def _for_resident(request: HttpRequest, resident_id: int | None) -> Resident | None:
    if resident_id is None:
        return None
    r = Resident.objects.filter(
        pk=resident_id, community_id__in=community_ids(request.user, DESK_ROLES)
    ).first()
    if r is None:
        raise ValidationFailed(_("本社区没有这位居民。"), field="resident_id")
    return r


# --------------------------------------------------------------------------- resources


@router.get("/", response=list[ResourceOut])
def resource_list(request: HttpRequest, q: str = "", kind: str = "") -> list[ResourceOut]:
    items = selectors.resources_for(viewer=request.user, q=q[:40], kind=kind)
    return [_resource(r, request.user) for r in items.prefetch_related("hours")[:200]]


@router.post("/", response={201: ResourceOut})
def resource_create(request: HttpRequest, body: ResourceIn) -> Status[ResourceOut]:
    from linli.accounts.scope import scope_of

    scope = scope_of(request.user)
    owner_resident = None
    community: OrgUnit | None
    if body.owner_kind == "resident":
        owner_resident = Resident.objects.filter(pk=scope.resident_id or 0).first()
        if owner_resident is None:
            raise NotFound()
        community = owner_resident.community
    else:
        community = OrgUnit.objects.filter(pk=body.community_id or 0, kind="community").first()
    if community is None:
        raise NotFound()
    org = Organisation.objects.filter(pk=body.owner_org_id).first() if body.owner_org_id else None
    r = services.resource_create(
        actor=request.user,
        community=community,
        spec=_spec(body),
        owner_kind=body.owner_kind,
        owner_org=org,
        owner_resident=owner_resident,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(
        201, _resource(selectors.resource_get_for(viewer=request.user, pk=r.pk), request.user)
    )


@router.get("/{int:pk}", response=ResourceOut)
def resource_get(request: HttpRequest, pk: int) -> ResourceOut:
    return _resource(selectors.resource_get_for(viewer=request.user, pk=pk), request.user)


@router.post("/{int:pk}", response=ResourceOut)
def resource_update(request: HttpRequest, pk: int, body: ResourceIn) -> ResourceOut:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    services.resource_update(actor=request.user, resource=r, spec=_spec(body))
    return _resource(selectors.resource_get_for(viewer=request.user, pk=pk), request.user)


@router.post("/{int:pk}/status", response=ResourceOut)
def resource_status(request: HttpRequest, pk: int, body: StatusIn) -> ResourceOut:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    services.resource_set_status(
        actor=request.user, resource=r, action=body.action, reason=body.reason
    )
    return _resource(selectors.resource_get_for(viewer=request.user, pk=pk), request.user)


@router.get("/{int:pk}/calendar", response=list[DayOut])
def calendar(request: HttpRequest, pk: int, start: date, days: int = 1) -> list[DayOut]:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    out = selectors.calendar_for(
        viewer=request.user, resource=r, first=start, n_days=max(1, min(days, 14))
    )
    return [
        DayOut(
            date=d.day,
            closed=d.closed,
            holiday=d.holiday,
            open=[SlotOut(starts_at=a, ends_at=b) for a, b in d.intervals],
            free=[SlotOut(starts_at=a, ends_at=b) for a, b in d.free],
            busy=[SlotOut(starts_at=b.starts_at, ends_at=b.ends_at) for b in d.bookings],
        )
        for d in out
    ]


# --------------------------------------------------------------------------- bookings


@router.post("/bookings", response={201: BookingOut})
def booking_create(request: HttpRequest, body: BookingIn) -> Status[BookingOut]:
    r = selectors.resource_get_for(viewer=request.user, pk=body.resource_id)
    b = services.booking_create(
        actor=request.user,
        resource=r,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        resident=_for_resident(request, body.resident_id),
        purpose=body.purpose,
        channel=body.channel,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(
        201, _booking(selectors.booking_get_for(viewer=request.user, pk=b.pk), request.user)
    )


@router.get("/bookings/mine", response=list[BookingOut])
def my_bookings(request: HttpRequest, all: bool = False) -> list[BookingOut]:
    qs = selectors.my_bookings(viewer=request.user, upcoming=not all)
    return [_booking(b, request.user) for b in qs[:200]]


@router.get("/bookings/{int:pk}", response=BookingOut)
def booking_get(request: HttpRequest, pk: int) -> BookingOut:
    return _booking(selectors.booking_get_for(viewer=request.user, pk=pk), request.user)


def _after(request: HttpRequest, pk: int) -> BookingOut:
    return _booking(selectors.booking_get_for(viewer=request.user, pk=pk), request.user)


@router.post("/bookings/{int:pk}/approve", response=BookingOut)
def booking_approve(request: HttpRequest, pk: int, body: NoteIn) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_approve(actor=request.user, booking=b, note=body.note)
    return _after(request, pk)


@router.post("/bookings/{int:pk}/reject", response=BookingOut)
def booking_reject(request: HttpRequest, pk: int, body: ReasonIn) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_reject(actor=request.user, booking=b, reason=body.reason)
    return _after(request, pk)


@router.post("/bookings/{int:pk}/cancel", response=BookingOut)
def booking_cancel(request: HttpRequest, pk: int, body: ReasonIn) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_cancel(actor=request.user, booking=b, reason=body.reason)
    return _after(request, pk)


@router.post("/bookings/{int:pk}/check-out", response=BookingOut)
def booking_check_out(
    request: HttpRequest,
    pk: int,
    note: Form[str] = "",
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> BookingOut:
    """Pick-up, as multipart form data (``note``, up to 4 ``photos``)."""
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_check_out(actor=request.user, booking=b, note=note, photos=photos or [])
    return _after(request, pk)


@router.post("/bookings/{int:pk}/return", response=BookingOut)
def booking_return(
    request: HttpRequest,
    pk: int,
    condition: Form[str],
    note: Form[str] = "",
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> BookingOut:
    """Return, as multipart form data (``condition``: good / worn / damaged / lost)."""
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_return(
        actor=request.user, booking=b, condition=condition, note=note, photos=photos or []
    )
    return _after(request, pk)


@router.post("/bookings/{int:pk}/hand-over", response=BookingOut)
def booking_hand_over(request: HttpRequest, pk: int, body: NoteIn) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_hand_over(actor=request.user, booking=b, note=body.note)
    return _after(request, pk)


@router.post("/bookings/{int:pk}/no-show", response=BookingOut)
def booking_no_show(request: HttpRequest, pk: int) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.booking_no_show(actor=request.user, booking=b)
    return _after(request, pk)


@router.post("/bookings/{int:pk}/deposit", response=BookingOut)
def deposit_settle(request: HttpRequest, pk: int, body: DepositIn) -> BookingOut:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    services.deposit_settle(actor=request.user, booking=b, forfeit=body.forfeit, reason=body.reason)
    return _after(request, pk)


# --------------------------------------------------------------------------- series


def _series_args(request: HttpRequest, body: SeriesIn) -> dict[str, Any]:
    return {
        "actor": request.user,
        "resource": selectors.resource_get_for(viewer=request.user, pk=body.resource_id),
        "first_date": body.first_date,
        "last_date": body.last_date,
        "start_time": body.start_time,
        "end_time": body.end_time,
        "resident": _for_resident(request, body.resident_id),
        "channel": body.channel,
    }


@router.post("/series/preview", response=list[OccurrenceOut])
def series_preview(request: HttpRequest, body: SeriesIn) -> list[OccurrenceOut]:
    """The conflict report (writes nothing)."""
    report = services.series_preview(**_series_args(request, body))
    return [
        OccurrenceOut(
            date=o.day, starts_at=o.starts_at, ends_at=o.ends_at, status=o.status, note=o.note
        )
        for o in report
    ]


@router.post("/series", response={201: SeriesOut})
def series_create(request: HttpRequest, body: SeriesIn) -> Status[SeriesOut]:
    s = services.series_create(
        **_series_args(request, body),
        purpose=body.purpose,
        idempotency_key=_key(request, body.idempotency_key),
    )
    ids = list(s.bookings.order_by("starts_at").values_list("pk", flat=True))
    return Status(
        201, SeriesOut(id=s.pk, bookings=ids, skipped=[[str(x) for x in row] for row in s.skipped])
    )


# --------------------------------------------------------------------------- staff


@router.get("/utilisation", response=list[UsageOut])
def utilisation(
    request: HttpRequest, community_id: int, first: date | None = None, last: date | None = None
) -> list[UsageOut]:
    rows = selectors.utilisation_for(
        viewer=request.user, community_id=community_id, first=first, last=last
    )
    return [
        UsageOut(
            resource_id=u.resource.pk,
            name=u.resource.name,
            open_minutes=u.open_minutes,
            used_minutes=u.used_minutes,
            utilisation=round(u.utilisation, 4),
            open_days=u.open_days,
            idle_days=u.idle_days,
            idle_rate=round(u.idle_rate, 4),
            flagged=u.flagged,
            bookings=u.bookings,
            no_shows=u.no_shows,
        )
        for u in rows
    ]


@router.get("/queue", response=dict[str, list[BookingOut]])
def queue(request: HttpRequest, community_id: int) -> dict[str, list[BookingOut]]:
    q = selectors.manage_queue(viewer=request.user, community_id=community_id)
    return {k: [_booking(b, request.user) for b in v] for k, v in q.items()}
