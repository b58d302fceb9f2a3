"""The volunteers' state machines, declared once with :mod:`linli.core.transitions`.

* ``ACTIVITY`` — an activity is 报名中 (open), 报名截止 (closed), 已结束 (finished) or
  已取消 (cancelled). Its organisers close / reopen / cancel / finish it. Signing up is
  a self-loop on ``open`` (``sign_up`` for oneself, ``sign_up_for`` by door staff for
  someone else): it changes no activity state, but it is the one place that says who
  may sign up when, so the "我要报名" button and the service agree.
* ``SIGNUP`` — a sign-up is created 已报名 (registered) or 候补 (waitlisted, when the
  places are taken); a waitlisted one is promoted when a place frees up (by the system,
  inside the cancellation that freed it); registered → 已签到 (checked in, by door staff
  or by the volunteer scanning the venue code) → 已完成 (checked out, award paid);
  registered or waitlisted → 已取消.

Services change these fields only through ``<machine>.apply``; pages take their
buttons from ``can`` / ``flags``; the permission-matrix tests iterate over the tables.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.accounts.scope import scope_of
from linli.core.errors import DomainError, InvalidTransition
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.types import Actor
from linli.volunteers.models import Activity, ActivityStatus, SignUp, SignUpStatus
from linli.volunteers.permissions import (
    CHECKIN_ROLES,
    can_check_in,
    can_manage_activity,
    community_ids,
)

A = ActivityStatus
S = SignUpStatus

# Audit action names kept from before the machines (the log already holds them).
ACTIVITY_EVENTS = {
    "close": "volunteers.activity_closed",
    "reopen": "volunteers.activity_open",
    "cancel": "volunteers.activity_cancelled",
    "finish": "volunteers.activity_finished",
}
SIGNUP_EVENTS = {
    "check_in": "volunteers.checked_in",
    "self_check_in": "volunteers.checked_in",
    "check_out": "volunteers.checked_out",
    "cancel": "volunteers.signup_cancelled",
    "promote": "volunteers.waitlist_promoted",
}
# The activity status a manager may set directly (activity_set_status) → its action.
STATUS_ACTIONS = {A.CLOSED: "close", A.OPEN: "reopen", A.CANCELLED: "cancel"}


def _community_ids(actor: Actor) -> set[int]:
    scope = scope_of(actor)
    ids = set(community_ids(actor, CHECKIN_ROLES))
    if scope.community_id:
        ids.add(scope.community_id)
    return ids


# --------------------------------------------------------------------------- predicates


@predicate
def sees_activity(actor: Actor, activity: Activity) -> bool:
    """Residents of the community and its door staff know the activity exists (the
    same rule as ``selectors.activities_for``)."""
    return activity.community_id in _community_ids(actor)


@predicate
def manages(actor: Actor, activity: Activity) -> bool:
    return bool(can_manage_activity(actor, activity))


@predicate
def resident_of_community(actor: Actor, activity: Activity) -> bool:
    """Has a resident record in the activity's community (signs up themself)."""
    scope = scope_of(actor)
    return scope.resident_id is not None and scope.community_id == activity.community_id


@predicate
def door_staff(actor: Actor, activity: Activity) -> bool:
    return bool(can_check_in(actor, activity))


@predicate
def sees_signup(actor: Actor, signup: SignUp) -> bool:
    return (
        scope_of(actor).resident_id == signup.resident_id
        or signup.activity.community_id in _community_ids(actor)
        or bool(can_check_in(actor, signup.activity))
    )


@predicate
def own_signup(actor: Actor, signup: SignUp) -> bool:
    rid = scope_of(actor).resident_id
    return rid is not None and rid == signup.resident_id


@predicate
def door_staff_of_signup(actor: Actor, signup: SignUp) -> bool:
    return bool(can_check_in(actor, signup.activity))


# --------------------------------------------------------------------------- guards


def not_ended(actor: Actor, activity: Activity) -> DomainError | None:
    if activity.ends_at <= timezone.now():
        return InvalidTransition(_("活动已结束。"))
    return None


def activity_running(actor: Actor, signup: SignUp) -> DomainError | None:
    if signup.activity.status in (A.FINISHED, A.CANCELLED):
        return InvalidTransition(_("活动已结束或已取消。"))
    return None


# --------------------------------------------------------------------------- machines

ACTIVITY: Machine[Activity] = Machine(
    name="volunteers.activity",
    model=Activity,
    transitions=[
        transition(
            "sign_up",
            _l("我要报名"),
            [A.OPEN],
            A.OPEN,
            who=resident_of_community,
            guard=not_ended,
            forbidden=_l("请用本社区居民账号报名。"),
        ),
        transition(
            "sign_up_for", _l("代为报名"), [A.OPEN], A.OPEN, who=door_staff, guard=not_ended
        ),
        transition("close", _l("截止报名"), [A.OPEN], A.CLOSED, who=manages),
        transition("reopen", _l("重新开放报名"), [A.CLOSED], A.OPEN, who=manages),
        transition("cancel", _l("取消活动"), [A.OPEN, A.CLOSED], A.CANCELLED, who=manages),
        transition("finish", _l("结束活动并发放奖励"), [A.OPEN, A.CLOSED], A.FINISHED, who=manages),
    ],
    visible=sees_activity,
    state_label=lambda a: str(a.get_status_display()),
)

# Actions that keep the activity's state: checked, never applied.
SIGN_UP_ACTIONS = ("sign_up", "sign_up_for")

SIGNUP: Machine[SignUp] = Machine(
    name="volunteers.signup",
    model=SignUp,
    transitions=[
        transition(
            "check_in",
            _l("签到"),
            [S.REGISTERED],
            S.CHECKED_IN,
            who=door_staff_of_signup,
            guard=activity_running,
        ),
        # The volunteer scans the venue code (the service checks the signed token).
        transition(
            "self_check_in",
            _l("扫码签到"),
            [S.REGISTERED],
            S.CHECKED_IN,
            who=own_signup,
            guard=activity_running,
            forbidden=_l("请用居民账号扫码签到。"),
        ),
        transition(
            "check_out", _l("签退并发放"), [S.CHECKED_IN], S.COMPLETED, who=door_staff_of_signup
        ),
        transition(
            "cancel",
            _l("取消报名"),
            [S.REGISTERED, S.WAITLISTED],
            S.CANCELLED,
            who=own_signup | door_staff_of_signup,
        ),
        # Only inside a cancellation that freed a place (the activity row is locked).
        transition("promote", _l("候补转正"), [S.WAITLISTED], S.REGISTERED, who=is_system),
    ],
    visible=sees_signup,
    lock_queryset=lambda: SignUp.objects.select_related("activity"),
    state_label=lambda s: str(s.get_status_display()),
)

__all__ = [
    "ACTIVITY",
    "ACTIVITY_EVENTS",
    "SIGNUP",
    "SIGNUP_EVENTS",
    "SIGN_UP_ACTIONS",
    "STATUS_ACTIONS",
]
