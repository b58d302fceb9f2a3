"""Who may see and act on a mediation case (django-rules predicates).

* a **party** — a resident named as applicant or respondent — sees their own case
  (status, level, mediators, session dates, the agreement), not the session notes or
  the evidence;
* the case's **mediators** run it: sessions, evidence, the agreement, escalation,
  closing and the follow-up visit;
* **managers** — community workers and the secretary of the case's community, street
  officers of its street (and platform admins) — see every case of their communities,
  open cases, keep the mediator roster, assign mediators and may run any case;
* a **grid worker** may open a case in their community and sees the cases they opened.

Nobody else learns that a case exists: the selectors answer "not found".
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.core.transitions import predicate
from linli.core.types import Actor
from linli.mediation.models import ACTIVE_STATUSES, Case, CaseMediator, Party

MANAGER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY, Role.STREET_OFFICER)
OPENER_ROLES = (*MANAGER_ROLES, Role.GRID_WORKER)


def _ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``scope.community_ids_for(*roles)`` kept on the scope (a write asks it several
    times: before the lock and again on the locked row)."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_mediation_ids", {})
    if roles not in memo:
        memo[roles] = set(scope.community_ids_for(*roles))
    return memo[roles]


def manager_community_ids(user: Any) -> set[int]:
    return _ids(user, MANAGER_ROLES)


def opener_community_ids(user: Any) -> set[int]:
    return _ids(user, OPENER_ROLES)


def mediator_user_ids(case: Case) -> set[int]:
    """The users mediating ``case`` (one query per case object, kept on it)."""
    known: set[int] | None = case.__dict__.get("_mediator_user_ids")
    if known is None:
        known = set(
            CaseMediator.objects.filter(
                community_id=case.community_id, case_id=case.pk
            ).values_list("user_id", flat=True)
        )
        case.__dict__["_mediator_user_ids"] = known
    return known


def party_resident_ids(case: Case) -> set[int]:
    known: set[int] | None = case.__dict__.get("_party_resident_ids")
    if known is None:
        known = set(
            Party.objects.filter(
                community_id=case.community_id, case_id=case.pk, resident__isnull=False
            ).values_list("resident_id", flat=True)
        )
        case.__dict__["_party_resident_ids"] = known
    return known


def forget(case: Case) -> None:
    """Drop what :func:`mediator_user_ids` / :func:`party_resident_ids` kept."""
    case.__dict__.pop("_mediator_user_ids", None)
    case.__dict__.pop("_party_resident_ids", None)


def _cid(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    if getattr(obj, "kind", None) == "community" and hasattr(obj, "path"):
        return int(obj.pk)
    return getattr(obj, "community_id", None)


@predicate
def is_manager(user: Actor, case: Case) -> bool:
    return case is not None and case.community_id in manager_community_ids(user)


@predicate
def is_case_mediator(user: Actor, case: Case) -> bool:
    pk = getattr(user, "pk", None)
    return case is not None and pk is not None and pk in mediator_user_ids(case)


@predicate
def is_party(user: Actor, case: Case) -> bool:
    rid = scope_of(user).resident_id
    return case is not None and rid is not None and rid in party_resident_ids(case)


@predicate
def is_opener(user: Actor, case: Case) -> bool:
    pk = getattr(user, "pk", None)
    return (
        case is not None
        and pk is not None
        and case.opened_by_id == pk
        and case.community_id in opener_community_ids(user)
    )


@predicate
def case_active(user: Actor, case: Case) -> bool:
    return case is not None and case.status in ACTIVE_STATUSES


# Staff view of a case: notes, evidence, parties' contact details.
sees_case_file = is_case_mediator | is_manager | is_opener
sees_case = sees_case_file | is_party
runs_case = is_case_mediator | is_manager
can_assign_mediators = (is_manager | is_opener) & case_active
can_add_evidence = runs_case & case_active
can_write_agreement = runs_case & case_active


@rules.predicate
def can_open_case(user: Any, community: Any) -> bool:
    cid = _cid(community)
    return cid is not None and cid in opener_community_ids(user)


@rules.predicate
def can_manage_roster(user: Any, community: Any) -> bool:
    cid = _cid(community)
    return cid is not None and cid in manager_community_ids(user)


can_view_stats = can_manage_roster

rules.add_perm("mediation.open_case", can_open_case)
rules.add_perm("mediation.manage_roster", can_manage_roster)
rules.add_perm("mediation.view_case", sees_case)
rules.add_perm("mediation.view_case_file", sees_case_file)
rules.add_perm("mediation.assign_mediators", can_assign_mediators)
rules.add_perm("mediation.add_evidence", can_add_evidence)
rules.add_perm("mediation.write_agreement", can_write_agreement)
