"""Who may do what in the 议事厅, per topic step (django-rules predicates).

The role × step matrix is tested in tests/test_permissions.py.
"""

from __future__ import annotations

from typing import Any

import rules
from django.utils import timezone

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.deliberation.models import Council, CouncilMember, Topic

# Community staff who run the council's business (convene, move topics, keep minutes).
MANAGE_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)
# Staff who can look at everything in a community's 议事厅 (not change it).
VIEW_ROLES = (*MANAGE_ROLES, Role.GRID_WORKER, Role.STREET_OFFICER, Role.SUPERVISOR)


def _community_of(obj: Any) -> OrgUnit | None:
    if obj is None:
        return None
    if isinstance(obj, OrgUnit):
        return obj
    return getattr(obj, "community", None)


def manages(user: Any, obj: Any) -> bool:
    community = _community_of(obj)
    return community is not None and scope_of(user).covers(community.path, *MANAGE_ROLES)


def is_resident_of(user: Any, obj: Any) -> bool:
    community = _community_of(obj)
    return community is not None and scope_of(user).community_id == community.pk


def sits_on(user: Any, community_id: int, *kinds: str) -> bool:
    rid = scope_of(user).resident_id
    if rid is None:
        return False
    return CouncilMember.objects.filter(
        council__community_id=community_id, council__kind__in=kinds, resident_id=rid, is_active=True
    ).exists()


@rules.predicate
def can_view_community_hall(user: Any, obj: Any) -> bool:
    community = _community_of(obj)
    if community is None:
        return False
    scope = scope_of(user)
    # community_ids_for also maps a grid worker's grid to its community.
    return scope.community_id == community.pk or community.pk in scope.community_ids_for(
        *VIEW_ROLES
    )


@rules.predicate
def can_propose(user: Any, community: OrgUnit | None) -> bool:
    return is_resident_of(user, community) or manages(user, community)


@rules.predicate
def can_manage(user: Any, obj: Any) -> bool:
    return manages(user, obj)


@rules.predicate
def can_comment(user: Any, topic: Topic | None) -> bool:
    if topic is None or topic.step != Topic.Step.DISCUSSING:
        return False
    return is_resident_of(user, topic) or manages(user, topic)


@rules.predicate
def can_review(user: Any, topic: Topic | None) -> bool:
    if topic is None or topic.step != Topic.Step.REVIEWING:
        return False
    return manages(user, topic) or sits_on(
        user, topic.community_id, Council.Kind.COUNCIL, Council.Kind.COMMITTEE
    )


@rules.predicate
def can_object(user: Any, topic: Topic | None) -> bool:
    if topic is None or topic.step != Topic.Step.PUBLICISED:
        return False
    if topic.objections_until is None or timezone.now() >= topic.objections_until:
        return False
    return is_resident_of(user, topic)


@rules.predicate
def can_supervise(user: Any, community: OrgUnit | None) -> bool:
    if community is None:
        return False
    if scope_of(user).covers(community.path, Role.SUPERVISOR):
        return True
    return sits_on(user, community.pk, Council.Kind.SUPERVISION)


rules.add_perm("deliberation.view_hall", can_view_community_hall)
rules.add_perm("deliberation.propose", can_propose)
rules.add_perm("deliberation.manage", can_manage)
rules.add_perm("deliberation.comment", can_comment)
rules.add_perm("deliberation.review", can_review)
rules.add_perm("deliberation.object", can_object)
rules.add_perm("deliberation.supervise", can_supervise)


def acting_user_id(actor: Any) -> int:
    """The id of the signed-in user who acts (rows name their author). Services check
    permission first, so an anonymous actor never gets this far; if one does, it is a
    refusal, not a row without an author."""
    pk = getattr(actor, "pk", None)
    if not isinstance(pk, int):
        from linli.core.errors import PermissionDenied

        raise PermissionDenied()
    return pk
