"""Reads of the roster that depend on who is looking."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.communities.permissions import ROSTER_VIEW_ROLES, can_view_resident
from linli.core.errors import NotFound


def _paths_q(paths: list[str], field: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def resident_list_for(
    *, viewer: Any, community_id: int | None = None, query: str = "", tag: str = ""
) -> QuerySet[Resident]:
    """Residents the viewer may see; a resident sees only themselves."""
    scope = scope_of(viewer)
    qs = Resident.objects.select_related("household__building", "grid", "community")
    if scope.is_platform_admin:
        pass
    else:
        visible = _paths_q(scope.paths_for(*ROSTER_VIEW_ROLES), "grid__path")
        if Role.BUILDING_LIAISON in scope.units and scope.building_ids:
            visible |= Q(household__building_id__in=scope.building_ids)
        if scope.resident_id is not None:
            visible |= Q(pk=scope.resident_id)
        qs = qs.filter(visible)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if query:
        # "1号楼", "一号楼", "１栋" also find the building named "1幢" (one way of
        # writing a building in the roster, many in people's heads).
        from linli.requests.addresses import name_variants

        match = Q(name__contains=query) | Q(household__building__name__contains=query)
        variants = name_variants(query)
        if variants:
            match |= Q(household__building__name__in=variants)
        qs = qs.filter(match)
    if tag:
        # JSON containment differs by backend; tags are short codes, so a text match on
        # the quoted code is exact and portable.
        qs = qs.filter(tags__icontains=f'"{tag}"')
    return qs.order_by("household__building__name", "household__room", "id")


def resident_get_for(*, viewer: Any, pk: int) -> Resident:
    """Not found and not allowed look the same."""
    resident = (
        Resident.objects.select_related("household__building", "grid", "community")
        .filter(pk=pk)
        .first()
    )
    if resident is None or not can_view_resident(viewer, resident):
        raise NotFound()
    return resident


def communities_for(*, viewer: Any) -> QuerySet[OrgUnit]:
    """Communities where the viewer holds a staff role (or their own, for a resident)."""
    scope = scope_of(viewer)
    ids = scope.staff_community_ids()
    if scope.community_id:
        ids.add(scope.community_id)
    return OrgUnit.objects.filter(kind="community", pk__in=ids).order_by("path")


def buildings_for(*, viewer: Any, community_id: int) -> QuerySet[Building]:
    if community_id not in {c.pk for c in communities_for(viewer=viewer)}:
        return Building.objects.none()
    return Building.objects.filter(community_id=community_id).order_by("name")


def my_data(*, viewer: Any) -> dict[str, Any]:
    """Everything the platform holds about the viewer as a resident (download)."""
    from linli.core.models import AuditEvent

    scope = scope_of(viewer)
    out: dict[str, Any] = {
        "account": {
            "username": viewer.username,
            "phone": viewer.phone,
            "display_name": viewer.display_name,
            "elderly_mode": viewer.elderly_mode,
            "language": viewer.language,
            "date_joined": viewer.date_joined.isoformat(),
        },
        "memberships": [
            {"role": m.role, "unit": m.unit.name}
            for m in viewer.memberships.select_related("unit").filter(is_active=True)
        ],
    }
    if scope.resident_id:
        r = Resident.objects.select_related("household__building", "community", "grid").get(
            pk=scope.resident_id
        )
        out["resident"] = {
            "name": r.name,
            "gender": r.gender,
            "birth_year": r.birth_year,
            "phone": r.phone,
            "id_number": r.id_number,
            "tags": r.tags,
            "tier": r.tier,
            "community": r.community.name,
            "grid": r.grid.name,
            "household": {
                "address": str(r.household),
                "area_m2": str(r.household.area_m2),
                "tenure": r.household.tenure,
            },
        }
        privacy = getattr(r, "privacy", None) if hasattr(r, "privacy") else None
        if privacy:
            out["privacy"] = {
                "show_name_publicly": privacy.show_name_publicly,
                "phone_visibility": privacy.phone_visibility,
                "skills_visibility": privacy.skills_visibility,
            }
        # Who read my sensitive data, and when (data-use record).
        out["sensitive_reads"] = [
            {"at": e.occurred_at.isoformat(), "by": e.actor_id, "field": e.payload.get("field")}
            for e in AuditEvent.objects.filter(
                action="sensitive.read", target_type="communities.resident", target_id=str(r.pk)
            ).order_by("occurred_at")
        ]
    return out
