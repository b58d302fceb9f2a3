"""The resource pool's state machines, declared once with :mod:`linli.core.transitions`.

* ``RESOURCE`` — a resource is 可预约 (active), 暂停预约 (suspended) or 已下架
  (retired). Booking is a self-loop on ``active``: ``book`` (for oneself) and
  ``book_for`` (desk staff for a resident, 代办) change no state but are the one place
  that says who may book, so the 预约 button and the service agree.
* ``BOOKING`` — a booking is created 待审批 (requested, when the rules want approval)
  or 已确认 (confirmed). requested → confirmed (approve) / 未通过 (reject, with a reason);
  requested/confirmed → 已取消 (cancel); confirmed → 使用中 (check_out: the item is
  picked up, the room opened) → 已归还 (return, with the condition); confirmed → 爽约
  (no_show, from 30 minutes after the start); confirmed → 已送出 (hand_over, for items
  given away).
* ``DEPOSIT`` — the deposit of a booking is 已冻结 (held) until it is 已退还 (released)
  or 已扣除 (forfeited, with a reason: damage, loss, no-show). Cancelling, rejecting and
  a good return release it inside their own write; a manager settles the rest.

Services change these fields only through ``<machine>.apply``; pages take their buttons
from ``can`` / ``flags``; the permission-matrix tests iterate over the tables.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import formats
from django.utils import timezone as djtz
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.scope import scope_of
from linli.core.errors import DomainError, InvalidTransition, PermissionDenied
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.types import Actor
from linli.resources import clock
from linli.resources.models import (
    Booking,
    BookingStatus,
    DepositState,
    Resource,
    ResourceStatus,
    ShareMode,
)
from linli.resources.permissions import (
    VIEW_ROLES,
    can_manage_resource,
    community_ids,
    desk_in,
    sees_resource,
    street_of,
)

R = ResourceStatus
B = BookingStatus
D = DepositState

# Pick-up opens this long before the start; a no-show is recorded this long after it.
PICKUP_EARLY = timedelta(minutes=30)
NO_SHOW_GRACE = timedelta(minutes=30)
# Repeat no-shows: this many within the window suspend booking rights for the period,
# counted from the latest no-show.
NO_SHOW_LIMIT = 3
NO_SHOW_WINDOW = timedelta(days=60)
NO_SHOW_BAN = timedelta(days=30)


# --------------------------------------------------------------------------- predicates


@predicate
def sees(actor: Actor, resource: Resource) -> bool:
    return sees_resource(actor, resource)


@predicate
def manages(actor: Actor, resource: Resource) -> bool:
    return bool(can_manage_resource(actor, resource))


@predicate
def desk_staff(actor: Actor, resource: Resource) -> bool:
    return bool(desk_in(actor, resource))


def eligible_community(home_id: int | None, resource: Resource) -> bool:
    """A resident of community ``home_id`` is within the resource's sharing scope."""
    if home_id is None:
        return False
    if home_id == resource.community_id:
        return True
    return resource.share_scope == "street" and street_of(home_id) == street_of(
        resource.community_id
    )


@predicate
def may_book(actor: Actor, resource: Resource) -> bool:
    """Residents within the sharing scope (unless the resource is for staff only), and
    the community's desk staff booking for community work."""
    if desk_in(actor, resource):
        return True
    if resource.bookable_by == "staff":
        return False
    return eligible_community(scope_of(actor).community_id, resource)


def banned_until(resident_id: int | None) -> object | None:
    """The end of a no-show suspension running now, or None. Counted across every
    community's bookings: a resident's record follows them through the street."""
    if resident_id is None:
        return None
    now = clock.now()
    recent = list(
        Booking.objects.filter(
            resident_id=resident_id,
            status=B.NO_SHOW,
            starts_at__gte=now - NO_SHOW_WINDOW,
        )
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)[:NO_SHOW_LIMIT]
    )
    if len(recent) < NO_SHOW_LIMIT:
        return None
    until = recent[0] + NO_SHOW_BAN
    return until if until > now else None


def ban_refusal(resident_id: int | None) -> DomainError | None:
    until = banned_until(resident_id)
    if until is None:
        return None
    day = formats.date_format(djtz.localtime(until), "Y-m-d")  # type: ignore[arg-type]
    return PermissionDenied(
        _("您近期爽约 %(n)d 次，预约权限暂停至 %(d)s。") % {"n": NO_SHOW_LIMIT, "d": day},
        code="booking_suspended",
    )


def not_banned(actor: Actor, resource: Resource) -> DomainError | None:
    if desk_in(actor, resource) and resource.bookable_by == "staff":
        return None
    return ban_refusal(scope_of(actor).resident_id)


@predicate
def sees_booking(actor: Actor, booking: Booking) -> bool:
    scope = scope_of(actor)
    return (
        (scope.resident_id is not None and scope.resident_id == booking.resident_id)
        or (booking.user_id is not None and booking.user_id == getattr(actor, "pk", None))
        or booking.community_id in community_ids(actor, VIEW_ROLES)
        or bool(can_manage_resource(actor, booking.resource))
    )


@predicate
def own_booking(actor: Actor, booking: Booking) -> bool:
    scope = scope_of(actor)
    if booking.resident_id is not None:
        return scope.resident_id == booking.resident_id
    return booking.user_id is not None and booking.user_id == getattr(actor, "pk", None)


@predicate
def manages_booking(actor: Actor, booking: Booking) -> bool:
    return bool(can_manage_resource(actor, booking.resource))


@predicate
def desk_of_booking(actor: Actor, booking: Booking) -> bool:
    """Desk staff of the resource's community record a pick-up or return for a
    resident who came to the counter (代办)."""
    return bool(desk_in(actor, booking.resource))


# --------------------------------------------------------------------------- guards


def _hm(value: object) -> str:
    return formats.date_format(djtz.localtime(value), "m-d H:i")  # type: ignore[arg-type]


def cancel_before_start(actor: Actor, booking: Booking) -> DomainError | None:
    """The booker cancels until the start; managers and desk staff at any time (a
    burst pipe in the activity room does not wait)."""
    if manages_booking(actor, booking) or desk_of_booking(actor, booking):
        return None
    if booking.starts_at <= clock.now():
        return InvalidTransition(_("预约已开始，不能再取消；如有问题请联系管理人员。"))
    return None


def pickup_window(actor: Actor, booking: Booking) -> DomainError | None:
    if booking.resource.share_mode != ShareMode.LEND:
        return InvalidTransition(_("赠送的物品请由主人确认“已送出”。"))
    now = clock.now()
    if now < booking.starts_at - PICKUP_EARLY:
        return InvalidTransition(
            _("还未到取用时间，最早 %(t)s 可取用。") % {"t": _hm(booking.starts_at - PICKUP_EARLY)}
        )
    if now >= booking.ends_at:
        return InvalidTransition(_("预约时段已结束，不能再取用。"))
    return None


def give_only(actor: Actor, booking: Booking) -> DomainError | None:
    if booking.resource.share_mode != ShareMode.GIVE:
        return InvalidTransition(_("借用的物品请登记取用和归还。"))
    return None


def after_grace(actor: Actor, booking: Booking) -> DomainError | None:
    if clock.now() < booking.starts_at + NO_SHOW_GRACE:
        return InvalidTransition(
            _("开始 30 分钟后仍未取用才能记为爽约（%(t)s 之后）。")
            % {"t": _hm(booking.starts_at + NO_SHOW_GRACE)}
        )
    return None


def booking_ended(actor: Actor, booking: Booking) -> DomainError | None:
    if booking.status in (B.REQUESTED, B.CONFIRMED, B.CHECKED_OUT):
        return InvalidTransition(_("预约尚未结束，押金在归还、取消或爽约后处理。"))
    return None


# --------------------------------------------------------------------------- machines

RESOURCE: Machine[Resource] = Machine(
    name="resources.resource",
    model=Resource,
    transitions=[
        transition(
            "book",
            gettext_lazy("预约"),
            [R.ACTIVE],
            R.ACTIVE,
            who=may_book,
            guard=not_banned,
            forbidden=gettext_lazy("您没有预约此资源的权限：请查看“谁可预约”和“开放范围”。"),
        ),
        transition("book_for", gettext_lazy("代为预约"), [R.ACTIVE], R.ACTIVE, who=desk_staff),
        transition("suspend", gettext_lazy("暂停预约"), [R.ACTIVE], R.SUSPENDED, who=manages),
        transition("resume", gettext_lazy("恢复预约"), [R.SUSPENDED], R.ACTIVE, who=manages),
        transition("retire", gettext_lazy("下架"), [R.ACTIVE, R.SUSPENDED], R.RETIRED, who=manages),
    ],
    visible=sees,
    state_label=lambda r: str(r.get_status_display()),
)

# Actions that keep the resource's state: checked, never applied.
BOOK_ACTIONS = ("book", "book_for")

BOOKING: Machine[Booking] = Machine(
    name="resources.booking",
    model=Booking,
    transitions=[
        transition(
            "approve", gettext_lazy("通过"), [B.REQUESTED], B.CONFIRMED, who=manages_booking
        ),
        transition(
            "reject",
            gettext_lazy("不通过"),
            [B.REQUESTED],
            B.REJECTED,
            who=manages_booking,
            reason_required=True,
        ),
        transition(
            "cancel",
            gettext_lazy("取消预约"),
            [B.REQUESTED, B.CONFIRMED],
            B.CANCELLED,
            who=own_booking | manages_booking | desk_of_booking,
            guard=cancel_before_start,
        ),
        transition(
            "check_out",
            gettext_lazy("登记取用"),
            [B.CONFIRMED],
            B.CHECKED_OUT,
            who=own_booking | manages_booking | desk_of_booking,
            guard=pickup_window,
        ),
        transition(
            "return",
            gettext_lazy("登记归还"),
            [B.CHECKED_OUT],
            B.RETURNED,
            who=own_booking | manages_booking | desk_of_booking,
        ),
        transition(
            "hand_over",
            gettext_lazy("确认已送出"),
            [B.CONFIRMED],
            B.HANDED_OVER,
            who=manages_booking,
            guard=give_only,
        ),
        transition(
            "no_show",
            gettext_lazy("记为爽约"),
            [B.CONFIRMED],
            B.NO_SHOW,
            who=manages_booking | desk_of_booking | is_system,
            guard=after_grace,
        ),
    ],
    visible=sees_booking,
    lock_queryset=lambda: Booking.objects.select_related("resource"),
    state_label=lambda b: str(b.get_status_display()),
)

DEPOSIT: Machine[Booking] = Machine(
    name="resources.deposit",
    model=Booking,
    state_field="deposit_state",
    transitions=[
        transition(
            "release",
            gettext_lazy("退还押金"),
            [D.HELD],
            D.RELEASED,
            who=manages_booking | is_system,
            guard=booking_ended,
        ),
        transition(
            "forfeit",
            gettext_lazy("扣除押金"),
            [D.HELD],
            D.FORFEITED,
            who=manages_booking,
            guard=booking_ended,
            reason_required=True,
        ),
    ],
    visible=sees_booking,
    lock_queryset=lambda: Booking.objects.select_related("resource"),
    state_label=lambda b: str(b.get_deposit_state_display()),
)

__all__ = [
    "BOOKING",
    "BOOK_ACTIONS",
    "DEPOSIT",
    "NO_SHOW_BAN",
    "NO_SHOW_LIMIT",
    "RESOURCE",
    "ban_refusal",
    "banned_until",
    "eligible_community",
]
