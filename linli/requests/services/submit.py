"""Reporting a problem (app/API, 代办 by staff, Open311).

Hot path (statement budget in ``tests/test_budgets.py``): the scope, the resident and
the building are read once; the category tree and the working calendar come from
per-process caches; ``created_at`` is written by the INSERT; the staff to notify are
one query; nothing is re-read after the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import idempotency, ratelimit
from linli.core.calendar import WorkCalendar
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip
from linli.requests import catalog, deadlines
from linli.requests.models import (
    Category,
    Channel,
    EventKind,
    Open311Client,
    PhotoKind,
    ServiceRequest,
    Status,
)
from linli.requests.permissions import can_record_in
from linli.requests.routing import Target, locate_point, route
from linli.requests.services._common import (
    MAX_DESCRIPTION,
    MIN_DESCRIPTION,
    STAFF_CHANNELS,
    _clean_photos,
    _clean_text,
    _decimal,
    _event,
    _notify_reporter,
    _notify_staff,
    _now,
    _save_photos,
    _set_assignee,
    _user,
)


def _own_resident(actor: Actor, resident_id: int) -> Resident | None:
    """The actor's resident row, already loaded by ``scope_of`` (no second read)."""
    cached = getattr(actor, "resident", None)
    if isinstance(cached, Resident) and cached.pk == resident_id:
        return cached
    return Resident.objects.filter(pk=resident_id).first()


def _replayed(new: ServiceRequest) -> ServiceRequest:
    """The request that already holds ``new``'s key — if the same reporter (or desk,
    or Open311 client) made it."""

    def owned(r: ServiceRequest) -> bool:
        if new.channel == Channel.OPEN311:
            return r.open311_client_id == new.open311_client_id
        if new.channel in STAFF_CHANNELS:
            return r.recorded_by_id == new.recorded_by_id
        return r.reporter_id is not None and r.reporter_id == new.reporter_id

    return idempotency.original(
        ServiceRequest.objects.select_related(
            "category",
            "community",
            "reporter_resident",
            "assignee_org",
            "assignee_unit",
            "owner_org",
            "owner_unit",
        ),
        community_id=new.community_id,
        key=new.idempotency_key,
        owned=owned,
    )


def request_submit(
    *,
    actor: Actor,
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
    public: bool = False,
    now: datetime | None = None,
    idempotency_key: str = "",
) -> ServiceRequest:
    """Report a problem.

    * ``channel=app/api`` – ``actor`` is a registered resident; the community is theirs.
    * ``channel=hotline/box/visit`` (代办) – ``actor`` is staff covering ``community``;
      ``resident`` (optional) is who the record is for.
    * ``channel=open311`` – ``actor`` is None and ``open311_client`` fixes the community.

    ``public`` is the reporter's own opt-in (text, location note, result and photos
    shown to neighbours and the public Open311 read); only a resident reporting for
    themselves can set it.

    ``idempotency_key`` (API header / form's one-time field): a repeat with the same key
    returns the first request and writes nothing (see ``linli.core.idempotency``).
    """
    now = _now(now)
    reporter = None
    reporter_resident = None
    if channel in (Channel.APP, Channel.API):
        scope = scope_of(actor)
        if scope.resident_id is None or scope.community_id is None:
            raise PermissionDenied(_("只有登记在册的居民可以提交诉求；工作人员请使用代办登记。"))
        if building is not None and building.community_id == scope.community_id:
            community = building.community  # loaded with the building by pages and the API
        else:
            community = OrgUnit.objects.get(pk=scope.community_id)
        reporter = actor
        reporter_resident = _own_resident(actor, scope.resident_id)
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
    if catalog.has_active_children(category.pk):
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
    where = building or near
    # An Open311 address we could not match to a building is still a real report from
    # the key's community: it goes to the community itself (分拣) with the address kept,
    # without building, grid or point; staff place it when they dispatch.
    triage = where is None and channel == Channel.OPEN311 and bool((address or "").strip())
    if where is None and not triage:
        raise ValidationFailed(_("请选择楼栋或在地图上标注位置。"), field="building")
    photos = _clean_photos(photos)  # decoded once, stored below
    reporter_name = (reporter_name or "").strip()[:40]
    reporter_phone = (reporter_phone or "").strip()[:20]

    # Counted in the cache (no SQL); a refusal writes nothing. Open311 posts are limited
    # per key and per address by the endpoint.
    if channel in (Channel.APP, Channel.API):
        ratelimit.check("requests.submit", user=actor)
    elif channel in STAFF_CHANNELS:
        ratelimit.check("requests.record", user=actor)
    target = (
        Target(unit=community)
        if where is None
        else route(category=category, community=community, building=where, grid=where.grid)
    )
    with governed_write(actor=actor, action="requests.submit", community_id=community.pk) as w:
        req = ServiceRequest(
            created_at=now,
            community=community,
            grid=where.grid if where is not None else None,
            building=building,
            lat=dlat if dlat is not None else (where.lat if where is not None else None),
            lng=dlng if dlng is not None else (where.lng if where is not None else None),
            address=(address or "").strip()[:200]
            or (where.address or where.name if where is not None else ""),
            category=category,
            description=text,
            channel=channel,
            reporter=_user(reporter),
            reporter_resident=reporter_resident,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            recorded_by=_user(actor) if channel in STAFF_CHANNELS else None,
            open311_client=open311_client,
            public=bool(public) and channel in (Channel.APP, Channel.API),
            status=Status.SUBMITTED,
        )
        _set_assignee(req, target)
        deadlines.set_initial(req, now=now, cal=WorkCalendar.cached())
        deadlines.refresh(req, now=now)
        key = idempotency.clean(idempotency_key)
        if key:
            # The INSERT claims the key (ON CONFLICT DO NOTHING): a replay, or the loser
            # of two simultaneous posts, gets the first request back and writes nothing.
            req.idempotency_key = key
            if not insert_or_skip(req):
                w.record = False
                return _replayed(req)
        else:
            req.save(force_insert=True)
        _save_photos(req, photos, kind=PhotoKind.BEFORE, actor=actor)
        _event(
            req,
            actor=actor,
            kind=EventKind.SUBMITTED,
            now=now,
            to_status=Status.SUBMITTED,
            note=(
                _("地址未能对应到楼栋，已转%(unit)s分拣") % {"unit": target.label}
                if where is None
                else _("已派至%(unit)s") % {"unit": target.label}
            ),
        )
        w.target = req
        w.payload = {
            "status": req.status,
            "channel": channel,
            "category": category.code,
            "assignee": target.key,
        }
        _notify_staff(req, 0, _("新诉求：%(cat)s") % {"cat": category.name})
        _notify_reporter(
            req, _("已收到您的诉求，将在 %(h)d 小时内响应。") % {"h": category.response_hours}
        )
    return req
