"""The 议事厅's state machines, declared once with :mod:`linli.core.transitions`.

* ``TOPIC`` — the five steps 提议 → 商议 → 审议 → 决议 → 公示 (and 办结 / 未采纳). Only
  the moves in the table exist (no skipping); sending back and rejecting need a reason;
  the vote needs a complete, favourable review; 公示 needs a closed ballot; 办结 needs
  the objection window over and every objection answered.
* ``MEETING`` — a scheduled meeting is held (quorum reached), recorded as not convened,
  or cancelled (with a reason). Which of held / not convened applies is decided by the
  quorum count under the meeting's lock (see ``services.meetings.meeting_conclude``).
* ``ACTION_ITEM`` — a resolution's action item moves between 未开始 / 推进中 / 受阻 and
  ends at 已完成; its owner or the community staff report progress.

Services change these fields only through ``<machine>.apply``; pages and the API take
their buttons from ``available`` / ``flags``; the permission-matrix tests iterate over
the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.core.errors import DomainError, InvalidTransition
from linli.core.transitions import Machine, Transition, predicate, transition
from linli.core.types import Actor
from linli.deliberation import voting_bridge
from linli.deliberation.models import ActionItem, Meeting, ReviewNote, Topic, TopicTransition
from linli.deliberation.permissions import acting_user_id, manages

S = Topic.Step

# The tenant of the row being changed, so the machines' row lock filters by it (core's
# ``Machine.apply`` locks by primary key only; on a table distributed by community a
# query without the community goes to every shard). Set by :func:`apply_scoped`.
_tenant: ContextVar[int | None] = ContextVar("deliberation_tenant", default=None)


def _scoped[T: Model](make: Callable[[], QuerySet[T]]) -> Callable[[], QuerySet[T]]:
    def qs() -> QuerySet[T]:
        cid = _tenant.get()
        return make() if cid is None else make().filter(community_id=cid)

    return qs


def apply_scoped[T: Model](machine: Machine[T], *, obj: T, **kwargs: Any) -> T:
    """``machine.apply`` with the row lock filtered by the object's community."""
    token = _tenant.set(machine.tenant(obj))
    try:
        return machine.apply(obj=obj, **kwargs)
    finally:
        _tenant.reset(token)


M = Meeting.Status
A = ActionItem.Status

# Audit action names kept from before the machines (the audit log and its readers
# already know them); the machine's own action goes into the payload.
TOPIC_EVENT = "deliberation.topic_transition"
MEETING_EVENTS = {"hold": "deliberation.meeting_conclude", "fail": "deliberation.meeting_conclude"}
ACTION_EVENT = "deliberation.action_update"


@predicate
def staff_of_community(actor: Actor, obj: Topic | Meeting | ActionItem) -> bool:
    """Community workers and the secretary of the object's community (and above)."""
    return manages(actor, obj)


@predicate
def action_owner(actor: Actor, item: ActionItem) -> bool:
    return item.owner_user_id is not None and item.owner_user_id == getattr(actor, "pk", None)


# --------------------------------------------------------------------------- topics


def reviewed(actor: Actor, topic: Topic) -> DomainError | None:
    """审议 gates the vote: feasibility, budget and law each have a note, none "不通过"."""
    notes = list(
        ReviewNote.objects.filter(topic_id=topic.pk, community_id=topic.community_id).values_list(
            "aspect", "conclusion"
        )
    )
    have = {aspect for aspect, _c in notes}
    missing = [
        label
        for aspect, label in ReviewNote.Aspect.choices
        if aspect != ReviewNote.Aspect.OTHER and aspect not in have
    ]
    if missing:
        return InvalidTransition(
            _("审议尚未完成：还缺少%(m)s方面的审议意见。")
            % {"m": "、".join(str(m) for m in missing)}
        )
    if any(c == ReviewNote.Conclusion.NOT_OK for _a, c in notes):
        return InvalidTransition(_("有审议意见为“不通过”，不能进入决议；请退回商议或不予采纳。"))
    return None


def vote_closed(actor: Actor, topic: Topic) -> DomainError | None:
    """公示 needs the topic's ballot, closed (the minutes are checked by the service,
    since they are the input of this step)."""
    if topic.ballot_id is None:
        return InvalidTransition(_("决议尚未发起表决，不能公示。"))
    if topic.ballot is None or not voting_bridge.is_closed(topic.ballot):
        return InvalidTransition(_("表决尚未结束，结束后才能公示结果。"))
    return None


def window_over(actor: Actor, topic: Topic) -> DomainError | None:
    if topic.objections_until is None or timezone.now() < topic.objections_until:
        return InvalidTransition(_("公示异议期尚未结束，不能办结。"))
    from linli.deliberation.models import Objection

    if Objection.objects.filter(
        topic_id=topic.pk, community_id=topic.community_id, responded_at__isnull=True
    ).exists():
        return InvalidTransition(_("还有未答复的异议，答复后才能办结。"))
    return None


def _topic_history(
    topic: Topic, t: Transition[Topic], actor: Actor, before: str, reason: str
) -> None:
    TopicTransition.objects.create(
        topic=topic,
        community_id=topic.community_id,
        from_step=before,
        to_step=t.target,
        actor_id=acting_user_id(actor),
        at=timezone.now(),
        reason=reason.strip(),
    )


TOPIC: Machine[Topic] = Machine(
    name="deliberation.topic",
    model=Topic,
    state_field="step",
    transitions=[
        transition(
            "accept", _l("受理，进入商议"), [S.PROPOSED], S.DISCUSSING, who=staff_of_community
        ),
        transition(
            "reject",
            _l("不予受理"),
            [S.PROPOSED],
            S.REJECTED,
            who=staff_of_community,
            reason_required=True,
        ),
        transition(
            "submit_review",
            _l("商议结束，提交审议"),
            [S.DISCUSSING],
            S.REVIEWING,
            who=staff_of_community,
        ),
        transition(
            "send_back",
            _l("退回商议"),
            [S.REVIEWING],
            S.DISCUSSING,
            who=staff_of_community,
            reason_required=True,
        ),
        transition(
            "review_reject",
            _l("审议不通过"),
            [S.REVIEWING],
            S.REJECTED,
            who=staff_of_community,
            reason_required=True,
        ),
        transition(
            "open_vote",
            _l("审议通过，发起表决"),
            [S.REVIEWING],
            S.RESOLVING,
            who=staff_of_community,
            guard=reviewed,
            forbidden=_l("只有本社区的社区工作者或书记可以发起表决。"),
        ),
        transition(
            "publicise",
            _l("公示结果"),
            [S.RESOLVING],
            S.PUBLICISED,
            who=staff_of_community,
            guard=vote_closed,
            forbidden=_l("只有本社区的社区工作者或书记可以公示结果。"),
        ),
        transition(
            "reopen",
            _l("异议成立，重新审议"),
            [S.PUBLICISED],
            S.REVIEWING,
            who=staff_of_community,
            reason_required=True,
        ),
        transition(
            "close",
            _l("公示期满，办结"),
            [S.PUBLICISED],
            S.CLOSED,
            who=staff_of_community,
            guard=window_over,
        ),
    ],
    lock_queryset=_scoped(lambda: Topic.objects.select_related("community", "ballot")),
    history=_topic_history,
    state_label=lambda topic: str(topic.get_step_display()),
)

# Moves that carry data of their own (the ballot; the minutes) have their own services.
TOPIC_DATA_ACTIONS = ("open_vote", "publicise")


def topic_action_for(step: str, to: str) -> str | None:
    """The action that moves a topic from ``step`` to ``to`` (at most one exists)."""
    for action, t in TOPIC.table.items():
        if step in t.sources and t.target == to:
            return action
    return None


# --------------------------------------------------------------------------- meetings


def started(actor: Actor, meeting: Meeting) -> DomainError | None:
    if meeting.starts_at > timezone.now():
        return InvalidTransition(_("会议尚未开始，不能结束会议。"))
    return None


MEETING: Machine[Meeting] = Machine(
    name="deliberation.meeting",
    model=Meeting,
    state_field="status",
    transitions=[
        transition(
            "hold",
            _l("结束会议（已达法定人数）"),
            [M.SCHEDULED],
            M.HELD,
            who=staff_of_community,
            guard=started,
        ),
        transition(
            "fail",
            _l("结束会议（未达法定人数）"),
            [M.SCHEDULED],
            M.NOT_CONVENED,
            who=staff_of_community,
            guard=started,
        ),
        transition(
            "cancel",
            _l("取消会议"),
            [M.SCHEDULED],
            M.CANCELLED,
            who=staff_of_community,
            reason_required=True,
        ),
    ],
    lock_queryset=_scoped(lambda: Meeting.objects.select_related("community")),
    state_label=lambda m: str(m.get_status_display()),
)


# --------------------------------------------------------------------------- action items

_OPEN_ITEM = [A.OPEN, A.IN_PROGRESS, A.BLOCKED]

ACTION_ITEM: Machine[ActionItem] = Machine(
    name="deliberation.action_item",
    model=ActionItem,
    state_field="status",
    transitions=[
        transition(
            "reset", A.OPEN.label, _OPEN_ITEM, A.OPEN, who=action_owner | staff_of_community
        ),
        transition(
            "advance",
            A.IN_PROGRESS.label,
            _OPEN_ITEM,
            A.IN_PROGRESS,
            who=action_owner | staff_of_community,
        ),
        transition(
            "block", A.BLOCKED.label, _OPEN_ITEM, A.BLOCKED, who=action_owner | staff_of_community
        ),
        transition(
            "complete", A.DONE.label, _OPEN_ITEM, A.DONE, who=action_owner | staff_of_community
        ),
    ],
    lock_queryset=_scoped(lambda: ActionItem.objects.select_related("community")),
    state_label=lambda i: str(i.get_status_display()),
)

ACTION_FOR_STATUS = {t.target: a for a, t in ACTION_ITEM.table.items()}


__all__ = [
    "apply_scoped",
    "ACTION_EVENT",
    "ACTION_FOR_STATUS",
    "ACTION_ITEM",
    "MEETING",
    "MEETING_EVENTS",
    "TOPIC",
    "TOPIC_DATA_ACTIONS",
    "TOPIC_EVENT",
    "reviewed",
    "topic_action_for",
    "vote_closed",
    "window_over",
]
