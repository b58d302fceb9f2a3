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
    SpecialGroup,
)
from linli.communities.permissions import can_edit_resident, current_grant, manages_community
from linli.core import audit
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed


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
            if k in {"show_name_publicly", "phone_visibility", "skills_visibility"}:
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
