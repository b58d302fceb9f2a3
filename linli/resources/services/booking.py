"""Booking a resource: one booking, a recurring series (with its conflict report), and
the booking's life (approve, reject, cancel, pick up, return, hand over, no-show) and
its deposit.

No double booking: the database refuses two live bookings of a resource whose
``[start, end)`` overlap (exclusion constraint on PostgreSQL, trigger on SQLite — see
migration 0002); that is the guarantee, whatever writes the table. The service first
takes the resource's row lock (``FOR NO KEY UPDATE``), so bookings of one resource are
made one after the other, then looks for a live overlapping booking and refuses with
the clashing times. The lock is not what makes it correct but what keeps it fast and
clean under contention: two overlapping INSERTs checking the exclusion constraint at the
same moment each wait for the other, and PostgreSQL breaks that deadlock only after
``deadlock_timeout``; and the lock fixes the order resource → ledger accounts for the
deposit. Should an overlap still reach the constraint, :func:`_overlap_refusal` turns
it into the same clear message. Nothing of a refused request is kept (its deposit hold
is rolled back with it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import formats
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core import idempotency, ratelimit
from linli.core.calendar import LOCAL_TZ, WorkCalendar
from linli.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.requests.photos import clean_photos
from linli.resources import clock
from linli.resources.hours import (
    GRANULARITY_MINUTES,
    fmt_windows,
    holiday_names,
    open_intervals,
    windows_for,
)
from linli.resources.models import (
    LIVE_STATUSES,
    Booking,
    BookingPhoto,
    BookingSeries,
    BookingStatus,
    Channel,
    Condition,
    DepositState,
    PhotoKind,
    Resource,
    ResourceKind,
    ResourceStatus,
    ShareMode,
)
from linli.resources.permissions import DESK_ROLES, can_manage_resource, community_ids, desk_in
from linli.resources.services import deposit
from linli.resources.states import (
    BOOKING,
    DEPOSIT,
    RESOURCE,
    ban_refusal,
    eligible_community,
)

CONSTRAINT = "resources_booking_no_overlap"
MAX_OCCURRENCES = 53  # a year of weekly meetings
PURPOSE_LIMIT = 200
NOTE_LIMIT = 300
MAX_PHOTOS = 4


# --------------------------------------------------------------------------- helpers


def _t(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M")


def _day(value: datetime | date) -> str:
    d = value.astimezone(LOCAL_TZ).date() if isinstance(value, datetime) else value
    return formats.date_format(d, "Y-m-d")


def clash(resource: Resource, starts_at: datetime, ends_at: datetime) -> Booking | None:
    """The first live booking of ``resource`` overlapping ``[starts_at, ends_at)``."""
    return (
        Booking.objects.filter(
            community_id=resource.community_id,
            resource_id=resource.pk,
            status__in=LIVE_STATUSES,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .order_by("starts_at")
        .first()
    )


def _clash_error(other: Booking) -> Conflict:
    return Conflict(
        _("该时段已被预约（%(day)s %(a)s–%(b)s），请换一个时间。")
        % {"day": _day(other.starts_at), "a": _t(other.starts_at), "b": _t(other.ends_at)},
        code="overlap",
        field="starts_at",
    )


def _overlap_refusal(exc: IntegrityError) -> DomainError | None:
    if CONSTRAINT in str(exc):
        return Conflict(
            _("该时段刚刚被其他人预约，请换一个时间。"), code="overlap", field="starts_at"
        )
    return None


def check_slot(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    calendar: WorkCalendar | None = None,
    hours: Sequence[Any] | None = None,
) -> None:
    """The resource's rules about time: quarter hours, end after start, not in the past,
    not too far ahead, not longer than the maximum, inside one opening window of a day
    that is open (holidays closed unless the resource opens on them)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(_("时间格式不正确。"), field="starts_at")
    for value, name in ((starts_at, "starts_at"), (ends_at, "ends_at")):
        loc = value.astimezone(LOCAL_TZ)
        if loc.second or loc.microsecond or loc.minute % GRANULARITY_MINUTES:
            raise ValidationFailed(_("预约时间须为整刻钟（如 09:00、09:15、09:30）。"), field=name)
    if ends_at <= starts_at:
        raise ValidationFailed(_("结束时间必须晚于开始时间。"), field="ends_at")
    if starts_at < now - timedelta(minutes=GRANULARITY_MINUTES):
        raise ValidationFailed(_("不能预约已经过去的时间。"), field="starts_at")
    if starts_at > now + timedelta(days=resource.max_advance_days):
        raise ValidationFailed(
            _("最多提前 %(n)d 天预约。") % {"n": resource.max_advance_days}, field="starts_at"
        )
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    if minutes > resource.max_minutes:
        raise ValidationFailed(
            _("超过单次最长使用时间（%(max)s），您选择了 %(n)s。")
            % {"max": fmt_minutes(resource.max_minutes), "n": fmt_minutes(minutes)},
            code="too_long",
            field="ends_at",
        )
    hours = list(resource.hours.all()) if hours is None else hours
    day = starts_at.astimezone(LOCAL_TZ).date()
    intervals = open_intervals(
        hours=hours, day=day, open_on_holidays=resource.open_on_holidays, calendar=calendar
    )
    if not any(o <= starts_at and ends_at <= c for o, c in intervals):
        windows = windows_for(hours, day.weekday())
        cal = calendar or WorkCalendar.cached()
        if windows and not resource.open_on_holidays and day in cal.holidays:
            msg = _("%(day)s 是法定节假日，不开放预约。") % {"day": _day(day)}
        else:
            msg = _("不在开放时间内：%(day)s 开放时间为 %(w)s。") % {
                "day": _day(day),
                "w": fmt_windows(windows),
            }
        raise ValidationFailed(msg, code="closed", field="starts_at")


def fmt_minutes(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if h and m:
        return _("%(h)d 小时 %(m)d 分钟") % {"h": h, "m": m}
    if h:
        return _("%(h)d 小时") % {"h": h}
    return _("%(m)d 分钟") % {"m": m}


@dataclass(frozen=True)
class Party:
    """Who a booking is for, worked out from the actor and the optional resident."""

    resident: Resident | None
    user_id: int | None
    home_community_id: int
    channel: str


def _party(*, actor: Actor, resource: Resource, resident: Resident | None, channel: str) -> Party:
    """Permission first: booking for oneself needs ``RESOURCE.book``; booking for a
    resident (代办) needs ``book_for``, the resident within the resource's sharing scope,
    and a channel other than ``self``."""
    scope = scope_of(actor)
    if resident is not None and resident.pk != scope.resident_id:
        RESOURCE.check(actor, resource, "book_for")
        if resident.community_id not in community_ids(actor, DESK_ROLES):
            raise PermissionDenied(_("只能为本社区的居民代办预约。"))
        if resource.bookable_by == "staff" or not eligible_community(
            resident.community_id, resource
        ):
            raise PermissionDenied(_("该居民不在此资源的开放范围内。"))
        refusal = ban_refusal(resident.pk)
        if refusal is not None:
            raise refusal
        if channel not in Channel.values or channel == Channel.SELF:
            raise ValidationFailed(_("代办请选择渠道（电话、上门或窗口）。"), field="channel")
        return Party(resident, resident.user_id, resident.community_id, channel)
    RESOURCE.check(actor, resource, "book")
    if scope.resident_id is not None and (
        resource.bookable_by != "staff" or not desk_in(actor, resource)
    ):
        # scope_of() loaded the user's resident record already; use it, not a re-read.
        own = getattr(actor, "resident", None)
        if own is None or own.pk != scope.resident_id:  # pragma: no cover - defensive
            own = Resident.objects.filter(pk=scope.resident_id).first()
        if own is None:  # pragma: no cover - the scope was just read from it
            raise NotFound()
        return Party(own, getattr(actor, "pk", None), own.community_id, Channel.SELF)
    # Desk staff booking for community work: no resident, no deposit.
    return Party(None, getattr(actor, "pk", None), resource.community_id, Channel.SELF)


def _lock_resource(resource: Resource) -> None:
    """Serialise bookings of one resource (see the module docstring) and re-check, on
    the locked row, that it still takes bookings."""
    status = (
        Resource.objects.select_for_update(no_key=True)
        .filter(pk=resource.pk, community_id=resource.community_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != ResourceStatus.ACTIVE:
        raise Conflict(_("此资源已暂停预约或已下架。"), code="not_active")


def _needs_approval(resource: Resource, party: Party) -> bool:
    if resource.approval_required:
        return True
    return resource.outside_approval and party.home_community_id != resource.community_id


def _live_booking_of_gift(resource: Resource) -> bool:
    return (
        resource.share_mode == ShareMode.GIVE
        and Booking.objects.filter(
            community_id=resource.community_id, resource=resource, status__in=LIVE_STATUSES
        ).exists()
    )


def _insert(
    *,
    w: Write,
    actor: Actor,
    resource: Resource,
    party: Party,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    key: str = "",
    series: BookingSeries | None = None,
) -> Booking:
    """Check the slot is free and insert the booking, holding its deposit.
    Precondition: inside the caller's transaction, the slot's rules already checked."""
    other = clash(resource, starts_at, ends_at)
    if other is not None:
        raise _clash_error(other)
    points = resource.deposit_points if party.resident is not None else 0
    booking = Booking.objects.create(
        community_id=resource.community_id,
        resource=resource,
        series=series,
        resident=party.resident,
        user_id=party.user_id,
        booker_community_id=party.home_community_id,
        booked_by_id=getattr(actor, "pk", None),
        channel=party.channel,
        starts_at=starts_at,
        ends_at=ends_at,
        status=BookingStatus.REQUESTED
        if _needs_approval(resource, party)
        else BookingStatus.CONFIRMED,
        purpose=purpose,
        deposit_points=points,
        idempotency_key=key,
    )
    if points and party.resident is not None:
        deposit.hold(w=w, actor=actor, booking=booking, resident=party.resident)
        Booking.objects.filter(pk=booking.pk, community_id=booking.community_id).update(
            deposit_tx=booking.deposit_tx, deposit_state=booking.deposit_state
        )
    return booking


def _notify_owner(w: Write, resource: Resource, booking: Booking) -> None:
    owner = resource.owner_resident if resource.owner_kind == "resident" else None
    if owner is not None and owner.user_id and booking.status == BookingStatus.REQUESTED:
        w.notify(
            Message(
                "inapp",
                str(owner.user_id),
                _("有人申请您共享的物品"),
                _("“%(r)s”收到一条预约申请，请在“我的共享”中处理。") % {"r": resource.name},
            )
        )


# --------------------------------------------------------------------------- one booking


def booking_create(
    *,
    actor: Actor,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    resident: Resident | None = None,
    purpose: str = "",
    channel: str = Channel.SELF,
    idempotency_key: str = "",
) -> Booking:
    """Book ``[starts_at, ends_at)``. ``resident``: for a resident other than oneself
    (代办, with ``channel``). A retry with the same idempotency key returns the
    booking already made."""
    party = _party(actor=actor, resource=resource, resident=resident, channel=channel)
    key = idempotency.clean(idempotency_key)
    if key:
        existing = Booking.objects.filter(
            community_id=resource.community_id, idempotency_key=key
        ).first()
        if existing is not None:
            return _replay(existing, actor)
    ratelimit.check("resources.book", user=actor)
    purpose = within(purpose, field="purpose", limit=PURPOSE_LIMIT, label=_("用途"))
    check_slot(resource, starts_at, ends_at, now=clock.now())
    try:
        with governed_write(
            actor=actor, action="resources.booking_created", community_id=resource.community_id
        ) as w:
            _lock_resource(resource)
            if _live_booking_of_gift(resource):
                raise Conflict(_("这件物品已有人申请，请留意其他闲置物品。"), code="taken")
            booking = _insert(
                w=w,
                actor=actor,
                resource=resource,
                party=party,
                starts_at=starts_at,
                ends_at=ends_at,
                purpose=purpose,
                key=key,
            )
            w.target = booking
            w.payload.update(
                resource=resource.pk,
                starts_at=starts_at.isoformat(),
                ends_at=ends_at.isoformat(),
                status=booking.status,
                channel=party.channel,
                deposit=booking.deposit_points,
                booker_community=party.home_community_id,
            )
            _notify_owner(w, resource, booking)
    except IntegrityError as exc:
        if key:  # an identical request committed first: answer with its booking
            existing = Booking.objects.filter(
                community_id=resource.community_id, idempotency_key=key
            ).first()
            if existing is not None:
                return _replay(existing, actor)
        refusal = _overlap_refusal(exc)
        if refusal is None:
            raise
        raise refusal from exc
    return booking


def _replay(existing: Booking, actor: Actor) -> Booking:
    if existing.booked_by_id != getattr(actor, "pk", None):
        raise Conflict(_("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict")
    return existing


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class Occurrence:
    day: date
    starts_at: datetime
    ends_at: datetime
    # "ok", "holiday", "closed", "conflict", "past"
    status: str
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _series_dates(first: date, last: date) -> list[date]:
    out = []
    d = first
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


def series_report(
    *,
    resource: Resource,
    first_date: date,
    last_date: date,
    start_time: time,
    end_time: time,
    now: datetime | None = None,
) -> list[Occurrence]:
    """The conflict report: each weekly date from ``first_date`` to ``last_date`` with
    whether it can be booked — or why not (holiday, closed, already booked, past).
    Rules that apply to every date (duration, how far ahead, quarter hours) are refused
    as a whole, before the report."""
    now = now or clock.now()
    if last_date < first_date:
        raise ValidationFailed(_("截止日期不能早于首次日期。"), field="last_date")
    dates = _series_dates(first_date, last_date)
    if len(dates) > MAX_OCCURRENCES:
        raise ValidationFailed(
            _("周期预约最多 %(n)d 次。") % {"n": MAX_OCCURRENCES}, field="last_date"
        )
    first_start = datetime.combine(first_date, start_time, tzinfo=LOCAL_TZ)
    first_end = datetime.combine(first_date, end_time, tzinfo=LOCAL_TZ)
    if first_end <= first_start:
        raise ValidationFailed(_("结束时间必须晚于开始时间。"), field="end_time")
    last_start = datetime.combine(dates[-1], start_time, tzinfo=LOCAL_TZ)
    if last_start > now + timedelta(days=resource.max_advance_days):
        raise ValidationFailed(
            _("最多提前 %(n)d 天预约，请把截止日期提前。") % {"n": resource.max_advance_days},
            field="last_date",
        )
    minutes = int((first_end - first_start).total_seconds() // 60)
    if minutes > resource.max_minutes:
        raise ValidationFailed(
            _("超过单次最长使用时间（%(max)s），您选择了 %(n)s。")
            % {"max": fmt_minutes(resource.max_minutes), "n": fmt_minutes(minutes)},
            code="too_long",
            field="end_time",
        )
    hours = list(resource.hours.all())
    cal = WorkCalendar.cached()
    names = holiday_names(dates[0], dates[-1])
    taken = list(
        Booking.objects.filter(
            community_id=resource.community_id,
            resource_id=resource.pk,
            status__in=LIVE_STATUSES,
            starts_at__lt=datetime.combine(dates[-1], end_time, tzinfo=LOCAL_TZ),
            ends_at__gt=first_start,
        ).values_list("starts_at", "ends_at")
    )
    out: list[Occurrence] = []
    for d in dates:
        s = datetime.combine(d, start_time, tzinfo=LOCAL_TZ)
        e = datetime.combine(d, end_time, tzinfo=LOCAL_TZ)
        if s < now:
            out.append(Occurrence(d, s, e, "past", _("已过去")))
            continue
        if not resource.open_on_holidays and d in cal.holidays:
            out.append(Occurrence(d, s, e, "holiday", names.get(d, _("法定节假日"))))
            continue
        try:
            check_slot(resource, s, e, now=now, calendar=cal, hours=hours)
        except ValidationFailed as exc:
            out.append(Occurrence(d, s, e, "closed", str(exc.message)))
            continue
        hit = next(((a, b) for a, b in taken if a < e and s < b), None)
        if hit is not None:
            out.append(
                Occurrence(
                    d,
                    s,
                    e,
                    "conflict",
                    _("已被预约 %(a)s–%(b)s")
                    % {
                        "a": _t(hit[0]),
                        "b": _t(hit[1]),
                    },
                )
            )
            continue
        out.append(Occurrence(d, s, e, "ok"))
    return out


def series_preview(
    *,
    actor: Actor,
    resource: Resource,
    first_date: date,
    last_date: date,
    start_time: time,
    end_time: time,
    resident: Resident | None = None,
    channel: str = Channel.SELF,
) -> list[Occurrence]:
    """The conflict report for ``actor`` (who must be allowed to book); writes nothing."""
    _party(actor=actor, resource=resource, resident=resident, channel=channel)
    return series_report(
        resource=resource,
        first_date=first_date,
        last_date=last_date,
        start_time=start_time,
        end_time=end_time,
    )


def series_create(
    *,
    actor: Actor,
    resource: Resource,
    first_date: date,
    last_date: date,
    start_time: time,
    end_time: time,
    resident: Resident | None = None,
    purpose: str = "",
    channel: str = Channel.SELF,
    idempotency_key: str = "",
) -> BookingSeries:
    """Confirm a recurring booking: the report is worked out again inside the
    transaction and every bookable date is booked (holidays, closed days and taken
    dates are skipped and kept on the series). If someone books one of those dates
    in between, the whole series is refused — nothing is booked — and the person sees
    the fresh report."""
    party = _party(actor=actor, resource=resource, resident=resident, channel=channel)
    if resource.share_mode == ShareMode.GIVE or resource.kind == ResourceKind.ITEM:
        raise ValidationFailed(_("闲置物品不能周期预约。"), field="resource")
    key = idempotency.clean(idempotency_key)
    if key:
        done = BookingSeries.objects.filter(
            community_id=resource.community_id, idempotency_key=key
        ).first()
        if done is not None:
            if done.user_id != party.user_id or done.resident_id != getattr(
                party.resident, "pk", None
            ):
                raise Conflict(
                    _("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict"
                )
            return done
    ratelimit.check("resources.book", user=actor)
    purpose = within(purpose, field="purpose", limit=PURPOSE_LIMIT, label=_("用途"))
    try:
        with governed_write(
            actor=actor, action="resources.series_created", community_id=resource.community_id
        ) as w:
            _lock_resource(resource)
            report = series_report(
                resource=resource,
                first_date=first_date,
                last_date=last_date,
                start_time=start_time,
                end_time=end_time,
            )
            ok = [o for o in report if o.ok]
            if not ok:
                raise Conflict(_("所选日期都不能预约，请查看冲突报告。"), code="nothing_to_book")
            series = BookingSeries.objects.create(
                community_id=resource.community_id,
                resource=resource,
                resident=party.resident,
                user_id=party.user_id,
                weekday=first_date.weekday(),
                start_time=start_time,
                end_time=end_time,
                first_date=first_date,
                last_date=last_date,
                purpose=purpose,
                skipped=[[o.day.isoformat(), o.status, o.note] for o in report if not o.ok],
                idempotency_key=key,
            )
            ids = [
                _insert(
                    w=w,
                    actor=actor,
                    resource=resource,
                    party=party,
                    starts_at=o.starts_at,
                    ends_at=o.ends_at,
                    purpose=purpose,
                    series=series,
                ).pk
                for o in ok
            ]
            w.target = series
            w.payload.update(
                resource=resource.pk,
                bookings=ids,
                skipped=len(report) - len(ok),
                channel=party.channel,
            )
    except IntegrityError as exc:
        refusal = _overlap_refusal(exc)
        if refusal is None:
            raise
        raise Conflict(
            _("有日期刚刚被其他人预约，周期预约未保存，请重新查看冲突报告。"), code="overlap"
        ) from exc
    return series


# --------------------------------------------------------------------------- life


def _notify_booker(w: Write, booking: Booking, subject: str, body: str) -> None:
    if booking.user_id and booking.user_id != getattr(w.actor, "pk", None):
        w.notify(Message("inapp", str(booking.user_id), subject, body))


def booking_approve(*, actor: Actor, booking: Booking, note: str = "") -> Booking:
    note = within(note, field="note", limit=200, label=_("审批意见"))

    def effects(row: Booking, w: Write) -> None:
        row.decided_by_id = getattr(actor, "pk", None)
        row.decision_note = note
        _notify_booker(
            w,
            row,
            _("预约已通过"),
            _("您预约的“%(r)s”（%(d)s %(t)s）已通过。")
            % {"r": row.resource.name, "d": _day(row.starts_at), "t": _t(row.starts_at)},
        )

    return BOOKING.apply(actor=actor, obj=booking, action="approve", effects=effects)


def booking_reject(*, actor: Actor, booking: Booking, reason: str) -> Booking:
    reason = within(reason, field="reason", limit=200, label=_("理由"))

    def effects(row: Booking, w: Write) -> None:
        row.decided_by_id = getattr(actor, "pk", None)
        row.decision_note = reason
        if row.deposit_state == DepositState.HELD:
            deposit.release(w=w, actor=actor, booking=row)
        _notify_booker(
            w,
            row,
            _("预约未通过"),
            _("您预约的“%(r)s”未通过：%(why)s") % {"r": row.resource.name, "why": reason},
        )

    return BOOKING.apply(actor=actor, obj=booking, action="reject", reason=reason, effects=effects)


def booking_cancel(*, actor: Actor, booking: Booking, reason: str = "") -> Booking:
    reason = within(reason, field="reason", limit=200, label=_("理由"))

    def effects(row: Booking, w: Write) -> None:
        if row.deposit_state == DepositState.HELD:
            deposit.release(w=w, actor=actor, booking=row)
        _notify_booker(
            w,
            row,
            _("预约已取消"),
            _("您预约的“%(r)s”（%(d)s %(t)s）已被取消。")
            % {"r": row.resource.name, "d": _day(row.starts_at), "t": _t(row.starts_at)},
        )

    return BOOKING.apply(actor=actor, obj=booking, action="cancel", reason=reason, effects=effects)


def _photos(uploads: Sequence[Any]) -> list[Any]:
    if not uploads:
        return []
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(_("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos")
    return clean_photos(list(uploads))


def _store(row: Booking, photos: Sequence[Any], kind: str, actor: Actor) -> None:
    for i, c in enumerate(photos):
        p = BookingPhoto(
            community_id=row.community_id,
            booking=row,
            kind=kind,
            content_type=c.content_type,
            width=c.width,
            height=c.height,
            uploaded_by_id=getattr(actor, "pk", None),
        )
        ext = (c.content.name or "photo.jpg").rsplit(".", 1)[-1]
        p.image.save(f"b{row.pk}-{kind}-{i}.{ext}", c.content, save=False)
        p.save()


def booking_check_out(
    *, actor: Actor, booking: Booking, note: str = "", photos: Sequence[Any] = ()
) -> Booking:
    """Pick-up (the room opened, the ladder handed out), with the condition as found."""
    note = within(note, field="note", limit=NOTE_LIMIT, label=_("取用时状况"))
    cleaned = _photos(photos)

    def effects(row: Booking, w: Write) -> None:
        row.checked_out_at = clock.now()
        row.checked_out_by_id = getattr(actor, "pk", None)
        row.checkout_note = note
        _store(row, cleaned, PhotoKind.CHECKOUT, actor)
        w.payload["photos"] = len(cleaned)

    return BOOKING.apply(actor=actor, obj=booking, action="check_out", effects=effects)


def booking_return(
    *,
    actor: Actor,
    booking: Booking,
    condition: str,
    note: str = "",
    photos: Sequence[Any] = (),
) -> Booking:
    """Return with the condition. A return in good order recorded by the resource's
    manager or desk staff releases the deposit at once; otherwise (the booker's own
    return, or damage / loss) the deposit stays held until a manager inspects it."""
    if condition not in Condition.values:
        raise ValidationFailed(_("请选择归还时的状况。"), field="condition")
    note = within(note, field="note", limit=NOTE_LIMIT, label=_("归还说明"))
    if condition in (Condition.DAMAGED, Condition.LOST) and not note:
        raise ValidationFailed(_("有损坏或遗失时，请写明情况。"), field="note")
    cleaned = _photos(photos)

    def effects(row: Booking, w: Write) -> None:
        row.returned_at = clock.now()
        row.returned_by_id = getattr(actor, "pk", None)
        row.return_condition = condition
        row.return_note = note
        _store(row, cleaned, PhotoKind.RETURN, actor)
        # The manager, owner or desk staff looked at it; the booker's own word does not
        # release the deposit.
        staff = bool(desk_in(actor, row.resource) or can_manage_resource(actor, row.resource))
        if (
            row.deposit_state == DepositState.HELD
            and staff
            and condition in (Condition.GOOD, Condition.WORN)
        ):
            deposit.release(w=w, actor=actor, booking=row)
        w.payload.update(condition=condition, photos=len(cleaned))

    return BOOKING.apply(actor=actor, obj=booking, action="return", effects=effects)


def booking_hand_over(*, actor: Actor, booking: Booking, note: str = "") -> Booking:
    """An item given away: handed to the booker; the listing is closed (retired)."""
    note = within(note, field="note", limit=NOTE_LIMIT, label=_("说明"))

    def effects(row: Booking, w: Write) -> None:
        row.checked_out_at = clock.now()
        row.checked_out_by_id = getattr(actor, "pk", None)
        row.checkout_note = note
        if row.deposit_state == DepositState.HELD:
            deposit.release(w=w, actor=actor, booking=row)
        Resource.objects.filter(pk=row.resource_id, community_id=row.community_id).update(
            status=ResourceStatus.RETIRED
        )
        w.also(
            action="resources.resource.retire",
            target=row.resource,
            payload={"reason": "handed_over", "booking": row.pk},
        )

    return BOOKING.apply(actor=actor, obj=booking, action="hand_over", effects=effects)


def booking_no_show(*, actor: Actor, booking: Booking) -> Booking:
    """Record a no-show (30 minutes after the start, nothing picked up). The slot is
    freed, the deposit goes to the public fund, and the third no-show within 60 days
    suspends the resident's booking rights for 30 days (``states.banned_until``)."""

    def effects(row: Booking, w: Write) -> None:
        if row.deposit_state == DepositState.HELD:
            deposit.forfeit(w=w, actor=actor, booking=row, reason=_("爽约"))
        _notify_booker(
            w,
            row,
            _("预约记为爽约"),
            _("您预约的“%(r)s”（%(d)s %(t)s）未按时取用，已记为爽约。")
            % {"r": row.resource.name, "d": _day(row.starts_at), "t": _t(row.starts_at)},
        )

    return BOOKING.apply(actor=actor, obj=booking, action="no_show", effects=effects)


def deposit_settle(*, actor: Actor, booking: Booking, forfeit: bool, reason: str = "") -> Booking:
    """A manager releases or forfeits a deposit still held after the booking ended."""
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    action = "forfeit" if forfeit else "release"

    def effects(row: Booking, w: Write) -> None:
        if forfeit:
            deposit.forfeit(w=w, actor=actor, booking=row, reason=reason)
        else:
            deposit.release(w=w, actor=actor, booking=row)

    return DEPOSIT.apply(actor=actor, obj=booking, action=action, reason=reason, effects=effects)


def no_show_sweep(*, now: datetime | None = None) -> int:
    """The system records no-shows for confirmed bookings whose start passed more than
    the grace period ago (run every few minutes by the task worker); returns how many."""
    from linli.resources.states import NO_SHOW_GRACE

    now = now or clock.now()
    due = list(
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            starts_at__lte=now - NO_SHOW_GRACE,
            resource__share_mode=ShareMode.LEND,
        )
        .select_related("resource")
        .order_by("pk")[:500]
    )
    n = 0
    for b in due:
        try:
            booking_no_show(actor=None, booking=b)
        except DomainError:
            continue  # picked up or cancelled in between
        n += 1
    return n
