"""Who may do what with micro-projects (django-rules predicates).

Roles: residents of the community propose and co-sign; community workers and the
secretary review (社区审核); street officers over the community file (街道备案);
grid workers, street officers and supervisors may look at everything of a community.
The role × state matrix is tested in tests/test_permissions.py.
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of

MANAGE_ROLES: tuple[str, ...] = (Role.COMMUNITY_WORKER, Role.SECRETARY)
FILING_ROLES: tuple[str, ...] = (Role.STREET_OFFICER,)
VIEW_ROLES: tuple[str, ...] = (
    *MANAGE_ROLES,
    Role.GRID_WORKER,
    Role.STREET_OFFICER,
    Role.SUPERVISOR,
)


def community_ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``scope.community_ids_for(*roles)`` worked out once per scope: one write asks it
    before the lock and again on the locked row."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_projects_ids", {})
    if roles not in memo:
        memo[roles] = set(scope.community_ids_for(*roles))
    return memo[roles]


def cid_of(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    if getattr(obj, "kind", None) == "community" and hasattr(obj, "path"):
        return int(obj.pk)
    return getattr(obj, "community_id", None)


@rules.predicate
def manages(user: Any, obj: Any) -> bool:
    cid = cid_of(obj)
    return cid is not None and cid in community_ids(user, MANAGE_ROLES)


@rules.predicate
def files_for(user: Any, obj: Any) -> bool:
    cid = cid_of(obj)
    return cid is not None and cid in community_ids(user, FILING_ROLES)


@rules.predicate
def staff_views(user: Any, obj: Any) -> bool:
    cid = cid_of(obj)
    return cid is not None and cid in community_ids(user, VIEW_ROLES)


@rules.predicate
def lives_in(user: Any, obj: Any) -> bool:
    cid = cid_of(obj)
    return cid is not None and scope_of(user).community_id == cid


@rules.predicate
def is_proposer(user: Any, project: Any) -> bool:
    rid = scope_of(user).resident_id
    return rid is not None and getattr(project, "proposer_id", None) == rid


@rules.predicate
def can_view_project(user: Any, project: Any) -> bool:
    """Residents see their community's projects; staff the communities they cover; a
    proposal still gathering signatures is seen by its community only (it is not yet
    published beyond it)."""
    return bool(lives_in(user, project) or staff_views(user, project))


can_propose = lives_in | manages  # staff propose for a resident (代办)

rules.add_perm("projects.view_project", can_view_project)
rules.add_perm("projects.propose", can_propose)
rules.add_perm("projects.manage", manages)


def acting_user(actor: Any) -> Any:
    """The signed-in user who acts (rows name their author). Services check permission
    first, so an anonymous actor never gets this far; if one does, it is refused."""
    from linli.accounts.models import User
    from linli.core.errors import PermissionDenied

    if not isinstance(actor, User) or actor.pk is None:
        raise PermissionDenied()
    return actor
