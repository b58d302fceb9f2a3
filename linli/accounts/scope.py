"""Who a user is, in which units: the scope every selector and predicate is built on.

Computed once per request (cached on the user object) from active memberships.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from linli.accounts.models import ORG_ROLES, ROSTER_ROLES, STAFF_ROLES, Membership, Role
from linli.communities.models import OrgUnit


@dataclass
class Scope:
    user_id: int | None
    is_platform_admin: bool = False
    # role -> list of (unit_id, unit_path, unit_kind)
    units: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    organisation_ids: dict[str, set[int]] = field(default_factory=dict)
    building_ids: set[int] = field(default_factory=set)
    resident_id: int | None = None
    household_id: int | None = None
    community_id: int | None = None  # the resident's own community
    # community_ids_for() answers, per role set: a page asks several times (queue,
    # menus, filters) and the answer cannot change within the request.
    _communities: dict[tuple[str, ...], frozenset[int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _under: dict[int, str] | None = field(default=None, repr=False, compare=False)

    @property
    def roles(self) -> set[str]:
        return set(self.units)

    def has_role(self, *roles: str) -> bool:
        return self.is_platform_admin or any(r in self.units for r in roles)

    @property
    def is_staff(self) -> bool:
        return self.is_platform_admin or bool(self.roles & STAFF_ROLES)

    def paths_for(self, *roles: str) -> list[str]:
        return [path for r in roles for (_i, path, _k) in self.units.get(r, [])]

    def roster_paths(self) -> list[str]:
        return self.paths_for(*ROSTER_ROLES)

    def covers(self, unit_path: str, *roles: str) -> bool:
        """True if a membership in one of ``roles`` sits at or above ``unit_path``."""
        if self.is_platform_admin:
            return True
        return any(unit_path.startswith(p) for p in self.paths_for(*roles))

    def community_ids_for(self, *roles: str) -> set[int]:
        """Communities at or under the units held in ``roles`` (for tenant filters).
        Read once per scope and role set."""
        key = tuple(sorted(roles))
        known = self._communities.get(key)
        if known is None:
            known = self._communities[key] = frozenset(self._community_ids_for(*roles))
        return set(known)

    def _communities_under_units(self) -> dict[int, str]:
        """Every community at or under any unit this user holds a role in, with its
        path: one query per request. Each app's menu and filters ask with their own
        role set; answering all of them from this one read keeps a page's statement
        count flat as capabilities are added."""
        if self._under is None:
            paths = {p for held in self.units.values() for (_i, p, _k) in held}
            if not paths:
                self._under = {}
            else:
                q = Q()
                for p in paths:
                    q |= Q(path__startswith=p)
                self._under = dict(
                    OrgUnit.objects.filter(q, kind="community").values_list("pk", "path")
                )
        return self._under

    def _community_ids_for(self, *roles: str) -> set[int]:
        if self.is_platform_admin:
            return set(OrgUnit.objects.filter(kind="community").values_list("pk", flat=True))
        paths = self.paths_for(*roles)
        if not paths:
            return set()
        ids = {
            pk
            for pk, path in self._communities_under_units().items()
            if any(path.startswith(p) for p in paths)
        }
        # A grid-level membership belongs to the grid's community too.
        for r in roles:
            for _uid, path, kind in self.units.get(r, []):
                if kind == "grid":
                    parts = [int(x) for x in path.strip("/").split("/")]
                    ids.add(parts[-2])
        return ids

    def staff_community_ids(self) -> set[int]:
        roles = [r for r in STAFF_ROLES if r not in ORG_ROLES]
        return self.community_ids_for(*roles)


def scope_of(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(user_id=None)
    cached = getattr(user, "_linli_scope", None)
    if cached is not None:
        return cached
    rows = (
        Membership.objects.active()
        .filter(user_id=user.pk)
        .values_list(
            "role", "unit_id", "unit__path", "unit__kind", "organisation_id", "building_id"
        )
    )
    return build_scope(user, rows)


def build_scope(user: Any, rows: Iterable[tuple[Any, ...]]) -> Scope:
    """The scope of ``user`` from their active memberships as
    ``(role, unit_id, unit_path, unit_kind, organisation_id, building_id)`` rows, cached
    on the user object (so a caller that loaded them with something else — the API
    token lookup — saves the query)."""
    scope = Scope(user_id=user.pk, is_platform_admin=bool(user.is_superuser))
    for role, unit_id, path, kind, org_id, building_id in rows:
        scope.units.setdefault(role, []).append((unit_id, path, kind))
        if org_id:
            scope.organisation_ids.setdefault(role, set()).add(org_id)
        if building_id:
            scope.building_ids.add(building_id)
        if role == Role.PLATFORM_ADMIN:
            scope.is_platform_admin = True
    resident = getattr(user, "resident", None) if hasattr(user, "resident") else None
    if resident is not None:
        scope.resident_id = resident.pk
        scope.household_id = resident.household_id
        scope.community_id = resident.community_id
    user._linli_scope = scope
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, "_linli_scope"):
        del user._linli_scope
