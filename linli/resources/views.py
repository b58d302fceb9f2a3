"""Resource pool pages: find a resource, its day and week calendar, book (once or every
week, with the conflict report first), my bookings with pick-up / return; staff: the
desk queue, utilisation with idle flags, listing and editing resources. Every page
works without JavaScript; buttons come from the state machines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.calendar import LOCAL_TZ
from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from linli.core.web import date_or_none, int_or_none
from linli.core.web import run_service as _attempt
from linli.resources import clock, selectors, services
from linli.resources.hours import GRANULARITY_MINUTES, WEEKDAYS, parse_day, weekday_label
from linli.resources.models import (
    BookableBy,
    Booking,
    BookingPhoto,
    Channel,
    Condition,
    OwnerKind,
    Resource,
    ResourceKind,
    ResourcePhoto,
    ShareMode,
    ShareScope,
)
from linli.resources.permissions import DESK_ROLES, MANAGER_ROLES, community_ids, desk_in
from linli.resources.states import BOOKING, DEPOSIT, RESOURCE


def _today() -> date:
    return clock.now().astimezone(LOCAL_TZ).date()


def _hhmm(raw: str | None, field: str) -> time:
    try:
        h, m = (int(x) for x in (raw or "").split(":", 1))
        return time(h, m)
    except (ValueError, TypeError):
        raise ValidationFailed(_("请选择时间。"), field=field) from None


def _times(resource: Resource) -> list[str]:
    """Quarter-hour choices from the earliest opening to the latest closing."""
    hours = list(resource.hours.all())
    if not hours:
        return []
    lo = min(h.opens for h in hours)
    hi = max(h.closes for h in hours)
    out = []
    t = datetime.combine(date(2000, 1, 1), lo)
    end = datetime.combine(date(2000, 1, 1), hi)
    while t <= end:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=GRANULARITY_MINUTES)
    return out


def _weekly(resource: Resource) -> list[tuple[str, str]]:
    by_day: dict[int, list[str]] = {}
    for h in resource.hours.all():
        by_day.setdefault(h.weekday, []).append(f"{h.opens:%H:%M}–{h.closes:%H:%M}")
    return [(weekday_label(d), "、".join(by_day.get(d, [])) or _("不开放")) for d in range(7)]


# --------------------------------------------------------------------------- residents


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:40]
    kind = request.GET.get("kind", "")
    kind = kind if kind in ResourceKind.values else ""
    items = selectors.resources_for(viewer=request.user, q=q, kind=kind)
    return render(
        request,
        "resources/list.html",
        {
            "items": items[:100],
            "q": q,
            "kind": kind,
            "kinds": ResourceKind.choices,
            "can_list_item": scope_of(request.user).resident_id is not None,
            "manage_ids": community_ids(request.user, MANAGER_ROLES),
            "user_community": scope_of(request.user).community_id,
        },
    )


def _desk(request: HttpRequest, r: Resource) -> bool:
    return bool(desk_in(request.user, r))


@login_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    day = date_or_none(request.GET.get("date")) or _today()
    cal = selectors.calendar_for(viewer=request.user, resource=r, first=day)[0]
    start = request.GET.get("start", "")
    times = _times(r)
    if start not in times:
        start = ""
    end = ""
    if start:
        # Suggest an hour (or the maximum, if shorter), clipped to the choices.
        s = datetime.combine(day, _hhmm(start, "start"))
        e = (s + timedelta(minutes=min(60, r.max_minutes))).strftime("%H:%M")
        end = e if e in times else ""
    can_book = RESOURCE.can(request.user, r, "book")
    can_book_for = RESOURCE.can(request.user, r, "book_for")
    refusal = None if can_book else RESOURCE.refusal(request.user, r, "book")
    return render(
        request,
        "resources/detail.html",
        {
            "r": r,
            "day": cal,
            "date": day,
            "prev": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "week_start": day - timedelta(days=day.weekday()),
            "weekly": _weekly(r),
            "times": times,
            "start": start,
            "end": end,
            "can_book": can_book,
            "can_book_for": can_book_for,
            "refusal": refusal.message if refusal is not None and r.status == "active" else "",
            "channels": [c for c in Channel.choices if c[0] != Channel.SELF],
            "can_series": r.kind != ResourceKind.ITEM,
            "manage": selectors.can_manage(request.user, r),
            "status_actions": [
                (a, RESOURCE[a].label)
                for a in ("suspend", "resume", "retire")
                if RESOURCE.can(request.user, r, a)
            ],
            "photos": list(r.photos.all()),
            "max_text": services.fmt_minutes(r.max_minutes),
        },
    )


@login_required
def resource_week(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    first = date_or_none(request.GET.get("start")) or _today()
    first -= timedelta(days=first.weekday())
    week = selectors.calendar_for(viewer=request.user, resource=r, first=first, n_days=7)
    return render(
        request,
        "resources/week.html",
        {
            "r": r,
            "week": week,
            "first": first,
            "prev": first - timedelta(days=7),
            "next": first + timedelta(days=7),
        },
    )


def _resident_for(request: HttpRequest, r: Resource) -> Resident | None:
    """代办: the resident the desk is booking for, found by phone number in the
    desk's communities; empty = booking for oneself."""
    phone = request.POST.get("resident_phone", "").strip()
    if not phone:
        return None
    if not desk_in(request.user, r):
        raise NotFound()
    found = Resident.objects.filter(
        phone=phone, community_id__in=community_ids(request.user, DESK_ROLES)
    ).first()
    if found is None:
        raise ValidationFailed(_("本社区没有这个手机号的居民。"), field="resident_phone")
    return found


def _slot(request: HttpRequest) -> tuple[datetime, datetime]:
    d = date_or_none(request.POST.get("date"))
    if d is None:
        raise ValidationFailed(_("请选择日期。"), field="date")
    s = datetime.combine(d, _hhmm(request.POST.get("start"), "start"), tzinfo=LOCAL_TZ)
    e = datetime.combine(d, _hhmm(request.POST.get("end"), "end"), tzinfo=LOCAL_TZ)
    return s, e


@login_required
@require_POST
def book(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    holder: dict[str, Booking] = {}

    def go() -> None:
        s, e = _slot(request)
        holder["b"] = services.booking_create(
            actor=request.user,
            resource=r,
            starts_at=s,
            ends_at=e,
            resident=_resident_for(request, r),
            purpose=request.POST.get("purpose", ""),
            channel=request.POST.get("channel", Channel.SELF) or Channel.SELF,
            idempotency_key=idempotency.from_request(request),
        )

    if _attempt(request, go, _("预约成功！")):
        b = holder["b"]
        if b.status == "requested":
            messages.info(request, _("此预约需要审批，通过后会通知您。"))
        return redirect("resources:booking", pk=b.pk)
    # Back to the calendar of the day that was being booked, the form as it was.
    back = urlencode({"date": request.POST.get("date", ""), "start": request.POST.get("start", "")})
    return redirect(f"{reverse('resources:detail', args=[r.pk])}?{back}")


@login_required
def series(request: HttpRequest, pk: int) -> HttpResponse:
    """每周重复: the conflict report first (POST without ``confirm``), then the booking
    of every free date (``confirm=1``, the report's one-time key carried through)."""
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    ctx: dict[str, Any] = {"r": r, "times": _times(r), "post": request.POST or request.GET}
    if request.method != "POST":
        ctx["channels"] = [c for c in Channel.choices if c[0] != Channel.SELF]
        ctx["can_book_for"] = RESOURCE.can(request.user, r, "book_for")
        return render(request, "resources/series.html", ctx)
    try:
        first = date_or_none(request.POST.get("date"))
        last = date_or_none(request.POST.get("last_date"))
        if first is None:
            raise ValidationFailed(_("请选择首次日期。"), field="date")
        if last is None:
            raise ValidationFailed(_("请选择截止日期。"), field="last_date")
        st = _hhmm(request.POST.get("start"), "start")
        et = _hhmm(request.POST.get("end"), "end")
        resident = _resident_for(request, r)
        channel = request.POST.get("channel", Channel.SELF) or Channel.SELF
        if request.POST.get("confirm"):
            s = services.series_create(
                actor=request.user,
                resource=r,
                first_date=first,
                last_date=last,
                start_time=st,
                end_time=et,
                resident=resident,
                purpose=request.POST.get("purpose", ""),
                channel=channel,
                idempotency_key=idempotency.from_request(request),
            )
            messages.success(
                request,
                _("周期预约成功：共 %(n)d 次，跳过 %(k)d 次。")
                % {"n": s.bookings.count(), "k": len(s.skipped)},
            )
            return redirect("resources:my_bookings")
        report = services.series_preview(
            actor=request.user,
            resource=r,
            first_date=first,
            last_date=last,
            start_time=st,
            end_time=et,
            resident=resident,
            channel=channel,
        )
    except RateLimited:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
        ctx["channels"] = [c for c in Channel.choices if c[0] != Channel.SELF]
        ctx["can_book_for"] = RESOURCE.can(request.user, r, "book_for")
        return render(request, "resources/series.html", ctx)
    ctx.update(
        report=report,
        ok=sum(1 for o in report if o.ok),
        weekday=weekday_label(first.weekday()),
        key=idempotency.new_key(),
    )
    return render(request, "resources/series_report.html", ctx)


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    show_all = bool(request.GET.get("all"))
    return render(
        request,
        "resources/my_bookings.html",
        {
            "bookings": selectors.my_bookings(viewer=request.user, upcoming=not show_all)[:100],
            "listings": selectors.my_listings(viewer=request.user),
            "owner_requests": selectors.requests_for_owner(viewer=request.user),
            "show_all": show_all,
        },
    )


@login_required
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    flags = BOOKING.flags(request.user, b)
    return render(
        request,
        "resources/booking.html",
        {
            "b": b,
            "r": b.resource,
            "flags": flags,
            "deposit": DEPOSIT.flags(request.user, b),
            "conditions": Condition.choices,
            "photos": list(b.photos.all()),
            "staff_view": selectors.can_manage(request.user, b.resource)
            or desk_in(request.user, b.resource),
        },
    )


ACTIONS = {
    "approve": _("已通过。"),
    "reject": _("已不通过。"),
    "cancel": _("预约已取消。"),
    "check_out": _("已登记取用。"),
    "return": _("已登记归还，谢谢！"),
    "hand_over": _("已确认送出。"),
    "no_show": _("已记为爽约。"),
    "release": _("押金已退还。"),
    "forfeit": _("押金已扣除并转入社区公益基金。"),
}


@login_required
@require_POST
def booking_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    b = selectors.booking_get_for(viewer=request.user, pk=pk)
    if action not in ACTIONS:
        raise NotFound()
    p = request.POST
    photos = request.FILES.getlist("photos")
    u = request.user
    calls = {
        "approve": lambda: services.booking_approve(actor=u, booking=b, note=p.get("note", "")),
        "reject": lambda: services.booking_reject(actor=u, booking=b, reason=p.get("reason", "")),
        "cancel": lambda: services.booking_cancel(actor=u, booking=b, reason=p.get("reason", "")),
        "check_out": lambda: services.booking_check_out(
            actor=u, booking=b, note=p.get("note", ""), photos=photos
        ),
        "return": lambda: services.booking_return(
            actor=u,
            booking=b,
            condition=p.get("condition", ""),
            note=p.get("note", ""),
            photos=photos,
        ),
        "hand_over": lambda: services.booking_hand_over(actor=u, booking=b, note=p.get("note", "")),
        "no_show": lambda: services.booking_no_show(actor=u, booking=b),
        "release": lambda: services.deposit_settle(actor=u, booking=b, forfeit=False),
        "forfeit": lambda: services.deposit_settle(
            actor=u, booking=b, forfeit=True, reason=p.get("reason", "")
        ),
    }
    _attempt(request, calls[action], str(ACTIONS[action]))
    return redirect("resources:booking", pk=b.pk)


@login_required
def resource_photo(request: HttpRequest, pk: int) -> FileResponse:
    ph = ResourcePhoto.objects.select_related("resource").filter(pk=pk).first()
    if ph is None:
        raise NotFound()
    selectors.resource_get_for(viewer=request.user, pk=ph.resource_id)
    resp = FileResponse(ph.image.open("rb"), content_type=ph.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


@login_required
def booking_photo(request: HttpRequest, pk: int) -> FileResponse:
    """Condition photos: the booker and the resource's managers and desk staff."""
    ph = BookingPhoto.objects.filter(pk=pk).first()
    if ph is None:
        raise NotFound()
    selectors.booking_get_for(viewer=request.user, pk=ph.booking_id)
    resp = FileResponse(ph.image.open("rb"), content_type=ph.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


# --------------------------------------------------------------------------- staff


def _community(request: HttpRequest) -> OrgUnit:
    communities = selectors.manageable_communities(request.user)
    if not communities:
        raise NotFound()
    wanted = int_or_none(request.GET.get("community") or request.POST.get("community"))
    return next((c for c in communities if c.pk == wanted), communities[0])


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    return render(
        request,
        "resources/manage.html",
        {
            "community": community,
            "communities": selectors.manageable_communities(request.user),
            "queue": selectors.manage_queue(viewer=request.user, community_id=community.pk),
            "usage": selectors.utilisation_for(viewer=request.user, community_id=community.pk),
            "can_create": community.pk in community_ids(request.user, MANAGER_ROLES),
            "resources": Resource.objects.filter(community=community).order_by(
                "status", "kind", "name"
            ),
        },
    )


def _spec(request: HttpRequest) -> services.ResourceSpec:
    p = request.POST
    hours = {wd: parse_day(p.get(f"hours_{wd}", ""), wd) for wd in range(7)}
    return services.ResourceSpec(
        kind=p.get("kind", ""),
        name=p.get("name", ""),
        description=p.get("description", ""),
        location=p.get("location", ""),
        building_id=int_or_none(p.get("building")),
        share_mode=p.get("share_mode", ShareMode.LEND),
        bookable_by=p.get("bookable_by", BookableBy.RESIDENTS),
        share_scope=p.get("share_scope", ShareScope.COMMUNITY),
        max_minutes=p.get("max_minutes", "120"),
        max_advance_days=p.get("max_advance_days", "120"),
        deposit_points=p.get("deposit_points", "0") or "0",
        approval_required=bool(p.get("approval_required")),
        outside_approval=bool(p.get("outside_approval")),
        open_on_holidays=bool(p.get("open_on_holidays")),
        hours={wd: w for wd, w in hours.items() if w},
    )


def _form_ctx(request: HttpRequest, community: OrgUnit, **kw: Any) -> dict[str, Any]:
    return {
        "community": community,
        "kinds": ResourceKind.choices,
        "share_modes": ShareMode.choices,
        "bookable": BookableBy.choices,
        "scopes": ShareScope.choices,
        "buildings": Building.objects.filter(community=community).order_by("name"),
        "partners": Organisation.objects.filter(
            Q(communities=community) | Q(scope=community) | Q(scope_id=community.parent_id),
            kind__in=["enterprise", "social_org", "property"],
        ).distinct(),
        "weekdays": [
            (i, weekday_label(i), kw["post"].get(f"hours_{i}", "")) for i in range(len(WEEKDAYS))
        ],
        **kw,
    }


@login_required
def resource_new(request: HttpRequest) -> HttpResponse:
    """Staff list a venue or equipment (the community's or a partner's); a resident
    lists an idle item of their own (``?mine=1``)."""
    scope = scope_of(request.user)
    mine = bool(request.GET.get("mine") or request.POST.get("mine"))
    if mine:
        if scope.resident_id is None:
            raise NotFound()
        resident = Resident.objects.select_related("community").get(pk=scope.resident_id)
        community: OrgUnit = resident.community
    else:
        community = _community(request)
    post: Any = request.POST
    if request.method == "POST":
        holder: dict[str, Resource] = {}

        def go() -> None:
            owner_kind = OwnerKind.RESIDENT if mine else request.POST.get("owner_kind", "")
            org = None
            if owner_kind == OwnerKind.PARTNER:
                org = Organisation.objects.filter(
                    pk=int_or_none(post.get("owner_org")) or 0
                ).first()
            holder["r"] = services.resource_create(
                actor=request.user,
                community=community,
                spec=_spec(request),
                owner_kind=owner_kind or OwnerKind.COMMUNITY,
                owner_org=org,
                owner_resident=resident if mine else None,
                photos=request.FILES.getlist("photos"),
                idempotency_key=idempotency.from_request(request),
            )

        if _attempt(request, go, _("已发布到资源池。")):
            return redirect("resources:detail", pk=holder["r"].pk)
    else:
        post = {
            "max_minutes": 120,
            "max_advance_days": 60,
            "deposit_points": 0,
            "outside_approval": "1",
            **{f"hours_{d}": "08:00-20:00" for d in range(7)},
            "kind": "item" if mine else "venue",
        }
    return render(
        request, "resources/form.html", _form_ctx(request, community, post=post, mine=mine)
    )


@login_required
def resource_edit(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    if not selectors.can_manage(request.user, r):
        raise NotFound()
    if request.method == "POST":
        if _attempt(
            request,
            lambda: services.resource_update(
                actor=request.user,
                resource=r,
                spec=_spec(request),
                photos=request.FILES.getlist("photos"),
            ),
            _("已保存。"),
        ):
            return redirect("resources:detail", pk=r.pk)
        post: Any = request.POST
    else:
        by_day: dict[int, list[str]] = {}
        for h in r.hours.all():
            by_day.setdefault(h.weekday, []).append(f"{h.opens:%H:%M}-{h.closes:%H:%M}")
        post = {
            "kind": r.kind,
            "name": r.name,
            "description": r.description,
            "location": r.location,
            "building": r.building_id,
            "share_mode": r.share_mode,
            "bookable_by": r.bookable_by,
            "share_scope": r.share_scope,
            "max_minutes": r.max_minutes,
            "max_advance_days": r.max_advance_days,
            "deposit_points": r.deposit_points,
            "approval_required": "1" if r.approval_required else "",
            "outside_approval": "1" if r.outside_approval else "",
            "open_on_holidays": "1" if r.open_on_holidays else "",
            **{f"hours_{d}": ", ".join(by_day.get(d, [])) for d in range(7)},
        }
    return render(
        request,
        "resources/form.html",
        _form_ctx(
            request,
            r.community,
            post=post,
            r=r,
            mine=r.owner_kind == OwnerKind.RESIDENT,
        ),
    )


@login_required
@require_POST
def resource_status(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.resource_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    _attempt(
        request,
        lambda: services.resource_set_status(
            actor=request.user, resource=r, action=action, reason=request.POST.get("reason", "")
        ),
        _("状态已更新。"),
    )
    return redirect("resources:detail", pk=r.pk)
