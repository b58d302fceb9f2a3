"""Every write to the tenancy tree and roster goes through here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from linli.communities.models import (
    SENSITIVE_TAGS,
    Building,
    Organisation,
    OrgUnit,
    PrivacySetting,
    Resident,
    SensitiveGrantRequest,
    SpecialGroup,
)
from linli.communities.permissions import can_edit_resident, current_grant, manages_community
from linli.core import audit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.writes import governed_write, lock_row


def orgunit_create(*, kind: str, name: str, code: str, parent: OrgUnit | None = None) -> OrgUnit:
    """Create a unit and its materialised path. Set-up work (demo, admin), not audited."""
    expected_parent = OrgUnit.PARENT_KIND.get(kind, "missing")
    if expected_parent == "missing":
        raise ValidationFailed(_("未知的行政层级：%(kind)s") % {"kind": kind}, field="kind")
    if expected_parent is None and parent is not None:
        raise ValidationFailed(_("市级单元不能有上级。"), field="parent")
    if expected_parent is not None and (parent is None or parent.kind != expected_parent):
        raise ValidationFailed(_("上级单元层级不正确。"), field="parent")
    with transaction.atomic():
        unit = OrgUnit.objects.create(kind=kind, name=name, code=code, parent=parent, path="")
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        OrgUnit.objects.filter(pk=unit.pk).update(path=unit.path)
    return unit


def organisation_create(
    *,
    kind: str,
    name: str,
    scope: OrgUnit,
    specialty: str = "",
    communities: list[OrgUnit] | None = None,
) -> Organisation:
    with transaction.atomic():
        org = Organisation.objects.create(kind=kind, name=name, scope=scope, specialty=specialty)
        if communities:
            org.communities.set(communities)
    return org


def building_create(
    *,
    grid: OrgUnit,
    name: str,
    floors: int = 6,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    property_company: Organisation | None = None,
) -> Building:
    if grid.kind != OrgUnit.Kind.GRID or grid.parent is None:
        raise ValidationFailed(_("楼栋必须属于一个网格。"), field="grid")
    return Building.objects.create(
        community=grid.parent,
        grid=grid,
        name=name,
        floors=floors,
        lat=lat,
        lng=lng,
        property_company=property_company,
    )


def validate_tags(tags: list[str]) -> list[str]:
    valid = set(SpecialGroup.values)
    bad = [t for t in tags if t not in valid]
    if bad:
        raise ValidationFailed(
            _("未知的特殊群体标签：%(tags)s") % {"tags": "、".join(bad)}, field="tags"
        )
    return sorted(set(tags))


def resident_update(*, actor: Any, resident: Resident, **fields: Any) -> Resident:
    """Staff edit of roster fields. Audited with the names of the changed fields only,
    so the audit chain never copies sensitive values."""
    if not can_edit_resident(actor, resident):
        raise NotFound()
    allowed = {
        "name",
        "gender",
        "birth_year",
        "relation",
        "phone",
        "id_number",
        "tags",
        "tier",
        "is_active",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    if "tags" in fields:
        fields["tags"] = validate_tags(list(fields["tags"]))
    with transaction.atomic():
        changed = [k for k, v in fields.items() if getattr(resident, k) != v]
        for k, v in fields.items():
            setattr(resident, k, v)
        resident.full_clean(exclude=["community", "grid", "household", "user"])
        resident.save()
        audit.record(
            actor=actor,
            action="resident.update",
            target=resident,
            community_id=resident.community_id,
            payload={"fields": sorted(changed)},
        )
    return resident


SCOPE_OF_FIELD = {"phone": "contact", "id_number": "identity"}


def sensitive_read(*, actor: Any, resident: Resident, field: str) -> Any:
    """Return a sensitive value under a current grant, logging the read (数据使用备案).

    ``field`` is ``phone``, ``id_number``, ``medical`` or ``financial`` (the tags of
    that tier). Without a grant this raises PermissionDenied and logs nothing.
    """
    if field in SCOPE_OF_FIELD:
        scope = SCOPE_OF_FIELD[field]
    elif field in ("medical", "financial"):
        scope = field
    else:
        raise ValidationFailed(_("未知的敏感字段。"), field="field")
    grant = current_grant(actor, resident, scope)
    if grant is None:
        raise PermissionDenied(_("查看该信息需要社区书记的限时授权。"), code="grant_required")
    if field in SCOPE_OF_FIELD:
        value: Any = getattr(resident, field)
    else:
        value = [t for t in resident.tags if SENSITIVE_TAGS.get(t) == field]
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="sensitive.read",
            target=resident,
            community_id=resident.community_id,
            payload={"field": field, "grant": grant.pk, "reason": grant.reason},
        )
    return value


PRIVACY_FIELDS = frozenset(
    {"show_name_publicly", "phone_visibility", "skills_visibility", "hall_of_fame_consent"}
)


def privacy_update(*, actor: Any, resident: Resident, **choices: Any) -> PrivacySetting:
    """A resident sets the visibility of their own optional data."""
    from linli.accounts.scope import scope_of

    if scope_of(actor).resident_id != resident.pk:
        raise NotFound()
    valid = set(PrivacySetting.Visibility.values)
    for key in ("phone_visibility", "skills_visibility"):
        if key in choices and choices[key] not in valid:
            raise ValidationFailed(_("可见范围选项无效。"), field=key)
    with transaction.atomic():
        setting, _created = PrivacySetting.objects.get_or_create(resident=resident)
        for k, v in choices.items():
            if k in PRIVACY_FIELDS:
                setattr(setting, k, v)
        setting.save()
        audit.record(
            actor=actor,
            action="privacy.update",
            target=setting,
            community_id=resident.community_id,
            payload={k: v for k, v in choices.items()},
        )
    return setting


def community_assert_manageable(*, actor: Any, community: OrgUnit) -> None:
    if community.kind != OrgUnit.Kind.COMMUNITY or not manages_community(actor, community):
        raise NotFound()


# --------------------------------------------------------------------------- grants
# Sensitive-data access needs two people (四眼原则): a secretary asks, another
# authorised person approves, and only then does a SensitiveAccessGrant exist.

GRANT_APPROVER_ROLES = ("secretary", "street_officer")


def grant_grantee_queryset(*, community_ids: list[int]) -> Any:
    """Staff who can use a grant in these communities: grid workers, community workers
    and secretaries whose unit is the community or one of its grids. Staff of other
    communities, organisation roles and residents are never offered."""
    from django.db.models import Q

    from linli.accounts.models import Membership, User
    from linli.communities.permissions import ROSTER_VIEW_ROLES

    paths = list(
        OrgUnit.objects.filter(pk__in=community_ids, kind="community").values_list(
            "path", flat=True
        )
    )
    if not paths:
        return User.objects.none()
    under = Q(pk__in=[])
    for p in paths:
        under |= Q(unit__path__startswith=p)
    roles = [r for r in ROSTER_VIEW_ROLES if r != "street_officer"]
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active().filter(under, role__in=roles).values("user_id"),
    ).order_by("display_name", "username")


def can_approve_grant(actor: Any, community: OrgUnit) -> bool:
    from linli.accounts.scope import scope_of

    return scope_of(actor).covers(community.path, *GRANT_APPROVER_ROLES)


def sensitive_grant_request(
    *, actor: Any, grantee: Any, community: OrgUnit, scope: str, reason: str, days: int
) -> SensitiveGrantRequest:
    """A secretary asks for a time-limited grant for a member of their community's
    staff. The request opens nothing until another authorised person approves it."""
    from linli.accounts.models import SensitiveScope
    from linli.accounts.services import MAX_GRANT_DAYS
    from linli.communities.permissions import can_grant_sensitive

    if not can_grant_sensitive(actor, community) or community.kind != OrgUnit.Kind.COMMUNITY:
        raise NotFound()
    if grantee is None or grantee.pk == actor.pk:
        raise PermissionDenied(
            _("不能为自己申请敏感数据授权，请由其他负责人为您申请。"), code="self_grant"
        )
    if scope not in SensitiveScope.values:
        raise ValidationFailed(_("授权范围无效。"), field="scope")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationFailed(_("请说明用途（至少 4 个字）。"), field="reason")
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationFailed(
            _("授权天数须在 1 到 %(n)d 天之间。") % {"n": MAX_GRANT_DAYS}, field="days"
        )
    if not grant_grantee_queryset(community_ids=[community.pk]).filter(pk=grantee.pk).exists():
        raise ValidationFailed(_("只能授权给本社区的工作人员。"), field="grantee")
    with governed_write(
        actor=actor, action="sensitive.grant_request", community_id=community.pk
    ) as w:
        req = SensitiveGrantRequest.objects.create(
            community=community,
            grantee=grantee,
            scope=scope,
            reason=reason,
            days=days,
            requested_by=actor,
        )
        w.target = req
        w.payload.update({"grantee": grantee.pk, "scope": scope, "days": days, "reason": reason})
    return req


def _decidable(actor: Any, req: SensitiveGrantRequest) -> SensitiveGrantRequest:
    if not can_approve_grant(actor, req.community):
        raise NotFound()
    if actor.pk in (req.requested_by_id, req.grantee_id):
        raise PermissionDenied(
            _("授权须由申请人和被授权人以外的另一位负责人审批。"), code="self_approval"
        )
    locked = lock_row(
        SensitiveGrantRequest.objects.select_related("community"),
        req.pk,
        community_id=req.community_id,
    )
    if locked.status != SensitiveGrantRequest.Status.PENDING:
        raise Conflict(_("该申请已处理。"), code="already_decided")
    return locked


def sensitive_grant_approve(*, actor: Any, request: SensitiveGrantRequest) -> Any:
    """Another secretary of the community or a street officer covering it approves:
    the grant starts now and runs for the requested days."""
    from datetime import timedelta

    from django.utils import timezone

    from linli.accounts.models import SensitiveAccessGrant

    with governed_write(
        actor=actor, action="sensitive.grant_approve", community_id=request.community_id
    ) as w:
        req = _decidable(actor, request)
        now = timezone.now()
        grant = SensitiveAccessGrant.objects.create(
            grantee_id=req.grantee_id,
            community_id=req.community_id,
            scope=req.scope,
            reason=req.reason,
            granted_by_id=req.requested_by_id,
            starts_at=now,
            expires_at=now + timedelta(days=req.days),
        )
        req.status = SensitiveGrantRequest.Status.APPROVED
        req.decided_by = actor
        req.decided_at = now
        req.grant = grant
        req.save(update_fields=["status", "decided_by", "decided_at", "grant", "updated_at"])
        w.target = req
        w.payload.update(
            {
                "grant": grant.pk,
                "grantee": req.grantee_id,
                "requested_by": req.requested_by_id,
                "scope": req.scope,
                "days": req.days,
            }
        )
    request.status, request.grant = req.status, grant
    return grant


def sensitive_grant_refuse(
    *, actor: Any, request: SensitiveGrantRequest, reason: str = ""
) -> SensitiveGrantRequest:
    from django.utils import timezone

    with governed_write(
        actor=actor, action="sensitive.grant_refuse", community_id=request.community_id
    ) as w:
        req = _decidable(actor, request)
        req.status = SensitiveGrantRequest.Status.REFUSED
        req.decided_by = actor
        req.decided_at = timezone.now()
        req.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        w.target = req
        w.payload.update({"reason": within(reason, field="reason", limit=200, label=_("理由"))})
    return req


def grant_requests_to_decide(*, viewer: Any) -> Any:
    """Pending requests the viewer may approve (never their own nor ones for them)."""
    from linli.accounts.scope import scope_of

    ids = scope_of(viewer).community_ids_for(*GRANT_APPROVER_ROLES)
    return (
        SensitiveGrantRequest.objects.filter(
            community_id__in=ids, status=SensitiveGrantRequest.Status.PENDING
        )
        .exclude(requested_by_id=viewer.pk)
        .exclude(grantee_id=viewer.pk)
        .select_related("grantee", "requested_by", "community")
        .order_by("created_at")
    )


# --------------------------------------------------------------------------- share code

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def share_code_for(*, actor: Any, resident: Resident) -> str:
    """The resident's own time-bank service code, made on first use. Only the
    resident sees it (on their time-bank page) and gives it to whoever served them."""
    import secrets

    from django.db import IntegrityError

    from linli.accounts.scope import scope_of

    if scope_of(actor).resident_id != resident.pk:
        raise NotFound()
    setting, _created = PrivacySetting.objects.get_or_create(resident=resident)
    if setting.share_code:
        return setting.share_code
    for _attempt in range(5):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _i in range(6))
        try:
            with transaction.atomic():
                n = PrivacySetting.objects.filter(pk=setting.pk, share_code__isnull=True).update(
                    share_code=code
                )
        except IntegrityError:
            continue
        if n:
            return code
        setting.refresh_from_db(fields=["share_code"])
        if setting.share_code:
            return setting.share_code
    raise Conflict(_("暂时无法生成服务码，请稍后再试。"))


def resident_by_share_code(*, viewer: Any, code: str) -> Resident | None:
    """The resident of the viewer's community who gave this code, or None. The only
    way a resident finds another resident to record a service: no name search."""
    from linli.accounts.scope import scope_of

    scope = scope_of(viewer)
    code = (code or "").strip().upper()
    if not code or scope.community_id is None or scope.resident_id is None or len(code) > 8:
        return None
    return (
        Resident.objects.filter(
            community_id=scope.community_id, is_active=True, privacy__share_code=code
        )
        .exclude(pk=scope.resident_id)
        .select_related("privacy", "household__building")
        .first()
    )
