"""Who may run activities and check people in (django-rules predicates)."""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of

ORGANISER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY, Role.SOCIAL_ORG)
CHECKIN_ROLES = (*ORGANISER_ROLES, Role.GRID_WORKER)


def community_ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``scope.community_ids_for(*roles)``, worked out once per scope (it is a query,
    and one write asks it several times: before the lock and again on the locked row)."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_volunteers_ids", {})
    if roles not in memo:
        memo[roles] = set(scope.community_ids_for(*roles))
    return memo[roles]


def _cid(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    if getattr(obj, "kind", None) == "community" and hasattr(obj, "path"):
        return int(obj.pk)
    return getattr(obj, "community_id", None)


@rules.predicate
def organises_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, ORGANISER_ROLES)


@rules.predicate
def is_organiser(user: Any, activity: Any) -> bool:
    return activity is not None and getattr(activity, "organiser_id", None) == getattr(
        user, "pk", -1
    )


@rules.predicate
def checks_in_for(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, CHECKIN_ROLES)


can_create_activity = organises_in
can_manage_activity = organises_in | is_organiser
can_check_in = checks_in_for | is_organiser

rules.add_perm("volunteers.create_activity", can_create_activity)
rules.add_perm("volunteers.manage_activity", can_manage_activity)
rules.add_perm("volunteers.check_in", can_check_in)
