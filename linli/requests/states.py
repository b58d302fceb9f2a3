"""The request state machine, declared once with :mod:`linli.core.transitions`.

``machine`` is the table of status changes: from which states, to which state, who
may (predicates from :mod:`linli.requests.permissions`), guards and whether a reason
is required. ``actions`` holds the governed actions that do not change the status
(support, urge, complain, reroute, plan, feedback, onsite) with the same refusal order,
so pages, the API and the services ask one place.

Actor kinds: ``handler`` – staff who may work on the request (covering grid/community/
street staff or staff of the assigned/owning organisation); ``manager`` – covering
grid, community or street staff only; ``reporter`` – the resident who reported it;
``system`` – the deadline sweep (``actor=None``).

Services run under :func:`at` so guards and the timeline use the service's clock
(tests and the sweep pass a fixed ``now``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.core.errors import Conflict, DomainError, RateLimited
from linli.core.transitions import Machine, Who, predicate, transition
from linli.core.transitions import Transition as CoreTransition
from linli.core.transitions import is_system as _is_system
from linli.core.types import Actor
from linli.requests import deadlines
from linli.requests.models import OPEN_STATUSES, EventKind, RequestEvent, ServiceRequest, Status
from linli.requests.permissions import (
    can_handle,
    can_manage,
    can_view,
    is_community_resident,
    is_org_staff,
    is_reporter,
)

URGE_INTERVAL = timedelta(hours=24)
REOPEN_WINDOW = timedelta(days=7)

# ---------------------------------------------------------------- the service's clock

_clock: ContextVar[datetime | None] = ContextVar("requests_clock", default=None)
_note: ContextVar[str | None] = ContextVar("requests_note", default=None)
# The community of the request being changed: ``machine.apply`` re-reads the row
# through :func:`lock_queryset`, which then filters by the tenant too.
_tenant: ContextVar[int | None] = ContextVar("requests_tenant", default=None)


def now() -> datetime:
    """The time of the action being applied (the service's ``now``), else the clock."""
    return _clock.get() or timezone.now()


@contextmanager
def at(
    when: datetime, *, note: str | None = None, community_id: int | None = None
) -> Iterator[None]:
    """Run a service step at ``when``; ``note`` is the timeline text of the transition,
    ``community_id`` the tenant the row is locked within."""
    t1 = _clock.set(when)
    t2 = _note.set(note)
    t3 = _tenant.set(community_id)
    try:
        yield
    finally:
        _clock.reset(t1)
        _note.reset(t2)
        _tenant.reset(t3)


# ---------------------------------------------------------------- who

handler: Who[ServiceRequest] = can_handle
manager: Who[ServiceRequest] = can_manage
reporter: Who[ServiceRequest] = is_reporter
system: Who[ServiceRequest] = predicate(_is_system)
community_resident: Who[ServiceRequest] = is_community_resident
org_staff: Who[ServiceRequest] = is_org_staff


# ---------------------------------------------------------------- guards


def _reopen_window(actor: Actor, req: ServiceRequest) -> DomainError | None:
    if req.resolved_at is None or now() - req.resolved_at > REOPEN_WINDOW:
        from linli.core.errors import InvalidTransition

        return InvalidTransition(_("办结已超过 7 天，不能重启，请提交新的诉求。"))
    return None


def _urge_interval(actor: Actor, req: ServiceRequest) -> DomainError | None:
    if req.last_urged_at and now() - req.last_urged_at < URGE_INTERVAL:
        nxt = timezone.localtime(req.last_urged_at + URGE_INTERVAL)
        return RateLimited(
            _("每 24 小时只能催办一次，请在 %(t)s 之后再试。") % {"t": f"{nxt:%m-%d %H:%M}"}
        )
    return None


def _overdue(actor: Actor, req: ServiceRequest) -> str | None:
    if not deadlines.is_overdue(req, now()):
        return _("诉求尚未超过办理时限，可以先催办。")
    return None


def _not_own(actor: Actor, req: ServiceRequest) -> DomainError | None:
    if is_reporter(actor, req):
        return Conflict(_("这是您自己提交的诉求。"))
    return None


def _whistle_pending(actor: Actor, req: ServiceRequest) -> str | None:
    if not req.is_whistle or req.onsite_at is not None:
        return _("该诉求无需报到或已报到。")
    return None


# ---------------------------------------------------------------- history


def _history(
    req: ServiceRequest, t: CoreTransition[ServiceRequest], actor: Actor, before: str, reason: str
) -> None:
    """The timeline row of a status change (shown to the resident)."""
    note = _note.get()
    RequestEvent.objects.create(
        request=req,
        community_id=req.community_id,
        at=now(),
        actor_id=getattr(actor, "pk", None),
        kind=EventKind.TRANSITION,
        from_status=before,
        to_status=t.target,
        note=(note if note is not None else reason)[:2000],
        public=True,
    )


def lock_queryset() -> QuerySet[ServiceRequest]:
    """How a request is re-read under its lock: everything the predicates, guards,
    notifications and the API response read, in one statement; within the tenant
    when the service named it (:func:`at`)."""
    qs = ServiceRequest.objects.all()
    tenant = _tenant.get()
    if tenant is not None:
        qs = qs.filter(community_id=tenant)
    return qs.select_related(
        "category",
        "community",
        "grid",
        "building",
        "reporter",
        "reporter_resident",
        "assignee_org",
        "assignee_unit",
        "owner_org",
        "owner_unit",
    )


S = Status
OPEN = set(OPEN_STATUSES)

machine: Machine[ServiceRequest] = Machine(
    name="requests",
    model=ServiceRequest,
    state_field="status",
    visible=can_view,
    lock_queryset=lock_queryset,
    history=_history,
    state_label=lambda r: str(r.get_status_display()),
    transitions=[
        transition("accept", _l("受理"), {S.SUBMITTED, S.REOPENED}, S.ACCEPTED, who=handler),
        transition(
            "dispatch",
            _l("派单"),
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REOPENED},
            S.DISPATCHED,
            who=handler,
        ),
        transition("start", _l("开始处理"), {S.ACCEPTED, S.DISPATCHED}, S.IN_PROGRESS, who=handler),
        transition(
            "resolve",
            _l("办结"),
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS},
            S.RESOLVED,
            who=handler,
        ),
        transition(
            "reject",
            _l("不予受理"),
            {S.SUBMITTED, S.ACCEPTED, S.REOPENED},
            S.REJECTED,
            who=manager,
            reason_required=True,
        ),
        # Closing happens by the resident's rating, or by the sweep 7 days after
        # resolution without one.
        transition("close", _l("关闭"), {S.RESOLVED}, S.CLOSED, who=reporter | system),
        transition(
            "reopen",
            _l("重启（有异议）"),
            {S.RESOLVED, S.CLOSED},
            S.REOPENED,
            who=reporter,
            guard=_reopen_window,
            reason_required=True,
        ),
        transition("merge", _l("合并为重复"), OPEN, S.MERGED, who=manager),
    ],
)

# Governed actions that leave the status as it is: same refusal order as ``machine``,
# applied by the services with ``governed_write`` (``target`` is unused).
actions: Machine[ServiceRequest] = Machine(
    name="requests",
    model=ServiceRequest,
    visible=can_view,
    lock_queryset=lock_queryset,
    state_label=lambda r: str(r.get_status_display()),
    transitions=[
        transition("support", _l("我也遇到"), OPEN, "", who=community_resident, guard=_not_own),
        transition(
            "urge",
            _l("催办"),
            OPEN,
            "",
            who=reporter,
            guard=_urge_interval,
            forbidden=_l("只有反映人可以催办。"),
        ),
        transition(
            "complain",
            _l("投诉"),
            OPEN,
            "",
            who=reporter,
            guard=_overdue,
            forbidden=_l("只有反映人可以投诉。"),
        ),
        transition(
            "reroute",
            _l("改派"),
            {S.SUBMITTED, S.REOPENED},
            "",
            who=manager,
            reason_required=True,
            forbidden=_l("只有网格员、社区或街道工作人员可以改派。"),
        ),
        transition(
            "recategorise",
            _l("改类"),
            OPEN,
            "",
            who=manager,
            reason_required=True,
            forbidden=_l("只有网格员、社区或街道工作人员可以更改诉求类别。"),
        ),
        transition(
            "plan",
            _l("办理方案"),
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS},
            "",
            who=handler,
        ),
        transition("feedback", _l("进度反馈"), OPEN, "", who=handler),
        transition(
            "onsite",
            _l("部门报到"),
            OPEN,
            "",
            who=org_staff,
            guard=_whistle_pending,
            forbidden=_l("只有被吹哨的部门可以报到。"),
        ),
    ],
)


def flags(actor: Actor, req: ServiceRequest) -> Mapping[str, bool]:
    """Every ``can_<action>`` for pages and the API, from both tables; ``can_rate`` is
    the resident's ``close``."""
    out = {**machine.flags(actor, req), **actions.flags(actor, req)}
    out["can_rate"] = out["can_close"]
    return out


# ---------------------------------------------------------------- older helpers

# The actions a staff page offers as buttons, in this order.
STAFF_ACTIONS = ("accept", "start", "dispatch", "resolve", "reject", "merge")


@dataclass(frozen=True)
class Transition:
    """A row of :data:`TRANSITIONS` as earlier callers saw it, derived from ``machine``."""

    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    a: Transition(a, t.label, t.sources, t.target) for a, t in machine.table.items()
}


def transition_for(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise KeyError(action) from None


def allowed(action: str, status: str) -> bool:
    return machine.allowed(action, status)


def actions_from(status: str) -> list[str]:
    return machine.actions_from(status)


machine.add_perms("requests")
