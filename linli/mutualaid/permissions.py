"""Who may do what in 邻里互助 and with 社区合伙人 (django-rules predicates).

* Residents post their own needs and offers; community staff (grid worker, community
  worker, secretary) post and act for residents of their community (代办, channel
  recorded).
* Partner members are users whose membership names the partner's organisation; they
  keep the partner's profile and offerings and report services delivered — but never
  confirm them: only community workers / the secretary confirm, which is what credits
  the partner's points (a partner cannot award itself).
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of

# Staff who may act for residents (代办) and see every need of their community.
AID_STAFF_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SECRETARY)
# Staff who manage partners and confirm their contributions.
PARTNER_STAFF_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY)


def _ids(user: Any, roles: tuple[str, ...]) -> set[int]:
    """``community_ids_for`` memoised on the scope (one write asks several times)."""
    scope = scope_of(user)
    memo: dict[tuple[str, ...], set[int]] = scope.__dict__.setdefault("_mutualaid_ids", {})
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


def aid_staff_community_ids(user: Any) -> set[int]:
    return _ids(user, AID_STAFF_ROLES)


def partner_staff_community_ids(user: Any) -> set[int]:
    return _ids(user, PARTNER_STAFF_ROLES)


def organisation_ids(user: Any) -> set[int]:
    """Organisations the user belongs to (any role)."""
    out: set[int] = set()
    for ids in scope_of(user).organisation_ids.values():
        out |= ids
    return out


@rules.predicate
def is_aid_staff(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in aid_staff_community_ids(user)


@rules.predicate
def is_partner_staff(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    return cid is not None and cid in partner_staff_community_ids(user)


@rules.predicate
def is_partner_member(user: Any, partner: Any) -> bool:
    org = getattr(partner, "organisation_id", None)
    return org is not None and org in organisation_ids(user)


@rules.predicate
def is_resident_of(user: Any, obj: Any) -> bool:
    cid = _cid(obj)
    scope = scope_of(user)
    return scope.resident_id is not None and cid is not None and scope.community_id == cid


can_post_for_resident = is_aid_staff
can_manage_partners = is_partner_staff
can_edit_partner = is_partner_staff | is_partner_member

rules.add_perm("mutualaid.post_for_resident", can_post_for_resident)
rules.add_perm("mutualaid.manage_partners", can_manage_partners)
rules.add_perm("mutualaid.edit_partner", can_edit_partner)
