"""Who may see, book and manage shared resources (django-rules predicates).

* Managers of a resource: community workers and the secretary of its community; for a
  partner's resource also the partner organisation's members; for a resident's idle
  item also that resident (they approve requests and hand the item over).
* Desk staff (grid workers, community workers, the secretary) of the resource's
  community book for residents (代办) and for community work.
* Viewers: residents of the community; residents of the other communities of the same
  street when the resource is shared street-wide; staff and supervisors over the
  community (street officers see their street).
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit

MANAGER_ROLES: tuple[str, ...] = (Role.COMMUNITY_WORKER, Role.SECRETARY)
DESK_ROLES: tuple[str, ...] = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY)
VIEW_ROLES: tuple[str, ...] = (*DESK_ROLES, Role.STREET_OFFICER, Role.SUPERVISOR)


def community_ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``scope.community_ids_for(*roles)``, worked out once per scope: a write asks it
    before the lock and again on the locked row."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_resources_ids", {})
    if roles not in memo:
        memo[roles] = set(scope.community_ids_for(*roles))
    return memo[roles]


def street_of(community_id: int) -> int | None:
    """The street a community belongs to (its parent), cached per process: the tree
    does not change under a running server."""
    if community_id not in _STREETS:
        _STREETS[community_id] = (
            OrgUnit.objects.filter(pk=community_id).values_list("parent_id", flat=True).first()
        )
    return _STREETS[community_id]


_STREETS: dict[int, int | None] = {}


def org_ids(user: Any) -> set[int]:
    scope = scope_of(user)
    out: set[int] = set()
    for ids in scope.organisation_ids.values():
        out |= ids
    return out


def _cid(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    if getattr(obj, "kind", None) == "community" and hasattr(obj, "path"):
        return int(obj.pk)
    return getattr(obj, "community_id", None)


@rules.predicate
def manages_in(user: Any, obj: Any) -> bool:
    """Community manager of the community of ``obj`` (a community, resource or id)."""
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, MANAGER_ROLES)


@rules.predicate
def desk_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, DESK_ROLES)


@rules.predicate
def owns_resource(user: Any, resource: Any) -> bool:
    """The resident owner of an idle item, or a member of the partner that owns it."""
    if resource is None:
        return False
    if resource.owner_kind == "resident":
        rid = scope_of(user).resident_id
        return rid is not None and rid == resource.owner_resident_id
    if resource.owner_kind == "partner":
        return resource.owner_org_id in org_ids(user)
    return False


can_manage_resource = manages_in | owns_resource


def sees_resource(user: Any, resource: Any) -> bool:
    """The same rule as ``selectors.resources_for``."""
    if resource is None:
        return False
    if resource.community_id in community_ids(user, VIEW_ROLES) or can_manage_resource(
        user, resource
    ):
        return True
    if resource.status != "active":
        return False
    home = scope_of(user).community_id
    if home is None:
        return False
    if home == resource.community_id:
        return True
    return resource.share_scope == "street" and street_of(home) == street_of(resource.community_id)


rules.add_perm("resources.create_resource", manages_in)
rules.add_perm("resources.manage_resource", can_manage_resource)
rules.add_perm("resources.view_resource", rules.predicate(sees_resource))
