"""Object-level predicates (django-rules) for the roster.

A grid worker sees their grid, a secretary their community, a street officer their
street, a building liaison their building (basic fields only), a resident themselves.
"""

from __future__ import annotations

from typing import Any

import rules
from django.utils import timezone

from linli.accounts.models import Role, SensitiveAccessGrant
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident

ROSTER_VIEW_ROLES = (
    Role.GRID_WORKER,
    Role.COMMUNITY_WORKER,
    Role.SECRETARY,
    Role.STREET_OFFICER,
)
ROSTER_EDIT_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)


def _grid_path(resident: Resident) -> str:
    return resident.grid.path


@rules.predicate
def is_self(user: Any, resident: Resident | None) -> bool:
    return resident is not None and scope_of(user).resident_id == resident.pk


@rules.predicate
def covers_resident(user: Any, resident: Resident | None) -> bool:
    if resident is None:
        return False
    return scope_of(user).covers(_grid_path(resident), *ROSTER_VIEW_ROLES)


@rules.predicate
def is_liaison_of_building(user: Any, resident: Resident | None) -> bool:
    if resident is None:
        return False
    scope = scope_of(user)
    return (
        Role.BUILDING_LIAISON in scope.units
        and resident.household.building_id in scope.building_ids
    )


@rules.predicate
def can_edit_resident_pred(user: Any, resident: Resident | None) -> bool:
    if resident is None:
        return False
    return scope_of(user).covers(_grid_path(resident), *ROSTER_EDIT_ROLES)


@rules.predicate
def manages_community(user: Any, community: OrgUnit | None) -> bool:
    if community is None:
        return False
    return scope_of(user).covers(community.path, *ROSTER_EDIT_ROLES)


@rules.predicate
def is_secretary_of(user: Any, community: OrgUnit | None) -> bool:
    if community is None:
        return False
    return scope_of(user).covers(community.path, Role.SECRETARY)


can_view_resident = is_self | covers_resident | is_liaison_of_building
can_edit_resident = can_edit_resident_pred
can_import_roster = manages_community
can_grant_sensitive = is_secretary_of

rules.add_perm("communities.view_resident", can_view_resident)
rules.add_perm("communities.change_resident", can_edit_resident)
rules.add_perm("communities.import_roster", can_import_roster)
rules.add_perm("accounts.grant_sensitive", can_grant_sensitive)


def current_grant(user: Any, resident: Resident, scope: str) -> SensitiveAccessGrant | None:
    """The grant under which ``user`` may read ``scope`` data of ``resident``, if any.

    The grantee must also cover the resident by role: a grant widens what is shown,
    never whom.
    """
    if not covers_resident(user, resident):
        return None
    now = timezone.now()
    return (
        SensitiveAccessGrant.objects.filter(
            grantee_id=user.pk,
            community_id=resident.community_id,
            scope=scope,
            revoked_at__isnull=True,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )
