"""The ballot state machine: the one table of allowed status changes.

::

    draft ──open──▶ open ──close──▶ closed
      │               │
      └────cancel─────┴──────────▶ cancelled

Services change a ballot's status only through :data:`ballot_machine` (``apply``);
the page's buttons and the ``rules`` permissions ``voting.open_ballot`` /
``voting.close_ballot`` / ``voting.cancel_ballot`` come from the same table, so a
button is shown exactly when the service accepts the action.

Audit events keep their historical names (``voting.ballot_opened`` …): the recount
replays them from the log, including ballots recorded before this table existed.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core.errors import Conflict, DomainError, ValidationFailed
from linli.core.transitions import Machine, transition
from linli.core.types import Actor
from linli.voting.models import Ballot, Vote
from linli.voting.permissions import can_view_ballot, manages_ballot

S = Ballot.Status

# The audit action each transition writes (names older than this table).
AUDIT_ACTIONS = {
    "open": "voting.ballot_opened",
    "close": "voting.ballot_closed",
    "cancel": "voting.ballot_cancelled",
}


def _open_guard(actor: Actor, ballot: Ballot) -> DomainError | None:
    if ballot.closes_at <= timezone.now():
        return ValidationFailed(_("截止时间已过，不能开始投票。"), field="closes_at")
    return None


def _close_guard(actor: Actor, ballot: Ballot) -> DomainError | None:
    """Before the closing time a ballot may close only once every voter has voted.
    Under :meth:`Machine.apply` this runs again on the locked row, after every vote in
    flight (each holds FOR KEY SHARE on the ballot) has committed."""
    now = timezone.now()
    if now >= ballot.closes_at:
        return None
    voted = Vote.objects.filter(community_id=ballot.community_id, ballot_id=ballot.pk).count()
    if voted >= ballot.eligible_count:
        return None
    return Conflict(
        _("截止时间（%(at)s）未到，还有 %(n)d 位选民未投票，不能提前结束。")
        % {
            "at": timezone.localtime(ballot.closes_at).strftime("%Y-%m-%d %H:%M"),
            "n": ballot.eligible_count - voted,
        },
        code="too_early",
    )


_NOT_MANAGER = gettext_lazy("您不能管理这次投票。")

ballot_machine: Machine[Ballot] = Machine(
    name="voting",
    model=Ballot,
    transitions=[
        transition(
            "open",
            gettext_lazy("开始投票"),
            [S.DRAFT],
            S.OPEN,
            who=manages_ballot,
            guard=_open_guard,
            forbidden=_NOT_MANAGER,
        ),
        transition(
            "close",
            gettext_lazy("结束投票"),
            [S.OPEN],
            S.CLOSED,
            who=manages_ballot,
            guard=_close_guard,
            forbidden=_NOT_MANAGER,
        ),
        transition(
            "cancel",
            gettext_lazy("取消投票"),
            [S.DRAFT, S.OPEN],
            S.CANCELLED,
            who=manages_ballot,
            reason_required=True,
            forbidden=_NOT_MANAGER,
        ),
    ],
    visible=can_view_ballot,
    lock_queryset=lambda: Ballot.objects.select_related("community"),
    state_label=lambda b: str(b.get_status_display()),
)

# The buttons of the ballot page, in this order.
STAFF_ACTIONS = ("open", "close", "cancel")

can_open_ballot = ballot_machine.predicate("open")
can_close_ballot = ballot_machine.predicate("close")
can_cancel_ballot = ballot_machine.predicate("cancel")

ballot_machine.add_perms("voting")

__all__ = [
    "AUDIT_ACTIONS",
    "STAFF_ACTIONS",
    "ballot_machine",
    "can_cancel_ballot",
    "can_close_ballot",
    "can_open_ballot",
]
