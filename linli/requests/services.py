"""Every write to requests: check permission → validate → transaction (lock, change,
timeline event, audit event) → notify on commit.

Services take an optional ``now`` so tests and the sweep can use a fixed clock; pages
and the API never pass it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role
from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import audit
from linli.core.calendar import WorkCalendar
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from linli.core.notify import Message, send_on_commit
from linli.requests import deadlines
from linli.requests.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    DueState,
    EventKind,
    Open311Client,
    PhotoKind,
    RequestEvent,
    RequestPhoto,
    ServiceRequest,
    Status,
    Support,
    UnitKind,
)
from linli.requests.permissions import (
    MANAGER_ROLES,
    actor_kinds,
    can_record_in,
    can_view,
    is_community_resident,
    is_org_staff,
    is_reporter,
)
from linli.requests.photos import MAX_PHOTOS, clean_photo
from linli.requests.routing import Target, locate_point, parse_target, route
from linli.requests.states import TRANSITIONS, Transition

MIN_DESCRIPTION = 5
MAX_DESCRIPTION = 2000
URGE_INTERVAL = timedelta(hours=24)
REOPEN_WINDOW = timedelta(days=7)
AUTO_CLOSE_AFTER = timedelta(days=7)
ESCALATE_INTERVAL = timedelta(hours=24)
STAFF_CHANNELS = (Channel.HOTLINE, Channel.BOX, Channel.VISIT)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# ---------------------------------------------------------------- helpers


def _lock(req: ServiceRequest) -> ServiceRequest:
    """Re-read the row under a lock: concurrent actions on one request serialise."""
    return (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("category", "community", "grid", "building")
        .get(pk=req.pk)
    )


def _event(
    req: ServiceRequest,
    *,
    actor: Any,
    kind: str,
    now: datetime,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    public: bool = True,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=req,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note[:2000],
        public=public,
    )


def _audit(actor: Any, action: str, req: ServiceRequest, **payload: Any) -> None:
    audit.record(
        actor=actor if getattr(actor, "pk", None) else None,
        action=f"requests.{action}",
        target=req,
        community_id=req.community_id,
        payload={"status": req.status, **payload},
    )


def _reporter_phone(req: ServiceRequest) -> str:
    if req.reporter_id and req.reporter is not None and req.reporter.phone:
        return req.reporter.phone
    return req.reporter_phone


def _notify_reporter(req: ServiceRequest, body: str) -> None:
    phone = _reporter_phone(req)
    if phone:
        send_on_commit(Message("sms", phone, _("诉求进度"), f"#{req.pk} {body}"))


def _staff_users(req: ServiceRequest, level: int) -> list[str]:
    """Usernames to tell at an escalation level: 0 grid/assignee, 1 community, 2 street."""
    qs = Membership.objects.active()
    names: set[str] = set()
    if level == 0:
        if req.grid_id:
            names |= set(
                qs.filter(role=Role.GRID_WORKER, unit_id=req.grid_id).values_list(
                    "user__username", flat=True
                )
            )
        if req.assignee_org_id:
            names |= set(
                qs.filter(organisation_id=req.assignee_org_id).values_list(
                    "user__username", flat=True
                )
            )
    elif level == 1:
        names |= set(
            qs.filter(
                role__in=[Role.COMMUNITY_WORKER, Role.SECRETARY], unit_id=req.community_id
            ).values_list("user__username", flat=True)
        )
    else:
        street_id = req.community.parent_id
        names |= set(
            qs.filter(role=Role.STREET_OFFICER, unit_id=street_id).values_list(
                "user__username", flat=True
            )
        )
    return sorted(names)


def _notify_staff(req: ServiceRequest, level: int, body: str) -> None:
    for username in _staff_users(req, level):
        send_on_commit(Message("inapp", username, _("诉求工单"), f"#{req.pk} {body}"))


def _check(actor: Any, req: ServiceRequest, action: str) -> Transition:
    """Permission first, then state. ``actor=None`` is the system (the sweep)."""
    t = TRANSITIONS[action]
    if actor is None:
        kinds = {"system"}
    else:
        if not can_view(actor, req):
            raise NotFound()
        kinds = actor_kinds(actor, req)
    if not kinds & t.actors:
        raise PermissionDenied(_("您不能对该诉求执行“%(action)s”操作。") % {"action": t.label})
    if req.status not in t.sources:
        raise InvalidTransition(
            _("诉求当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": req.get_status_display(), "action": t.label}
        )
    return t


def _apply(
    req: ServiceRequest,
    t: Transition,
    *,
    actor: Any,
    now: datetime,
    note: str = "",
    public: bool = True,
    **payload: Any,
) -> None:
    from_status = req.status
    req.status = t.target
    deadlines.refresh(req, now=now)
    req.save()
    _event(
        req,
        actor=actor,
        kind=EventKind.TRANSITION,
        now=now,
        note=note,
        from_status=from_status,
        to_status=t.target,
        public=public,
    )
    _audit(actor, t.action, req, **{"from": from_status, "to": t.target, **payload})


def _clean_text(text: str, *, field: str, min_len: int, max_len: int, what: str) -> str:
    text = (text or "").strip()
    if len(text) < min_len:
        raise ValidationFailed(
            _("请填写%(what)s（至少 %(n)d 个字）。") % {"what": what, "n": min_len}, field=field
        )
    if len(text) > max_len:
        raise ValidationFailed(
            _("%(what)s不能超过 %(n)d 个字。") % {"what": what, "n": max_len}, field=field
        )
    return text


def _decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(_("坐标格式不正确。"), field=field) from exc
    if not d.is_finite():
        raise ValidationFailed(_("坐标格式不正确。"), field=field)
    return d


def _save_photos(
    req: ServiceRequest, uploads: Sequence[Any], *, kind: str, actor: Any
) -> list[RequestPhoto]:
    """Validate every photo before touching storage or the database."""
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(_("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos")
    cleaned = [clean_photo(u, name=f"r{req.pk or 'new'}-{kind}-{i}") for i, u in enumerate(uploads)]
    out = []
    for c in cleaned:
        photo = RequestPhoto(
            request=req,
            kind=kind,
            content_type=c.content_type,
            width=c.width,
            height=c.height,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        photo.image.save(c.content.name or "photo", c.content, save=False)
        photo.save()
        out.append(photo)
    return out


def _clean_photos(uploads: Sequence[Any]) -> None:
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(_("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos")
    for u in uploads:
        clean_photo(u)
        if hasattr(u, "seek"):
            u.seek(0)


def _set_assignee(req: ServiceRequest, target: Target) -> None:
    req.assignee_org = target.org
    req.assignee_unit = target.unit


# ---------------------------------------------------------------- submit


def request_submit(
    *,
    actor: Any,
    category: Category | None,
    description: str,
    building: Building | None = None,
    lat: Any = None,
    lng: Any = None,
    address: str = "",
    photos: Sequence[Any] = (),
    channel: str = Channel.APP,
    community: OrgUnit | None = None,
    resident: Resident | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    open311_client: Open311Client | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    """Report a problem.

    * ``channel=app/api`` – ``actor`` is a registered resident; the community is theirs.
    * ``channel=hotline/box/visit`` (代办) – ``actor`` is staff covering ``community``;
      ``resident`` (optional) is who the record is for.
    * ``channel=open311`` – ``actor`` is None and ``open311_client`` fixes the community.
    """
    now = _now(now)
    reporter = None
    reporter_resident = None
    if channel in (Channel.APP, Channel.API):
        scope = scope_of(actor)
        if scope.resident_id is None or scope.community_id is None:
            raise PermissionDenied(_("只有登记在册的居民可以提交诉求；工作人员请使用代办登记。"))
        community = OrgUnit.objects.get(pk=scope.community_id)
        reporter = actor
        reporter_resident = Resident.objects.filter(pk=scope.resident_id).first()
    elif channel in STAFF_CHANNELS:
        if community is None or community.kind != "community":
            raise ValidationFailed(_("请选择社区。"), field="community")
        if not can_record_in(actor, community.path) and not (
            building is not None
            and building.community_id == community.pk
            and can_record_in(actor, building.grid.path)
        ):
            raise PermissionDenied(_("您不能为该社区代办登记诉求。"))
        if resident is not None:
            if resident.community_id != community.pk:
                raise ValidationFailed(_("所选居民不属于该社区。"), field="resident")
            reporter_resident = resident
            reporter = resident.user
            reporter_name = reporter_name or resident.name
            reporter_phone = reporter_phone or resident.phone
    elif channel == Channel.OPEN311:
        if open311_client is None or not open311_client.is_active:
            raise PermissionDenied(_("接入密钥无效。"))
        community = open311_client.community
    else:
        raise ValidationFailed(_("未知的来源渠道。"), field="channel")
    assert community is not None

    if category is None or not category.is_active:
        raise ValidationFailed(_("请选择有效的诉求类别。"), field="category")
    if category.children.filter(is_active=True).exists():
        raise ValidationFailed(_("请选择具体的诉求小类。"), field="category")
    text = _clean_text(
        description,
        field="description",
        min_len=MIN_DESCRIPTION,
        max_len=MAX_DESCRIPTION,
        what=_("问题描述"),
    )
    if building is not None and building.community_id != community.pk:
        raise ValidationFailed(_("所选楼栋不属于本社区。"), field="building")
    dlat, dlng = _decimal(lat, "lat"), _decimal(lng, "lng")
    if (dlat is None) != (dlng is None):
        raise ValidationFailed(_("请同时提供经度和纬度。"), field="lat")
    near: Building | None = None
    if dlat is not None and dlng is not None:
        near = locate_point(community, float(dlat), float(dlng))
    if building is None and near is None:
        raise ValidationFailed(_("请选择楼栋或在地图上标注位置。"), field="building")
    where = building or near
    assert where is not None
    _clean_photos(photos)
    reporter_name = (reporter_name or "").strip()[:40]
    reporter_phone = (reporter_phone or "").strip()[:20]

    target = route(category=category, community=community, building=where, grid=where.grid)
    with transaction.atomic():
        req = ServiceRequest(
            community=community,
            grid=where.grid,
            building=building,
            lat=dlat if dlat is not None else where.lat,
            lng=dlng if dlng is not None else where.lng,
            address=(address or "").strip()[:200] or where.address or where.name,
            category=category,
            description=text,
            channel=channel,
            reporter=reporter,
            reporter_resident=reporter_resident,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            recorded_by=actor if channel in STAFF_CHANNELS else None,
            open311_client=open311_client,
            status=Status.SUBMITTED,
        )
        _set_assignee(req, target)
        deadlines.set_initial(req, now=now, cal=WorkCalendar())
        deadlines.refresh(req, now=now)
        req.save()
        # created_at is the submission time; honour the fixed clock in tests and the bench.
        ServiceRequest.objects.filter(pk=req.pk).update(created_at=now)
        req.created_at = now
        _save_photos(req, photos, kind=PhotoKind.BEFORE, actor=actor)
        _event(
            req,
            actor=actor,
            kind=EventKind.SUBMITTED,
            now=now,
            to_status=Status.SUBMITTED,
            note=_("已派至%(unit)s") % {"unit": target.label},
        )
        _audit(actor, "submit", req, channel=channel, category=category.code, assignee=target.key)
        _notify_staff(req, 0, _("新诉求：%(cat)s") % {"cat": category.name})
        _notify_reporter(
            req, _("已收到您的诉求，将在 %(h)d 小时内响应。") % {"h": category.response_hours}
        )
    return req


def request_support(
    *, actor: Any, request: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    """ "我也遇到" (+1) on an open request of the actor's own community."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not is_community_resident(actor, req):
            raise NotFound()
        if is_reporter(actor, req):
            raise Conflict(_("这是您自己提交的诉求。"))
        if req.status not in OPEN_STATUSES:
            raise InvalidTransition(_("该诉求已结束，请提交新的诉求。"))
        try:
            with transaction.atomic():
                Support.objects.create(request=req, user=actor)
        except IntegrityError as exc:
            raise Conflict(_("您已经附议过该诉求。")) from exc
        ServiceRequest.objects.filter(pk=req.pk).update(support_count=F("support_count") + 1)
        req.refresh_from_db(fields=["support_count"])
        _event(req, actor=actor, kind=EventKind.SUPPORTED, now=now)
        _audit(actor, "support", req)
    return req


# ---------------------------------------------------------------- staff actions


def _owner_unit_for(actor: Any, req: ServiceRequest) -> OrgUnit | None:
    """The most specific unit in which ``actor`` manages ``req``."""
    scope = scope_of(actor)
    path = req.grid.path if req.grid_id and req.grid else req.community.path
    best: tuple[int, int] | None = None
    for role in MANAGER_ROLES:
        for unit_id, p, _kind in scope.units.get(role, []):
            if path.startswith(p) and (best is None or len(p) > best[0]):
                best = (len(p), unit_id)
    return OrgUnit.objects.get(pk=best[1]) if best else None


def request_accept(
    *,
    actor: Any,
    request: ServiceRequest,
    is_complex: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "accept")
        if req.accepted_at is None:
            req.accepted_at = now
        if req.responded_at is None:
            req.responded_at = now
            req.responded_on_time = req.response_due is None or now <= req.response_due
        # 首接负责制: the first accepting unit stays accountable; later accepts keep it.
        if req.owner_org_id is None and req.owner_unit_id is None:
            if is_org_staff(actor, req) and req.assignee_org_id:
                req.owner_org_id = req.assignee_org_id
            else:
                req.owner_unit = _owner_unit_for(actor, req) or req.assignee_unit or req.community
        if is_complex and not req.is_complex:
            req.is_complex = True
            deadlines.set_plan(req, now=now, cal=WorkCalendar())
        _apply(req, t, actor=actor, now=now, note=note, complex=req.is_complex)
        _notify_reporter(req, _("您的诉求已受理，责任单位：%(u)s。") % {"u": req.owner_label})
    return req


def request_dispatch(
    *,
    actor: Any,
    request: ServiceRequest,
    target: str,
    note: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """Hand work on to another unit (派单). A dispatch to a city department is a 吹哨:
    it must respond within 24 h and be on site within 48 h. The owner does not change."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "dispatch")
        dest = parse_target(req.community, target)
        _set_assignee(req, dest)
        whistle = dest.org is not None and dest.org.kind == "department"
        if whistle:
            req.is_whistle = True
            deadlines.set_whistle(req, now=now)
        _apply(
            req, t, actor=actor, now=now, note=note or dest.label, target=dest.key, whistle=whistle
        )
        _notify_staff(
            req,
            0,
            _("您有新的派单。") + (_("（吹哨：24 小时内响应、48 小时内到场）") if whistle else ""),
        )
        _notify_reporter(req, _("您的诉求已派至%(u)s办理。") % {"u": dest.label})
    return req


def request_start(
    *, actor: Any, request: ServiceRequest, note: str = "", now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "start")
        if req.is_whistle and req.whistle_response_due and is_org_staff(actor, req):
            # The department has answered the whistle: that limit is met.
            req.whistle_response_due = None
        _apply(req, t, actor=actor, now=now, note=note)
    return req


def request_resolve(
    *,
    actor: Any,
    request: ServiceRequest,
    resolution: str,
    photos: Sequence[Any] = (),
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "resolve")
        text = _clean_text(
            resolution, field="resolution", min_len=2, max_len=2000, what=_("办理结果")
        )
        _clean_photos(photos)
        req.resolution = text
        req.resolved_at = now
        req.resolved_on_time = req.feedback_due is None or now <= req.feedback_due
        req.cycle_seconds = max(0, int((now - req.created_at).total_seconds()))
        req.whistle_response_due = None
        req.whistle_onsite_due = None
        _apply(req, t, actor=actor, now=now, note=text)
        _save_photos(req, photos, kind=PhotoKind.AFTER, actor=actor)
        _notify_reporter(req, _("您的诉求已办结，请在 7 天内评价；如有异议可申请重启。"))
    return req


def request_reject(
    *, actor: Any, request: ServiceRequest, reason: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "reject")
        req.reject_reason = _clean_text(
            reason, field="reason", min_len=2, max_len=500, what=_("不予受理理由")
        )
        if req.responded_at is None:
            req.responded_at = now
            req.responded_on_time = req.response_due is None or now <= req.response_due
        req.closed_at = now
        _apply(req, t, actor=actor, now=now, note=req.reject_reason, reason=req.reject_reason)
        _notify_reporter(req, _("您的诉求不予受理：%(r)s") % {"r": req.reject_reason})
    return req


def request_merge(
    *, actor: Any, request: ServiceRequest, into: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    """Mark ``request`` a duplicate of ``into``; its reporter becomes a supporter."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "merge")
        target = _lock(into)
        if target.pk == req.pk:
            raise ValidationFailed(_("不能与自身合并。"), field="into")
        if target.community_id != req.community_id or target.status not in OPEN_STATUSES:
            raise ValidationFailed(_("只能合并到本社区仍在办理中的诉求。"), field="into")
        req.merged_into = target
        req.closed_at = now
        _apply(
            req,
            t,
            actor=actor,
            now=now,
            note=_("与诉求 #%(id)s 重复") % {"id": target.pk},
            into=target.pk,
        )
        added = 0
        if req.reporter_id and req.reporter_id != target.reporter_id:
            _s, created = Support.objects.get_or_create(request=target, user_id=req.reporter_id)
            added = int(created)
        ServiceRequest.objects.filter(pk=target.pk).update(
            support_count=F("support_count") + added + req.support_count
        )
        _event(
            target,
            actor=actor,
            kind=EventKind.NOTE,
            now=now,
            note=_("合并了重复诉求 #%(id)s") % {"id": req.pk},
        )
        _notify_reporter(req, _("您的诉求与 #%(id)s 为同一问题，已合并办理。") % {"id": target.pk})
    return req


def request_reroute(
    *, actor: Any, request: ServiceRequest, target: str, reason: str, now: datetime | None = None
) -> ServiceRequest:
    """Staff correct the routing of a request not yet accepted (改派, reason required)."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if "manager" not in actor_kinds(actor, req):
            raise PermissionDenied(_("只有网格员、社区或街道工作人员可以改派。"))
        if req.status not in (Status.SUBMITTED, Status.REOPENED):
            raise InvalidTransition(_("诉求已受理，请使用“派单”转交其他单位。"))
        why = _clean_text(reason, field="reason", min_len=2, max_len=500, what=_("改派理由"))
        dest = parse_target(req.community, target)
        old = req.assignee_label
        _set_assignee(req, dest)
        req.save()
        _event(
            req,
            actor=actor,
            kind=EventKind.REROUTED,
            now=now,
            note=_("由%(a)s改派至%(b)s：%(r)s") % {"a": old, "b": dest.label, "r": why},
        )
        _audit(actor, "reroute", req, target=dest.key, reason=why)
        _notify_staff(req, 0, _("您有新的改派诉求。"))
    return req


def request_bulk_assign(
    *, actor: Any, request_ids: Iterable[int], target: str, reason: str, now: datetime | None = None
) -> int:
    """Assign many requests at once: unaccepted ones are re-routed, accepted ones
    dispatched. All or nothing."""
    ids = sorted({int(i) for i in request_ids})
    if not ids:
        raise ValidationFailed(_("请至少选择一条诉求。"), field="ids")
    with transaction.atomic():
        for pk in ids:
            req = ServiceRequest.objects.filter(pk=pk).select_related("community", "grid").first()
            if req is None:
                raise NotFound()
            if req.status in (Status.SUBMITTED, Status.REOPENED):
                request_reroute(actor=actor, request=req, target=target, reason=reason, now=now)
            else:
                request_dispatch(actor=actor, request=req, target=target, note=reason, now=now)
    return len(ids)


def request_plan(
    *, actor: Any, request: ServiceRequest, plan: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if "handler" not in actor_kinds(actor, req):
            raise PermissionDenied()
        if req.status not in (Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS):
            raise InvalidTransition()
        text = _clean_text(plan, field="plan", min_len=2, max_len=2000, what=_("办理方案"))
        req.is_complex = True
        req.plan_at = now
        deadlines.refresh(req, now=now)
        req.save()
        _event(req, actor=actor, kind=EventKind.PLAN, now=now, note=text)
        _audit(actor, "plan", req)
        _notify_reporter(req, _("办理方案：%(p)s") % {"p": text[:60]})
    return req


def request_feedback(
    *, actor: Any, request: ServiceRequest, note: str, now: datetime | None = None
) -> ServiceRequest:
    """Progress feedback to the resident (shown in the timeline)."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if "handler" not in actor_kinds(actor, req):
            raise PermissionDenied()
        if req.status not in OPEN_STATUSES:
            raise InvalidTransition()
        text = _clean_text(note, field="note", min_len=2, max_len=2000, what=_("进度说明"))
        _event(req, actor=actor, kind=EventKind.NOTE, now=now, note=text)
        _audit(actor, "feedback", req)
        _notify_reporter(req, text[:60])
    return req


def request_onsite(
    *, actor: Any, request: ServiceRequest, note: str = "", now: datetime | None = None
) -> ServiceRequest:
    """部门报到: the whistled department confirms it is on site."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if not is_org_staff(actor, req):
            raise PermissionDenied(_("只有被吹哨的部门可以报到。"))
        if not req.is_whistle or req.onsite_at is not None or req.status not in OPEN_STATUSES:
            raise InvalidTransition(_("该诉求无需报到或已报到。"))
        req.onsite_at = now
        req.whistle_onsite_due = None
        if req.whistle_response_due:
            req.whistle_response_due = None
        deadlines.refresh(req, now=now)
        req.save()
        _event(req, actor=actor, kind=EventKind.ONSITE, now=now, note=note)
        _audit(actor, "onsite", req)
    return req


# ---------------------------------------------------------------- resident actions


def request_urge(
    *, actor: Any, request: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if not is_reporter(actor, req):
            raise PermissionDenied(_("只有反映人可以催办。"))
        if req.status not in OPEN_STATUSES:
            raise InvalidTransition(_("诉求已结束，无需催办。"))
        if req.last_urged_at and now - req.last_urged_at < URGE_INTERVAL:
            nxt = timezone.localtime(req.last_urged_at + URGE_INTERVAL)
            raise RateLimited(
                _("每 24 小时只能催办一次，请在 %(t)s 之后再试。") % {"t": f"{nxt:%m-%d %H:%M}"}
            )
        req.last_urged_at = now
        req.urge_count += 1
        req.save(update_fields=["last_urged_at", "urge_count", "updated_at"])
        _event(req, actor=actor, kind=EventKind.URGED, now=now)
        _audit(actor, "urge", req)
        _notify_staff(req, 0, _("居民催办，请尽快处理。"))
    return req


def request_complain(
    *, actor: Any, request: ServiceRequest, text: str, now: datetime | None = None
) -> ServiceRequest:
    """投诉 when a time limit has passed: goes to the community leadership at once."""
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        if not can_view(actor, req):
            raise NotFound()
        if not is_reporter(actor, req):
            raise PermissionDenied(_("只有反映人可以投诉。"))
        if req.status not in OPEN_STATUSES:
            raise InvalidTransition(_("诉求已结束，如有异议请申请重启。"))
        if not deadlines.is_overdue(req, now):
            raise Conflict(_("诉求尚未超过办理时限，可以先催办。"))
        body = _clean_text(text, field="text", min_len=2, max_len=500, what=_("投诉内容"))
        req.complaint_count += 1
        req.save(update_fields=["complaint_count", "updated_at"])
        _event(req, actor=actor, kind=EventKind.COMPLAINED, now=now, note=body)
        _audit(actor, "complain", req)
        _notify_staff(req, 1, _("居民投诉超时诉求：%(t)s") % {"t": body[:40]})
    return req


def request_rate(
    *,
    actor: Any,
    request: ServiceRequest,
    rating: Any,
    comment: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed(_("满意度请选择 1 到 5 星。"), field="rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationFailed(_("评价不能超过 500 字。"), field="comment")
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "close")
        req.rating = value
        req.rating_comment = comment
        req.rated_at = now
        req.closed_at = now
        _apply(req, t, actor=actor, now=now, note=comment, rating=value)
        _event(req, actor=actor, kind=EventKind.RATED, now=now, note=f"{value}★ {comment}".strip())
        if value <= 2:
            _notify_staff(req, 1, _("居民评价不满意（%(v)d 星）。") % {"v": value})
    return req


def request_reopen(
    *, actor: Any, request: ServiceRequest, reason: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with transaction.atomic():
        req = _lock(request)
        t = _check(actor, req, "reopen")
        if req.resolved_at is None or now - req.resolved_at > REOPEN_WINDOW:
            raise InvalidTransition(_("办结已超过 7 天，不能重启，请提交新的诉求。"))
        why = _clean_text(reason, field="reason", min_len=2, max_len=500, what=_("重启理由"))
        req.reopen_count += 1
        req.resolved_at = None
        req.resolved_on_time = None
        req.cycle_seconds = None
        req.closed_at = None
        req.rating = None
        req.rating_comment = ""
        req.rated_at = None
        deadlines.set_initial(req, now=now, cal=WorkCalendar())
        _apply(req, t, actor=actor, now=now, note=why, reason=why)
        _notify_staff(req, 0, _("居民对办理结果有异议，诉求已重启。"))
        _notify_staff(req, 1, _("居民对办理结果有异议，诉求已重启。"))
    return req


# ---------------------------------------------------------------- sweep


@dataclass
class SweepResult:
    checked: int = 0
    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    auto_closed: int = 0
    escalated_ids: list[int] = field(default_factory=list)


def sweep_deadlines(*, now: datetime | None = None, batch: int = 1000) -> SweepResult:
    """Mark due-soon/overdue, escalate overdue items one level (grid → community →
    street, at most once per 24 h) and close requests resolved 7 days ago without a
    rating. Safe to run concurrently with itself: escalations lock their row."""
    now = _now(now)
    res = SweepResult()
    open_qs = ServiceRequest.objects.filter(
        status__in=list(OPEN_STATUSES), next_due_at__isnull=False
    )
    res.checked = open_qs.count()
    # Set-based updates: one statement per state, however many rows.
    res.overdue = (
        open_qs.filter(next_due_at__lt=now)
        .exclude(due_state=DueState.OVERDUE)
        .update(due_state=DueState.OVERDUE)
    )
    for kind, hours in deadlines.SOON_HOURS.items():
        res.due_soon += open_qs.filter(
            next_due_kind=kind,
            next_due_at__gte=now,
            next_due_at__lte=now + timedelta(hours=hours),
            due_state=DueState.OK,
        ).update(due_state=DueState.SOON)
    # Deadlines met or pushed back (e.g. after an accept) turn green again.
    open_qs.filter(due_state=DueState.OVERDUE, next_due_at__gte=now).update(due_state=DueState.OK)

    to_escalate = (
        open_qs.filter(due_state=DueState.OVERDUE, escalation_level__lt=2)
        .exclude(escalated_at__gt=now - ESCALATE_INTERVAL)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for pk in list(to_escalate[: batch * 10]):
        with transaction.atomic():
            req = _lock(ServiceRequest(pk=pk))
            if req.status not in OPEN_STATUSES or req.escalation_level >= 2:
                continue
            if req.escalated_at and req.escalated_at > now - ESCALATE_INTERVAL:
                continue
            req.escalation_level += 1
            req.escalated_at = now
            req.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
            level_name = _("社区") if req.escalation_level == 1 else _("街道")
            _event(
                req,
                actor=None,
                kind=EventKind.ESCALATED,
                now=now,
                note=_("超过%(kind)s时限，已升级至%(level)s督办")
                % {"kind": req.get_next_due_kind_display(), "level": level_name},
            )
            _audit(None, "escalate", req, level=req.escalation_level, due=req.next_due_kind)
            _notify_staff(req, req.escalation_level, _("诉求已超时，升级督办。"))
            res.escalated += 1
            res.escalated_ids.append(pk)

    stale = ServiceRequest.objects.filter(
        status=Status.RESOLVED, resolved_at__lte=now - AUTO_CLOSE_AFTER
    ).values_list("id", flat=True)
    t = TRANSITIONS["close"]
    for pk in list(stale[: batch * 10]):
        with transaction.atomic():
            req = _lock(ServiceRequest(pk=pk))
            if req.status != Status.RESOLVED:
                continue
            req.closed_at = now
            _apply(req, t, actor=None, now=now, note=_("办结 7 天未评价，系统自动关闭"), auto=True)
            res.auto_closed += 1
    return res


# ---------------------------------------------------------------- Open311 keys


def open311_client_issue(
    *, actor: Any, name: str, community: OrgUnit, contact: str = "", key: str | None = None
) -> tuple[Open311Client, str]:
    """Issue an API key for a client app; returns the key once (only its hash is kept)."""
    import hashlib
    import secrets

    if actor is not None and not scope_of(actor).covers(
        community.path, Role.SECRETARY, Role.STREET_OFFICER
    ):
        raise PermissionDenied(_("只有社区书记、街道或平台管理员可以发放接入密钥。"))
    name = _clean_text(name, field="name", min_len=2, max_len=80, what=_("应用名称"))
    # ``key`` is only passed by the demo, so its printed key stays the same across runs.
    key = key or "o311_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name,
            community=community,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[5:13],
            contact=contact[:120],
            issued_by=actor,
        )
        audit.record(
            actor=actor,
            action="requests.open311_key_issue",
            target=client,
            community_id=community.pk,
            payload={"name": name, "prefix": client.prefix},
        )
    return client, key


def open311_client_for_key(key: str | None) -> Open311Client | None:
    import hashlib

    if not key or len(key) > 200:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    client = (
        Open311Client.objects.filter(key_hash=digest, is_active=True)
        .select_related("community")
        .first()
    )
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


__all__ = [
    "request_submit",
    "request_support",
    "request_accept",
    "request_dispatch",
    "request_start",
    "request_resolve",
    "request_reject",
    "request_merge",
    "request_reroute",
    "request_bulk_assign",
    "request_plan",
    "request_feedback",
    "request_onsite",
    "request_urge",
    "request_complain",
    "request_rate",
    "request_reopen",
    "sweep_deadlines",
    "open311_client_issue",
    "open311_client_for_key",
    "UnitKind",
]
