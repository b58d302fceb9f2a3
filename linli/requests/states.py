"""The request state machine: the one table of allowed transitions.

Every status change in :mod:`linli.requests.services` looks itself up here; anything
not listed is refused with :class:`~linli.core.errors.InvalidTransition`.

Actor kinds (checked by the services through :mod:`linli.requests.permissions`):
``handler`` – staff who may work on the request (covering grid/community/street staff
or staff of the assigned/owning organisation); ``manager`` – covering grid, community
or street staff only; ``reporter`` – the resident who reported it; ``system`` – the
deadline sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.requests.models import OPEN_STATUSES, Status


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


def _t(
    action: str, label: str | Promise, sources: set[str], target: str, *actors: str
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(actors))


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", _("受理"), {S.SUBMITTED, S.REOPENED}, S.ACCEPTED, "handler"),
        _t(
            "dispatch",
            _("派单"),
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REOPENED},
            S.DISPATCHED,
            "handler",
        ),
        _t("start", _("开始处理"), {S.ACCEPTED, S.DISPATCHED}, S.IN_PROGRESS, "handler"),
        _t(
            "resolve",
            _("办结"),
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS},
            S.RESOLVED,
            "handler",
        ),
        _t("reject", _("不予受理"), {S.SUBMITTED, S.ACCEPTED, S.REOPENED}, S.REJECTED, "manager"),
        # Closing happens by the resident's rating, or by the sweep 7 days after
        # resolution without one.
        _t("close", _("关闭"), {S.RESOLVED}, S.CLOSED, "reporter", "system"),
        _t("reopen", _("重启（有异议）"), {S.RESOLVED, S.CLOSED}, S.REOPENED, "reporter"),
        _t("merge", _("合并为重复"), set(OPEN_STATUSES), S.MERGED, "manager"),
    ]
}

# The actions a staff page offers as buttons, in this order.
STAFF_ACTIONS = ("accept", "start", "dispatch", "resolve", "reject", "merge")


def transition_for(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise KeyError(action) from None


def allowed(action: str, status: str) -> bool:
    t = TRANSITIONS.get(action)
    return t is not None and status in t.sources


def actions_from(status: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if status in t.sources]
