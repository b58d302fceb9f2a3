"""Who may build surveys, read results, answer for residents (代办) and run 微心愿
(django-rules predicates). The state-dependent rules are in :mod:`linli.surveys.states`."""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of

# Build, open, close and publish surveys; check and publish wishes.
MANAGER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)
# Read results (also the street that supervises the community, and supervisors).
RESULT_ROLES = (*MANAGER_ROLES, Role.STREET_OFFICER, Role.SUPERVISOR)
# Enter paper/phone answers and wishes for residents (代办).
PROXY_ROLES = (*MANAGER_ROLES, Role.GRID_WORKER, Role.BUILDING_LIAISON)
# Partners who may claim wishes besides volunteers.
PARTNER_ROLES = (Role.SOCIAL_ORG, Role.PROPERTY_STAFF)


def community_ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """Communities where ``user`` holds one of ``roles`` (asked once per scope)."""
    return scope_of(user).community_ids_for(*roles)


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
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, MANAGER_ROLES)


@rules.predicate
def reads_results_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, RESULT_ROLES)


@rules.predicate
def proxies_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, PROXY_ROLES)


@rules.predicate
def partner_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in community_ids(user, PARTNER_ROLES)


@rules.predicate
def resident_in(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    scope = scope_of(user)
    return cid is not None and scope.resident_id is not None and scope.community_id == cid


can_build_survey = manages_in
can_read_results = reads_results_in
can_answer_for = proxies_in

rules.add_perm("surveys.build_survey", can_build_survey)
rules.add_perm("surveys.read_results", can_read_results)
rules.add_perm("surveys.answer_for", can_answer_for)
