"""Listing resources in the pool: create, edit the rules and hours, photos, suspend /
resume / retire (through ``states.RESOURCE``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write
from linli.requests.photos import clean_photos
from linli.resources.models import (
    BookableBy,
    OpeningHours,
    OwnerKind,
    Resource,
    ResourceKind,
    ResourcePhoto,
    ShareMode,
    ShareScope,
)
from linli.resources.permissions import can_manage_resource, manages_in
from linli.resources.states import RESOURCE

MAX_PHOTOS = 4


@dataclass
class ResourceSpec:
    """What a listing says: validated by :func:`clean_spec`."""

    kind: str
    name: str
    description: str = ""
    location: str = ""
    building_id: int | None = None
    share_mode: str = ShareMode.LEND
    bookable_by: str = BookableBy.RESIDENTS
    share_scope: str = ShareScope.COMMUNITY
    max_minutes: Any = 120
    max_advance_days: Any = 120
    deposit_points: Any = 0
    approval_required: bool = False
    outside_approval: bool = True
    open_on_holidays: bool = False
    # weekday (0 = Monday) → windows
    hours: dict[int, list[tuple[time, time]]] = field(default_factory=dict)


def _whole(raw: Any, *, field: str, label: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(label)s必须是整数。") % {"label": label}, field=field) from None
    if not low <= value <= high:
        raise ValidationFailed(
            _("%(label)s应在 %(low)d 到 %(high)d 之间。")
            % {"label": label, "low": low, "high": high},
            field=field,
        )
    return value


def clean_spec(spec: ResourceSpec, *, community_id: int) -> dict[str, Any]:
    name = within(spec.name, field="name", limit=60, label=_("名称"))
    if not name:
        raise ValidationFailed(_("请填写资源名称。"), field="name")
    if spec.kind not in ResourceKind.values:
        raise ValidationFailed(_("未知的资源类型。"), field="kind")
    if spec.share_mode not in ShareMode.values:
        raise ValidationFailed(_("未知的共享方式。"), field="share_mode")
    if spec.share_mode == ShareMode.GIVE and spec.kind != ResourceKind.ITEM:
        raise ValidationFailed(_("只有闲置物品可以赠送。"), field="share_mode")
    if spec.bookable_by not in BookableBy.values:
        raise ValidationFailed(_("未知的预约范围。"), field="bookable_by")
    if spec.share_scope not in ShareScope.values:
        raise ValidationFailed(_("未知的开放范围。"), field="share_scope")
    building = None
    if spec.building_id:
        building = Building.objects.filter(pk=spec.building_id, community_id=community_id).first()
        if building is None:
            raise ValidationFailed(_("请选择本社区的楼栋。"), field="building")
    hours: list[tuple[int, time, time]] = []
    for weekday, windows in sorted(spec.hours.items()):
        if not 0 <= weekday <= 6:
            raise ValidationFailed(_("星期应为 0（周一）到 6（周日）。"), field="hours")
        hours += [(weekday, o, c) for o, c in windows]
    if not hours:
        raise ValidationFailed(_("请至少填写一天的开放时间。"), field="hours")
    return {
        "fields": {
            "kind": spec.kind,
            "name": name,
            "description": within(
                spec.description, field="description", limit=500, label=_("说明")
            ),
            "location": within(spec.location, field="location", limit=100, label=_("位置")),
            "building": building,
            "share_mode": spec.share_mode,
            "bookable_by": spec.bookable_by,
            "share_scope": spec.share_scope,
            "max_minutes": _whole(
                spec.max_minutes,
                field="max_minutes",
                label=_("单次最长（分钟）"),
                low=15,
                high=1440,
            ),
            "max_advance_days": _whole(
                spec.max_advance_days,
                field="max_advance_days",
                label=_("最多提前预约（天）"),
                low=1,
                high=366,
            ),
            "deposit_points": _whole(
                spec.deposit_points,
                field="deposit_points",
                label=_("押金（积分）"),
                low=0,
                high=10000,
            ),
            "approval_required": bool(spec.approval_required),
            "outside_approval": bool(spec.outside_approval),
            "open_on_holidays": bool(spec.open_on_holidays),
        },
        "hours": hours,
    }


def _store_photos(resource: Resource, photos: Sequence[Any]) -> list[ResourcePhoto]:
    out = []
    for i, c in enumerate(photos):
        p = ResourcePhoto(
            community_id=resource.community_id,
            resource=resource,
            content_type=c.content_type,
            width=c.width,
            height=c.height,
        )
        ext = (c.content.name or "photo.jpg").rsplit(".", 1)[-1]
        p.image.save(f"res{resource.pk}-{i}.{ext}", c.content, save=False)
        p.save()
        out.append(p)
    return out


def resource_create(
    *,
    actor: Actor,
    community: OrgUnit,
    spec: ResourceSpec,
    owner_kind: str = OwnerKind.COMMUNITY,
    owner_org: Organisation | None = None,
    owner_resident: Resident | None = None,
    photos: Sequence[Any] = (),
    idempotency_key: str = "",
) -> Resource:
    """List a resource. Community managers list the community's and partners' venues
    and equipment; a resident lists their own idle item (every request for it then
    needs their approval)."""
    scope = scope_of(actor)
    if owner_kind == OwnerKind.RESIDENT:
        # A resident lists their own item; managers may list one for a resident (代办).
        if owner_resident is None:
            raise ValidationFailed(_("请指定物品的主人。"), field="owner_resident")
        is_own = scope.resident_id == owner_resident.pk
        if owner_resident.community_id != community.pk or not (
            is_own or manages_in(actor, community)
        ):
            raise PermissionDenied()
        if spec.kind != ResourceKind.ITEM:
            raise ValidationFailed(_("居民只能共享闲置物品。"), field="kind")
        spec.approval_required = True
    elif owner_kind in (OwnerKind.COMMUNITY, OwnerKind.PARTNER):
        if not manages_in(actor, community):
            raise PermissionDenied()
        if owner_kind == OwnerKind.PARTNER and owner_org is None:
            raise ValidationFailed(_("请选择合作单位。"), field="owner_org")
    else:
        raise ValidationFailed(_("未知的所有者类型。"), field="owner_kind")
    key = idempotency.clean(idempotency_key)
    ratelimit.check("resources.create", user=actor)
    cleaned = clean_spec(spec, community_id=community.pk)
    photos = clean_photos(list(photos)) if photos else []
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos")
    with governed_write(
        actor=actor, action="resources.resource_created", community_id=community.pk
    ) as w:
        resource = Resource(
            community=community,
            owner_kind=owner_kind,
            owner_org=owner_org if owner_kind == OwnerKind.PARTNER else None,
            owner_resident=owner_resident if owner_kind == OwnerKind.RESIDENT else None,
            created_by_id=getattr(actor, "pk", None),
            idempotency_key=key,
            **cleaned["fields"],
        )
        if key:
            prior = idempotency.replayed(
                w, resource, key=key, owned=lambda r: r.created_by_id == getattr(actor, "pk", None)
            )
            if prior is not None:
                return prior
        else:
            resource.save()
        _set_hours(resource, cleaned["hours"])
        _store_photos(resource, photos)
        w.target = resource
        w.payload.update(
            name=resource.name,
            kind=resource.kind,
            owner=owner_kind,
            deposit=resource.deposit_points,
            approval=resource.approval_required,
            scope=resource.share_scope,
        )
    return resource


def _set_hours(resource: Resource, hours: list[tuple[int, time, time]]) -> None:
    OpeningHours.objects.filter(community_id=resource.community_id, resource=resource).delete()
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(
                community_id=resource.community_id,
                resource=resource,
                weekday=wd,
                opens=o,
                closes=c,
            )
            for wd, o, c in hours
        ]
    )


def resource_update(
    *, actor: Actor, resource: Resource, spec: ResourceSpec, photos: Sequence[Any] = ()
) -> Resource:
    """Change a listing's rules, hours or photos (bookings already made keep their
    times; a later booking follows the new rules)."""
    if not can_manage_resource(actor, resource):
        raise PermissionDenied()
    if resource.owner_kind == OwnerKind.RESIDENT:
        spec.approval_required = True
        if spec.kind != ResourceKind.ITEM:
            raise ValidationFailed(_("居民只能共享闲置物品。"), field="kind")
    cleaned = clean_spec(spec, community_id=resource.community_id)
    photos = clean_photos(list(photos)) if photos else []
    with governed_write(
        actor=actor, action="resources.resource_updated", community_id=resource.community_id
    ) as w:
        row = Resource.objects.select_for_update().get(
            pk=resource.pk, community_id=resource.community_id
        )
        if (
            row.share_mode != cleaned["fields"]["share_mode"]
            and row.bookings.filter(status__in=["requested", "confirmed", "checked_out"]).exists()
        ):
            raise Conflict(_("还有进行中的预约，暂不能更改共享方式。"))
        before = {k: getattr(row, k) for k in cleaned["fields"] if k != "building"}
        for k, v in cleaned["fields"].items():
            setattr(row, k, v)
        row.save()
        _set_hours(row, cleaned["hours"])
        if photos:
            have = ResourcePhoto.objects.filter(community_id=row.community_id, resource=row).count()
            if have + len(photos) > MAX_PHOTOS:
                raise ValidationFailed(
                    _("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos"
                )
            _store_photos(row, photos)
        w.target = row
        w.payload["changed"] = sorted(k for k, v in before.items() if v != cleaned["fields"][k])
    return row


def resource_set_status(
    *, actor: Actor, resource: Resource, action: str, reason: str = ""
) -> Resource:
    """Suspend, resume or retire a listing (``states.RESOURCE``)."""
    if action not in ("suspend", "resume", "retire"):
        raise ValidationFailed(_("未知的操作。"), field="action")
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    return RESOURCE.apply(actor=actor, obj=resource, action=action, reason=reason)
