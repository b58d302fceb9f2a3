"""Councils, their composition rules and the community's 议事 settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row
from linli.deliberation.composition import MemberFacts, Thresholds, check_composition
from linli.deliberation.models import Council, CouncilMember, DeliberationSettings
from linli.deliberation.permissions import manages

# ---------------------------------------------------------------------------
# Settings


def settings_for(community: OrgUnit | int) -> DeliberationSettings:
    """The community's thresholds, or the defaults (unsaved) if never configured."""
    cid = community if isinstance(community, int) else community.pk
    found = DeliberationSettings.objects.filter(community_id=cid).first()
    return found or DeliberationSettings(community_id=cid)


SETTINGS_FIELDS = (
    "young_age_below",
    "min_young",
    "elderly_age_from",
    "min_elderly",
    "min_tenants",
    "min_tenant_percent",
    "min_resident_rep_percent",
    "quorum_numerator",
    "quorum_denominator",
    "materials_days",
    "notice_days",
    "objection_days",
    "practice_meetings_required",
)


def settings_update(*, actor: Actor, community: OrgUnit, **values: int) -> DeliberationSettings:
    if not manages(actor, community):
        raise PermissionDenied()
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(_("未知的设置项：%(f)s") % {"f": "、".join(sorted(unknown))})
    if any(not isinstance(v, int) or v < 0 for v in values.values()):
        raise ValidationFailed(_("设置值必须是非负整数。"))
    with governed_write(
        actor=actor,
        action="deliberation.settings_update",
        community_id=community.pk,
        payload=values,
    ) as w:
        obj, _created = DeliberationSettings.objects.select_for_update().get_or_create(
            community=community
        )
        for k, v in values.items():
            setattr(obj, k, v)
        if obj.quorum_denominator == 0 or obj.quorum_numerator > obj.quorum_denominator:
            raise ValidationFailed(_("法定到会比例必须是不超过1的分数。"))
        if obj.min_tenant_percent > 100 or obj.min_resident_rep_percent > 100:
            raise ValidationFailed(_("百分比不能超过100。"))
        obj.save()
        w.target = obj
    return obj


def thresholds_for(community_id: int) -> Thresholds:
    s = settings_for(community_id)
    return Thresholds(
        young_age_below=s.young_age_below,
        min_young=s.min_young,
        elderly_age_from=s.elderly_age_from,
        min_elderly=s.min_elderly,
        min_tenants=s.min_tenants,
        min_tenant_percent=s.min_tenant_percent,
        min_resident_rep_percent=s.min_resident_rep_percent,
    )


# ---------------------------------------------------------------------------
# Councils and composition rules


@dataclass(frozen=True)
class MemberSpec:
    """One seat: a resident (居民代表) or a named unit representative."""

    resident: Resident | None = None
    name: str = ""
    organisation: Organisation | None = None
    member_type: str = CouncilMember.Type.RESIDENT
    position: str = "成员"


def _facts_of(member: CouncilMember | MemberSpec) -> MemberFacts:
    r = member.resident
    return MemberFacts(
        birth_year=r.birth_year if r is not None else None,
        is_tenant=r is not None and r.household.tenure == "tenant",
        is_resident_rep=member.member_type == CouncilMember.Type.RESIDENT,
    )


def _enforce_composition(council: Council, seats: list[CouncilMember | MemberSpec]) -> None:
    violations = check_composition(
        council.kind,
        [_facts_of(s) for s in seats],
        thresholds_for(council.community_id),
        timezone.localdate().year,
    )
    if violations:
        raise ValidationFailed(
            _("%(council)s成员变更未执行。") % {"council": council.name}
            + " "
            + " ".join(str(v) for v in violations),
            code="composition_rule",
            details={"violations": [v.__dict__ for v in violations]},
        )


def _active_seats(council: Council) -> list[CouncilMember]:
    return list(
        CouncilMember.objects.filter(
            community_id=council.community_id, council=council, is_active=True
        ).select_related("resident__household")
    )


def _validate_spec(council: Council, spec: MemberSpec) -> None:
    if spec.member_type not in CouncilMember.Type.values:
        raise ValidationFailed(_("未知的成员身份。"))
    if spec.member_type == CouncilMember.Type.RESIDENT and spec.resident is None:
        raise ValidationFailed(_("居民代表必须选择一位在册居民。"))
    if spec.resident is not None:
        if spec.resident.community_id != council.community_id or not spec.resident.is_active:
            raise ValidationFailed(_("只能选择本社区在册居民。"))
    elif not spec.name.strip():
        raise ValidationFailed(_("请填写成员姓名。"))


def _with_household(spec: MemberSpec) -> MemberSpec:
    """Residents from forms come without their household loaded; the rules need tenure."""
    if spec.resident is None:
        return spec
    return MemberSpec(
        Resident.objects.select_related("household").get(pk=spec.resident.pk),
        spec.name,
        spec.organisation,
        spec.member_type,
        spec.position,
    )


def _seat(council: Council, spec: MemberSpec, joined_on: Any) -> CouncilMember:
    return CouncilMember.objects.create(
        community_id=council.community_id,
        council=council,
        member_type=spec.member_type,
        resident=spec.resident,
        name=spec.name.strip(),
        organisation=spec.organisation,
        position=spec.position,
        joined_on=joined_on,
    )


def _lock_council(council: Council) -> Council:
    return lock_row(Council.objects.all(), council.pk, community_id=council.community_id)


def council_create(*, actor: Actor, community: OrgUnit, kind: str, name: str) -> Council:
    if not manages(actor, community):
        raise PermissionDenied()
    if kind not in Council.Kind.values:
        raise ValidationFailed(_("未知的组织类型。"))
    if Council.objects.filter(community=community, kind=kind).exists():
        raise Conflict(_("本社区已有该类组织。"))
    with governed_write(
        actor=actor, action="deliberation.council_create", community_id=community.pk
    ) as w:
        council = Council.objects.create(community=community, kind=kind, name=name.strip() or kind)
        w.target = council
        w.payload = {"kind": kind, "name": council.name}
    return council


def _seat_payload(s: CouncilMember | MemberSpec) -> dict[str, Any]:
    return {
        "resident": s.resident.pk if s.resident is not None else None,
        "name": s.resident.name if s.resident is not None else s.name,
        "type": s.member_type,
    }


def council_constitute(
    *, actor: Actor, council: Council, seats: list[MemberSpec]
) -> list[CouncilMember]:
    """Seat a whole council at once (an election or re-election): the previous members
    leave and the new set must satisfy every composition rule as a whole."""
    if not manages(actor, council):
        raise PermissionDenied()
    for spec in seats:
        _validate_spec(council, spec)
    ids = [s.resident.pk for s in seats if s.resident is not None]
    if len(ids) != len(set(ids)):
        raise ValidationFailed(_("同一位居民不能重复入选。"))
    # Residents from forms come without their household loaded; the rules need tenure.
    loaded = {r.pk: r for r in Resident.objects.select_related("household").filter(pk__in=ids)}
    seats = [
        MemberSpec(loaded[s.resident.pk], s.name, s.organisation, s.member_type, s.position)
        if s.resident is not None
        else s
        for s in seats
    ]
    with governed_write(
        actor=actor,
        action="deliberation.council_constitute",
        community_id=council.community_id,
        payload={"members": [_seat_payload(s) for s in seats]},
    ) as w:
        council = _lock_council(council)
        _enforce_composition(council, list(seats))
        today = timezone.localdate()
        CouncilMember.objects.filter(
            community_id=council.community_id, council=council, is_active=True
        ).update(is_active=False, left_on=today)
        created = [_seat(council, s, today) for s in seats]
        w.target = council
    return created


def council_member_add(*, actor: Actor, council: Council, spec: MemberSpec) -> CouncilMember:
    if not manages(actor, council):
        raise PermissionDenied()
    _validate_spec(council, spec)
    spec = _with_household(spec)
    with governed_write(
        actor=actor,
        action="deliberation.member_add",
        community_id=council.community_id,
        payload=_seat_payload(spec),
    ) as w:
        council = _lock_council(council)
        seats: list[CouncilMember | MemberSpec] = list(_active_seats(council))
        if spec.resident is not None and any(
            s.resident is not None and s.resident.pk == spec.resident.pk for s in seats
        ):
            raise Conflict(_("该居民已是成员。"))
        _enforce_composition(council, [*seats, spec])
        member = _seat(council, spec, timezone.localdate())
        w.target = member
    return member


def council_member_remove(*, actor: Actor, member: CouncilMember, reason: str) -> CouncilMember:
    council = member.council
    if not manages(actor, council):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed(_("成员离任必须说明理由。"), field="reason")
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    with governed_write(
        actor=actor,
        action="deliberation.member_remove",
        community_id=council.community_id,
        target=member,
        payload={"reason": reason.strip(), **_seat_payload(member)},
    ):
        council = _lock_council(council)
        seats = _active_seats(council)
        if member.pk not in {s.pk for s in seats}:
            raise Conflict(_("该成员已离任。"))
        _enforce_composition(council, [s for s in seats if s.pk != member.pk])
        member.is_active = False
        member.left_on = timezone.localdate()
        CouncilMember.objects.filter(pk=member.pk, community_id=council.community_id).update(
            is_active=False, left_on=member.left_on
        )
    return member


def council_member_replace(
    *, actor: Actor, member: CouncilMember, spec: MemberSpec, reason: str
) -> CouncilMember:
    """One member leaves and another joins as a single change (by-election), so a
    swap that keeps the council valid is never refused for a transient state."""
    council = member.council
    if not manages(actor, council):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed(_("成员变更必须说明理由。"), field="reason")
    _validate_spec(council, spec)
    spec = _with_household(spec)
    with governed_write(
        actor=actor,
        action="deliberation.member_replace",
        community_id=council.community_id,
        payload={
            "reason": reason.strip(),
            "out": _seat_payload(member),
            "in": _seat_payload(spec),
        },
    ) as w:
        council = _lock_council(council)
        seats = _active_seats(council)
        if member.pk not in {s.pk for s in seats}:
            raise Conflict(_("该成员已离任。"))
        rest: list[CouncilMember | MemberSpec] = [s for s in seats if s.pk != member.pk]
        if spec.resident is not None and any(
            s.resident is not None and s.resident.pk == spec.resident.pk for s in rest
        ):
            raise Conflict(_("该居民已是成员。"))
        _enforce_composition(council, [*rest, spec])
        today = timezone.localdate()
        CouncilMember.objects.filter(pk=member.pk, community_id=council.community_id).update(
            is_active=False, left_on=today
        )
        new = _seat(council, spec, today)
        w.target = new
    return new
