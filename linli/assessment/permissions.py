"""Who may see and change the assessment (SPEC §8), as predicates over a unit.

* Boards, charts, exports and the integrity page of a unit: staff whose membership
  sits at or above it (a secretary or community worker their community and below, a
  street officer their street, a supervisor where appointed, a grid worker their grid,
  the platform admin everything).
* Weight sets: a street officer appointed at the district (or city) level, or the
  platform admin — weights are set per district.
* Expert scores 专业评估/第三方测评: a street officer or supervisor covering the
  community, or the platform admin; never the community's own staff.
* Recomputing a month: a street officer covering the community or the admin.
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit

VIEW_ROLES = (
    Role.GRID_WORKER,
    Role.COMMUNITY_WORKER,
    Role.SECRETARY,
    Role.STREET_OFFICER,
    Role.SUPERVISOR,
)
ASSESSOR_ROLES = (Role.STREET_OFFICER, Role.SUPERVISOR)


def can_view_unit(user: Any, unit: OrgUnit | None) -> bool:
    if unit is None:
        return False
    return scope_of(user).covers(unit.path, *VIEW_ROLES)


def can_set_weights(user: Any, district: OrgUnit | None) -> bool:
    scope = scope_of(user)
    if scope.is_platform_admin:
        return True
    if district is None or district.kind != OrgUnit.Kind.DISTRICT:
        return False
    # Held at the district or above: a street-level officer does not set them.
    return any(
        district.path.startswith(path)
        for (_i, path, kind) in scope.units.get(Role.STREET_OFFICER, [])
        if kind in ("city", "district")
    )


def can_score(user: Any, community: OrgUnit | None) -> bool:
    if community is None or community.kind != OrgUnit.Kind.COMMUNITY:
        return False
    return scope_of(user).covers(community.path, *ASSESSOR_ROLES)


def can_recompute(user: Any, community: OrgUnit | None) -> bool:
    if community is None:
        return False
    return scope_of(user).covers(community.path, Role.STREET_OFFICER)


def is_assessment_staff(user: Any) -> bool:
    scope = scope_of(user)
    return scope.is_platform_admin or scope.has_role(*VIEW_ROLES)


@rules.predicate
def _view(user: Any, unit: OrgUnit | None) -> bool:
    return can_view_unit(user, unit)


@rules.predicate
def _weights(user: Any, district: OrgUnit | None) -> bool:
    return can_set_weights(user, district)


@rules.predicate
def _score(user: Any, community: OrgUnit | None) -> bool:
    return can_score(user, community)


rules.add_perm("assessment.view_unit", _view)
rules.add_perm("assessment.set_weights", _weights)
rules.add_perm("assessment.score", _score)
