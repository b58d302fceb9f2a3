"""Routing (派单): which unit a new request goes to, and which targets staff may pick.

A category names a unit *kind*; the request's building/grid picks the unit:
property → the building's property company; grid → the building's grid;
community → the community; department → the department with the category's specialty
whose scope contains the community (usually the district).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from linli.communities.models import Building, Organisation, OrgUnit
from linli.core.errors import ValidationFailed
from linli.requests.models import Category, UnitKind
from linli.requests.similarity import degree_box, haversine_m

# A map point counts as inside the community when it is this close to one of its buildings.
MAX_POINT_DISTANCE_M = 500.0


@dataclass(frozen=True)
class Target:
    org: Organisation | None = None
    unit: OrgUnit | None = None

    @property
    def key(self) -> str:
        if self.org is not None:
            return f"org:{self.org.pk}"
        assert self.unit is not None
        return f"unit:{self.unit.pk}"

    @property
    def label(self) -> str:
        return self.org.name if self.org is not None else (self.unit.name if self.unit else "")


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def departments_for(community: OrgUnit) -> list[Organisation]:
    return list(
        Organisation.objects.filter(
            kind="department", scope__path__in=_ancestor_paths(community.path)
        )
        .select_related("scope")
        .order_by("specialty", "name")
    )


def route(
    *, category: Category, community: OrgUnit, building: Building | None, grid: OrgUnit | None
) -> Target:
    kind = category.responsible_kind
    if kind == UnitKind.PROPERTY and building is not None and building.property_company_id:
        return Target(org=building.property_company)
    if kind == UnitKind.DEPARTMENT:
        for dept in departments_for(community):
            if dept.specialty == category.department_specialty:
                return Target(org=dept)
    if kind in (UnitKind.GRID, UnitKind.PROPERTY) and grid is not None:
        # No property company on record: the grid worker takes it.
        return Target(unit=grid)
    return Target(unit=community)


def targets_for(community: OrgUnit) -> list[Target]:
    """Units staff may route a request of ``community`` to."""
    out: list[Target] = []
    out += [
        Target(unit=g)
        for g in OrgUnit.objects.filter(parent=community, kind="grid").order_by("name")
    ]
    out.append(Target(unit=community))
    if community.parent_id and community.parent is not None:
        out.append(Target(unit=community.parent))
    out += [
        Target(org=o)
        for o in Organisation.objects.filter(kind="property")
        .filter(Q(communities=community) | Q(buildings__community=community))
        .distinct()
        .order_by("name")
    ]
    out += [Target(org=o) for o in departments_for(community)]
    return out


def parse_target(community: OrgUnit, key: str) -> Target:
    """The target ``key`` ("unit:<id>" / "org:<id>") if it is one of
    :func:`targets_for` ``community`` — checked with one query, not by listing them."""
    kind, _sep, raw = (key or "").partition(":")
    pk = int(raw) if raw.isdigit() and len(raw) < 19 else None
    if pk is not None and kind == "unit":
        ok = Q(parent=community, kind="grid") | Q(pk=community.pk)
        if community.parent_id:
            ok |= Q(pk=community.parent_id)
        unit = OrgUnit.objects.filter(ok, pk=pk).first()
        if unit is not None:
            return Target(unit=unit)
    elif pk is not None and kind == "org":
        org = (
            Organisation.objects.filter(pk=pk)
            .filter(
                Q(kind="property") & (Q(communities=community) | Q(buildings__community=community))
                | Q(kind="department", scope__path__in=_ancestor_paths(community.path))
            )
            .first()
        )
        if org is not None:
            return Target(org=org)
    raise ValidationFailed(_("请选择本社区可派单的责任单位。"), field="target")


def locate_point(community: OrgUnit, lat: float, lng: float) -> Building:
    """The community's building nearest to the point; refuses points outside it."""
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed(_("坐标无效。"), field="lat")
    dlat, dlng = degree_box(lat, MAX_POINT_DISTANCE_M)
    near = Building.objects.filter(
        community=community,
        lat__gte=lat - dlat,
        lat__lte=lat + dlat,
        lng__gte=lng - dlng,
        lng__lte=lng + dlng,
    ).select_related("grid")
    best: tuple[float, Building] | None = None
    for b in near:
        if b.lat is None or b.lng is None:
            continue
        d = haversine_m(lat, lng, float(b.lat), float(b.lng))
        if d <= MAX_POINT_DISTANCE_M and (best is None or d < best[0]):
            best = (d, b)
    if best is None:
        raise ValidationFailed(_("所选位置不在本社区范围内。"), field="lat")
    return best[1]
