"""Who may see and act on a request (django-rules predicates).

* manager – a grid worker of the request's grid, a community worker or secretary of its
  community, a street officer of its street (they route, reject and merge);
* org staff – property or department staff of the organisation the request is assigned
  to or owned by (首接负责制);
* handler = manager | org staff (accept, dispatch, start, resolve);
* supervisor – reads the community's requests;
* reporter – the resident who reported it (urge, complain, rate, reopen);
* other residents of the community see the public view (no reporter identity, and no
  photos unless the reporter made the request public).
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.requests.models import ServiceRequest

MANAGER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY, Role.STREET_OFFICER)
RECORD_ROLES = MANAGER_ROLES  # who may record a request for a resident (代办)
ORG_HANDLER_ROLES = (Role.PROPERTY_STAFF, Role.DEPARTMENT_HANDLER)


def request_path(req: ServiceRequest) -> str:
    """The most specific unit path: grid when known, else the community."""
    if req.grid_id and req.grid is not None:
        return req.grid.path
    return req.community.path


@rules.predicate
def is_reporter(user: Any, req: ServiceRequest | None) -> bool:
    return (
        req is not None
        and req.reporter_id is not None
        and req.reporter_id == getattr(user, "pk", None)
    )


@rules.predicate
def is_manager(user: Any, req: ServiceRequest | None) -> bool:
    return req is not None and scope_of(user).covers(request_path(req), *MANAGER_ROLES)


@rules.predicate
def is_org_staff(user: Any, req: ServiceRequest | None) -> bool:
    if req is None:
        return False
    scope = scope_of(user)
    orgs: set[int] = set()
    for role in ORG_HANDLER_ROLES:
        orgs |= scope.organisation_ids.get(role, set())
    return bool(orgs & {req.assignee_org_id, req.owner_org_id})


@rules.predicate
def is_supervisor(user: Any, req: ServiceRequest | None) -> bool:
    return req is not None and scope_of(user).covers(req.community.path, Role.SUPERVISOR)


@rules.predicate
def is_community_resident(user: Any, req: ServiceRequest | None) -> bool:
    return req is not None and scope_of(user).community_id == req.community_id


can_handle = is_manager | is_org_staff
can_manage = is_manager
can_view_staff = can_handle | is_supervisor
can_view_reporter = can_view_staff
can_view = can_view_staff | is_reporter | is_community_resident


@rules.predicate
def is_public(user: Any, req: ServiceRequest | None) -> bool:
    """The reporter opted in to show the request's text and photos to neighbours."""
    return req is not None and bool(req.public)


# Photos may show a resident's home, family or face: the reporter and the staff who
# handle or supervise the request, or neighbours when the reporter made it public.
can_view_photos = can_view_staff | is_reporter | (is_community_resident & is_public)

rules.add_perm("requests.view_request", can_view)
rules.add_perm("requests.handle_request", can_handle)
rules.add_perm("requests.manage_request", can_manage)
rules.add_perm("requests.view_request_photos", can_view_photos)


def actor_kinds(user: Any, req: ServiceRequest) -> set[str]:
    kinds: set[str] = set()
    if is_manager(user, req):
        kinds |= {"manager", "handler"}
    elif is_org_staff(user, req):
        kinds.add("handler")
    if is_reporter(user, req):
        kinds.add("reporter")
    return kinds


def can_record_in(user: Any, unit_path: str) -> bool:
    """May record (代办) a request located in the unit at ``unit_path``."""
    return scope_of(user).covers(unit_path, *RECORD_ROLES)
