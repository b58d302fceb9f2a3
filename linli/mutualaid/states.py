"""The state machines of 邻里互助, declared once with :mod:`linli.core.transitions`.

* ``NEED`` — 待匹配 (open) → 已匹配 (matched, when a match is agreed by both sides) →
  已完成 (done, when that match is settled); open → 已取消 by the requester or staff
  (代办). A cancelled agreed match puts the need back to open. Matching, reopening and
  completing are the system's moves inside the match's own transaction.
* ``MATCH`` — a suggestion is 待双方确认 (proposed); each side accepts once
  (need_accepted / helper_accepted), the second acceptance makes it 双方已确认
  (agreed); agreed → 已完成结算 (settled: the requester — or staff for them — confirms
  the help happened; for a partner's service only community staff, never the partner);
  either side may decline before agreeing or cancel after.
* ``CONTRIBUTION`` — a partner's reported service is confirmed (points credited) or
  rejected with a reason by community staff; members of the partner are refused.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.accounts.scope import scope_of
from linli.core.errors import Conflict, DomainError
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.types import Actor
from linli.mutualaid.models import (
    Contribution,
    ContributionStatus,
    Match,
    MatchKind,
    MatchStatus,
    Need,
    NeedStatus,
)
from linli.mutualaid.permissions import (
    aid_staff_community_ids,
    organisation_ids,
    partner_staff_community_ids,
)

N = NeedStatus
M = MatchStatus
C = ContributionStatus


# --------------------------------------------------------------------------- predicates


def _user_id(actor: Actor) -> int | None:
    return getattr(actor, "pk", None)


@predicate
def sees_need(actor: Actor, need: Need) -> bool:
    scope = scope_of(actor)
    return (
        scope.resident_id is not None and scope.resident_id == need.requester_id
    ) or need.community_id in aid_staff_community_ids(actor)


@predicate
def need_side(actor: Actor, need: Need) -> bool:
    """The requester, or community staff acting for them (代办)."""
    rid = scope_of(actor).resident_id
    return (rid is not None and rid == need.requester_id) or need.community_id in (
        aid_staff_community_ids(actor)
    )


@predicate
def match_need_side(actor: Actor, match: Match) -> bool:
    rid = scope_of(actor).resident_id
    return (rid is not None and rid == match.need.requester_id) or match.community_id in (
        aid_staff_community_ids(actor)
    )


@predicate
def match_helper_side(actor: Actor, match: Match) -> bool:
    """The helping resident, a member of the helping partner, the resource's owner, or
    staff acting for a helping resident (代办) or for a community-owned resource."""
    rid = scope_of(actor).resident_id
    if match.helper_id is not None:
        if rid is not None and rid == match.helper_id:
            return True
        return match.community_id in aid_staff_community_ids(actor)
    if match.partner is not None:
        return match.partner.organisation_id in organisation_ids(actor)
    if match.owner_user_id is not None:
        return match.owner_user_id == _user_id(actor)
    # A shared resource without a named owner belongs to the community: its staff
    # accept for it.
    return match.kind == MatchKind.RESOURCE and match.community_id in (
        aid_staff_community_ids(actor)
    )


@predicate
def partner_member_of_match(actor: Actor, match: Match) -> bool:
    partner = match.partner if match.partner_id is not None else None
    return partner is not None and partner.organisation_id in organisation_ids(actor)


@predicate
def community_confirmer(actor: Actor, match: Match) -> bool:
    return match.community_id in partner_staff_community_ids(actor)


@predicate
def is_partner_match(actor: Actor, match: Match) -> bool:
    return match.kind == MatchKind.PARTNER_SERVICE


@predicate
def sees_match(actor: Actor, match: Match) -> bool:
    return bool(match_need_side(actor, match) or match_helper_side(actor, match))


@predicate
def confirms_contribution(actor: Actor, c: Contribution) -> bool:
    return c.community_id in partner_staff_community_ids(actor)


@predicate
def member_of_contributor(actor: Actor, c: Contribution) -> bool:
    return c.partner.organisation_id in organisation_ids(actor)


@predicate
def sees_contribution(actor: Actor, c: Contribution) -> bool:
    return bool(confirms_contribution(actor, c) or member_of_contributor(actor, c))


# --------------------------------------------------------------------------- guards


def need_still_open(actor: Actor, match: Match) -> DomainError | None:
    if match.need.status != N.OPEN:
        return Conflict(_("该需求已不再等待匹配（已匹配、完成或取消）。"), code="need_closed")
    return None


# --------------------------------------------------------------------------- machines

NEED: Machine[Need] = Machine(
    name="mutualaid.need",
    model=Need,
    transitions=[
        transition("cancel", _l("取消需求"), [N.OPEN], N.CANCELLED, who=need_side),
        transition("match", _l("匹配成功"), [N.OPEN], N.MATCHED, who=is_system),
        transition("reopen", _l("重新匹配"), [N.MATCHED], N.OPEN, who=is_system),
        transition("complete", _l("完成"), [N.MATCHED], N.DONE, who=is_system),
    ],
    visible=sees_need,
    state_label=lambda n: str(n.get_status_display()),
)

_NOT_THE_PARTNER = _l("合作单位不能给自己发放积分，须由社区工作人员确认服务。")

# Settling a partner's service credits the partner: community staff only, and never a
# member of that partner. A resident's help is settled by the person helped (or staff
# for them).
_settler = (is_partner_match & community_confirmer & ~partner_member_of_match) | (
    ~is_partner_match & match_need_side
)

MATCH: Machine[Match] = Machine(
    name="mutualaid.match",
    model=Match,
    transitions=[
        transition(
            "accept_need",
            _l("接受"),
            [M.PROPOSED],
            M.NEED_ACCEPTED,
            who=match_need_side,
            guard=need_still_open,
        ),
        transition(
            "agree_need",
            _l("接受"),
            [M.HELPER_ACCEPTED],
            M.AGREED,
            who=match_need_side,
            guard=need_still_open,
        ),
        transition(
            "accept_helper",
            _l("接受"),
            [M.PROPOSED],
            M.HELPER_ACCEPTED,
            who=match_helper_side,
            guard=need_still_open,
        ),
        transition(
            "agree_helper",
            _l("接受"),
            [M.NEED_ACCEPTED],
            M.AGREED,
            who=match_helper_side,
            guard=need_still_open,
        ),
        transition(
            "decline",
            _l("婉拒"),
            [M.PROPOSED, M.NEED_ACCEPTED, M.HELPER_ACCEPTED],
            M.DECLINED,
            who=match_need_side | match_helper_side,
        ),
        transition(
            "cancel",
            _l("取消匹配"),
            [M.AGREED],
            M.CANCELLED,
            who=match_need_side | match_helper_side,
            reason_required=True,
        ),
        transition(
            "settle",
            _l("确认完成并结算"),
            [M.AGREED],
            M.SETTLED,
            who=_settler,
            forbidden=_NOT_THE_PARTNER,
        ),
    ],
    visible=sees_match,
    lock_queryset=lambda: Match.objects.select_related("need", "partner"),
    state_label=lambda m: str(m.get_status_display()),
)

# The two acceptance steps of each side (first acceptance, acceptance that agrees).
NEED_SIDE_ACCEPT = ("accept_need", "agree_need")
HELPER_SIDE_ACCEPT = ("accept_helper", "agree_helper")

CONTRIBUTION: Machine[Contribution] = Machine(
    name="mutualaid.contribution",
    model=Contribution,
    transitions=[
        transition(
            "confirm",
            _l("确认并发放积分"),
            [C.REPORTED],
            C.CONFIRMED,
            who=confirms_contribution & ~member_of_contributor,
            forbidden=_NOT_THE_PARTNER,
        ),
        transition(
            "reject",
            _l("不予确认"),
            [C.REPORTED],
            C.REJECTED,
            who=confirms_contribution & ~member_of_contributor,
            forbidden=_NOT_THE_PARTNER,
            reason_required=True,
        ),
    ],
    visible=sees_contribution,
    lock_queryset=lambda: Contribution.objects.select_related("partner"),
    state_label=lambda c: str(c.get_status_display()),
)

NEED.add_perms("mutualaid")
MATCH.add_perms("mutualaid")
CONTRIBUTION.add_perms("mutualaid")

__all__ = ["CONTRIBUTION", "HELPER_SIDE_ACCEPT", "MATCH", "NEED", "NEED_SIDE_ACCEPT"]
