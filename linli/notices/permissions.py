"""Who may publish and read notices (django-rules predicates)."""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.notices.models import Notice

# Community staff who publish notices for their community.
PUBLISH_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)
# Staff who may see every notice of a community, drafts included, with read statistics.
STAFF_VIEW_ROLES = (
    Role.COMMUNITY_WORKER,
    Role.SECRETARY,
    Role.GRID_WORKER,
    Role.STREET_OFFICER,
    Role.SUPERVISOR,
)


@rules.predicate
def can_publish_in(user: Any, community: OrgUnit | None) -> bool:
    return community is not None and scope_of(user).covers(community.path, *PUBLISH_ROLES)


def _staff_covers(user: Any, notice: Notice) -> bool:
    scope = scope_of(user)
    return notice.community_id in scope.community_ids_for(*STAFF_VIEW_ROLES)


def resident_in_audience(resident: Resident, notice: Notice) -> bool:
    if resident.community_id != notice.community_id or not resident.is_active:
        return False
    if notice.audience == Notice.Audience.COMMUNITY:
        return True
    if notice.audience == Notice.Audience.BUILDINGS:
        return notice.buildings.filter(pk=resident.household.building_id).exists()
    return resident.pk in (notice.audience_resident_ids or [])


@rules.predicate
def can_view_notice(user: Any, notice: Notice | None) -> bool:
    if notice is None:
        return False
    if _staff_covers(user, notice):
        return True
    if not notice.is_visible:
        return False
    scope = scope_of(user)
    if scope.resident_id is None:
        return False
    resident = Resident.objects.select_related("household").filter(pk=scope.resident_id).first()
    return resident is not None and resident_in_audience(resident, notice)


@rules.predicate
def can_manage_notice(user: Any, notice: Notice | None) -> bool:
    return notice is not None and scope_of(user).covers(notice.community.path, *PUBLISH_ROLES)


@rules.predicate
def can_see_statistics(user: Any, notice: Notice | None) -> bool:
    return notice is not None and _staff_covers(user, notice)


rules.add_perm("notices.publish_in", can_publish_in)
rules.add_perm("notices.view_notice", can_view_notice)
rules.add_perm("notices.manage_notice", can_manage_notice)
