"""Who may do what on the 红黑榜 (django-rules predicates).

* **anyone**, signed in or not, sees published quarters and the register (company
  names, scores, criteria; no personal data, no staff notes);
* **inspectors** — grid workers, community workers and the secretary of a community,
  street officers of its street — record inspections of its buildings;
* **street officers** (and the platform admin) compute and publish their street's
  quarter, see unpublished quarters and all evidence of their street, and decide
  appeals against register entries of their street;
* the **platform admin** publishes a new version of the criteria;
* **property staff** see their own company's scores, inspections and evidence, and
  appeal their company's register entries.
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.core.transitions import predicate
from linli.core.types import Actor
from linli.propertyco.models import RegisterEntry

INSPECTOR_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY, Role.STREET_OFFICER)
# Community staff see their communities' scores and evidence (not unpublished ones).
COMMUNITY_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)


def inspector_community_ids(user: Any) -> set[int]:
    return scope_of(user).community_ids_for(*INSPECTOR_ROLES)


def community_staff_ids(user: Any) -> set[int]:
    return scope_of(user).community_ids_for(*COMMUNITY_ROLES, Role.STREET_OFFICER)


def company_ids(user: Any) -> set[int]:
    """The property companies the user works for."""
    return set(scope_of(user).organisation_ids.get(Role.PROPERTY_STAFF, set()))


def _path(unit: Any) -> str:
    return str(getattr(unit, "path", "") or "")


def runs_street(user: Any, street: Any) -> bool:
    """Street officer at or above ``street`` (or platform admin)."""
    if street is None:
        return False
    return scope_of(user).covers(_path(street), Role.STREET_OFFICER)


def street_ids(user: Any) -> set[int] | None:
    """The streets whose quarters the user runs; None means all (platform admin)."""
    scope = scope_of(user)
    if scope.is_platform_admin:
        return None
    from linli.communities.models import OrgUnit

    paths = scope.paths_for(Role.STREET_OFFICER)
    if not paths:
        return set()
    out: set[int] = set()
    for u_id, path in OrgUnit.objects.filter(kind="street").values_list("pk", "path"):
        if any(path.startswith(p) for p in paths):
            out.add(u_id)
    return out


@rules.predicate
def can_record_inspection(user: Any, community: Any) -> bool:
    cid = getattr(community, "pk", community)
    return cid is not None and cid in inspector_community_ids(user)


@rules.predicate
def can_run_board(user: Any, street: Any) -> bool:
    return runs_street(user, street)


@rules.predicate
def can_publish_criteria(user: Any, _obj: Any = None) -> bool:
    return scope_of(user).is_platform_admin


@predicate
def is_entry_company_staff(user: Actor, entry: RegisterEntry) -> bool:
    return entry is not None and entry.company_id in company_ids(user)


@predicate
def runs_entry_street(user: Actor, entry: RegisterEntry) -> bool:
    return entry is not None and runs_street(user, entry.street)


@predicate
def sees_entry_evidence(user: Actor, entry: RegisterEntry) -> bool:
    return entry is not None and (
        entry.company_id in company_ids(user)
        or entry.community_id in community_staff_ids(user)
        or runs_street(user, entry.street)
    )


rules.add_perm("propertyco.record_inspection", can_record_inspection)
rules.add_perm("propertyco.run_board", can_run_board)
rules.add_perm("propertyco.publish_criteria", can_publish_criteria)
rules.add_perm("propertyco.view_entry_evidence", sees_entry_evidence)
