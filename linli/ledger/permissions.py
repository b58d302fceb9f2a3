"""Who may do what with points and hours (django-rules predicates).

Staff rights are community-wide: a grid worker's membership sits on a grid, so "staff
of community C" is computed with ``Scope.community_ids_for`` (which maps a grid to its
community) rather than a path prefix.
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit

MANAGER_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)
STAFF_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY)
OVERSIGHT_ROLES = (Role.SUPERVISOR, Role.STREET_OFFICER)
LEVELS = ("", "A", "AA", "AAA")


def _community_id(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, OrgUnit):
        return obj.pk
    if isinstance(obj, int):
        return obj
    return getattr(obj, "community_id", None)


def _in(user: Any, obj: Any, *roles: str) -> bool:
    cid = _community_id(obj)
    if cid is None:
        return False
    scope = scope_of(user)
    # Most staff hold their role on the community itself or on one of its grids: answer
    # from the loaded memberships without a query (the same result as
    # ``community_ids_for``, which maps a grid to its community). Memberships higher up
    # (a street) and platform admins need the tree, so they take the query.
    for role in roles:
        for unit_id, path, kind in scope.units.get(role, []):
            if kind == "community" and unit_id == cid:
                return True
            if kind == "grid" and path.strip("/").split("/")[-2:-1] == [str(cid)]:
                return True
    return cid in scope.community_ids_for(*roles)


@rules.predicate
def manages_ledger(user: Any, obj: Any) -> bool:
    """Community worker or secretary of the object's community (rules, catalogue)."""
    return _in(user, obj, *MANAGER_ROLES)


@rules.predicate
def is_ledger_staff(user: Any, obj: Any) -> bool:
    return _in(user, obj, *STAFF_ROLES)


@rules.predicate
def oversees_ledger(user: Any, obj: Any) -> bool:
    return _in(user, obj, *OVERSIGHT_ROLES)


@rules.predicate
def is_secretary(user: Any, obj: Any) -> bool:
    return _in(user, obj, Role.SECRETARY)


@rules.predicate
def owns_account(user: Any, account: Any) -> bool:
    if account is None:
        return False
    scope = scope_of(user)
    if account.resident_id is not None:
        return scope.resident_id == account.resident_id
    if account.household_id is not None:
        return scope.household_id == account.household_id
    return False


@rules.predicate
def staff_sees_account(user: Any, account: Any) -> bool:
    """Staff of the community see its shared accounts (funds, organisations); a
    resident's or household's account only the grid worker of that person's grid, so a
    grid worker cannot browse every neighbour's statement in the community.
    (Managers and oversight are granted separately.)"""
    if account is None:
        return False
    if account.resident_id is not None:
        path = account.resident.grid.path
    elif account.household_id is not None:
        path = account.household.building.grid.path
    else:
        return _in(user, account, *STAFF_ROLES)
    return _in(user, account, Role.GRID_WORKER) and scope_of(user).covers(path, Role.GRID_WORKER)


@rules.predicate
def can_view_claim_pred(user: Any, claim: Any) -> bool:
    """Who may know a claim exists: the earner, the person served, staff and oversight
    of its community, anyone who may decide it. Everyone else (another community's
    staff) gets "not found", the same as for an id that does not exist."""
    if claim is None:
        return False
    rid = scope_of(user).resident_id
    if rid is not None and rid in (claim.resident_id, claim.recipient_id):
        return True
    if _in(user, claim, *STAFF_ROLES, Role.SOCIAL_ORG, *OVERSIGHT_ROLES):
        return True
    return bool(can_approve_claim_pred(user, claim) or can_confirm_claim_pred(user, claim))


@rules.predicate
def can_use_voucher_pred(user: Any, voucher: Any) -> bool:
    if voucher is None:
        return False
    if _in(user, voucher, *MANAGER_ROLES):
        return True
    # Property staff honour property-fee vouchers for the communities they serve.
    return voucher.item.kind == "property_voucher" and _in(user, voucher, Role.PROPERTY_STAFF)


def _approver_ok(user: Any, claim: Any) -> bool:
    scope = scope_of(user)
    roles = set(claim.rule.approver_roles or [])
    if "staff" in roles and _in(user, claim, *MANAGER_ROLES):
        return True
    if "grid_worker" in roles and scope.covers(claim.resident.grid.path, Role.GRID_WORKER):
        return True
    # Activity organisers are social organisations or community workers.
    return "organiser" in roles and _in(user, claim, Role.SOCIAL_ORG, Role.COMMUNITY_WORKER)


@rules.predicate
def can_approve_claim_pred(user: Any, claim: Any) -> bool:
    if claim is None or scope_of(user).resident_id == claim.resident_id:
        return False  # nobody approves their own earnings
    return _approver_ok(user, claim)


@rules.predicate
def can_confirm_claim_pred(user: Any, claim: Any) -> bool:
    """The person served, or the grid worker of the person served — never the earner."""
    if claim is None or claim.recipient_id is None:
        return False
    scope = scope_of(user)
    if scope.resident_id == claim.resident_id:
        return False
    if scope.resident_id == claim.recipient_id:
        return True
    return scope.covers(claim.recipient.grid.path, Role.GRID_WORKER)


can_manage_ledger = manages_ledger
can_view_account = owns_account | manages_ledger | staff_sees_account | oversees_ledger
can_view_claim = can_view_claim_pred
can_view_trial_balance = manages_ledger | oversees_ledger
can_award = manages_ledger | is_ledger_staff
can_reverse = is_secretary
can_award_honour = manages_ledger
can_approve_claim = can_approve_claim_pred
can_confirm_claim = can_confirm_claim_pred
can_use_voucher = can_use_voucher_pred

rules.add_perm("ledger.manage", can_manage_ledger)
rules.add_perm("ledger.view_account", can_view_account)
rules.add_perm("ledger.view_trial_balance", can_view_trial_balance)
rules.add_perm("ledger.reverse", can_reverse)
rules.add_perm("ledger.approve_claim", can_approve_claim)
rules.add_perm("ledger.confirm_claim", can_confirm_claim)
rules.add_perm("ledger.use_voucher", can_use_voucher)
rules.add_perm("ledger.award_honour", can_award_honour)


def level_at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(level or "") >= LEVELS.index(minimum or "")


def has_credit_level(minimum: str) -> Any:
    """A predicate factory usable elsewhere: ``has_credit_level("AA")(user, community)``.

    Priority sign-up in activities uses it. Lifetime earned points decide the level,
    not the current balance, so spending never costs a resident their standing.
    """

    @rules.predicate(name=f"has_credit_level_{minimum}")
    def _pred(user: Any, community: Any = None) -> bool:
        from linli.ledger.selectors import credit_level_for_resident

        scope = scope_of(user)
        if scope.resident_id is None:
            return False
        return level_at_least(credit_level_for_resident(scope.resident_id), minimum)

    return _pred
