"""Who may see and do what in care (django-rules predicates).

* The care team of a resident: the grid worker(s) of the resident's grid; community
  workers and the secretary of the community (they manage the roster and may record
  a visit for a grid worker, 代办); street officers read.
* A grid worker of another grid may not record a visit (refused, nothing written).
* Away status: the resident, a member of the same household, or the care team.
* Alerts: acknowledged only by someone on the escalation ladder (see ``ladder``).
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role, User
from linli.accounts.scope import scope_of
from linli.core.errors import PermissionDenied

VIEW_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY, Role.STREET_OFFICER)
MANAGER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)
VISIT_ROLES = (Role.GRID_WORKER,)


def community_ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``scope.community_ids_for(*roles)``, once per scope and role set."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_care_ids", {})
    if roles not in memo:
        memo[roles] = set(scope.community_ids_for(*roles))
    return memo[roles]


def acting_user(actor: Any) -> User:
    """The signed-in person behind a write (the system and anonymous visitors have
    none: refused)."""
    if not isinstance(actor, User) or actor.pk is None:
        raise PermissionDenied()
    return actor


def _cid(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    if getattr(obj, "kind", None) == "community" and hasattr(obj, "path"):
        return int(obj.pk)
    return getattr(obj, "community_id", None)


def _grid_path(obj: Any) -> str | None:
    """The grid of a subject (its own column) or of an alert (its household's building)."""
    grid = getattr(obj, "grid", None)
    if grid is None and getattr(obj, "household_id", None) and not hasattr(obj, "resident_id"):
        grid = obj.household.building.grid
    return getattr(grid, "path", None)


@rules.predicate
def manages_care(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, MANAGER_ROLES)


@rules.predicate
def grid_worker_of(user: Any, subject: Any) -> bool:
    path = _grid_path(subject)
    return path is not None and scope_of(user).covers(path, *VISIT_ROLES)


@rules.predicate
def sees_care(user: Any, obj: Any) -> bool:
    """On the care team of the subject's grid/community (read)."""
    path = _grid_path(obj)
    if path is not None and scope_of(user).covers(path, *VIEW_ROLES):
        return True
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, (Role.STREET_OFFICER, *MANAGER_ROLES))


@rules.predicate
def is_household_member(user: Any, subject: Any) -> bool:
    scope = scope_of(user)
    return (
        subject is not None
        and scope.household_id is not None
        and scope.household_id == getattr(subject, "household_id", None)
    )


can_view_subject = sees_care | is_household_member
can_manage_roster = manages_care
can_record_visit = grid_worker_of | manages_care
can_set_away = is_household_member | grid_worker_of | manages_care
can_manage_devices = manages_care
can_declare_event = manages_care

rules.add_perm("care.view_subject", can_view_subject)
rules.add_perm("care.manage_roster", can_manage_roster)
rules.add_perm("care.record_visit", can_record_visit)
rules.add_perm("care.set_away", can_set_away)
rules.add_perm("care.manage_devices", can_manage_devices)
rules.add_perm("care.declare_event", can_declare_event)
