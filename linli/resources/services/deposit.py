"""Deposits in points, posted on the ledger (``linli.ledger.services``); the ledger's
models are not changed.

* hold — the resident's points account → the community's 过期与调整 account (a
  ``spend`` transaction), when the booking is made. A resident without enough points
  cannot book a resource that asks for a deposit.
* release — the hold's mirror, posted as its ``reversal`` (``reverses`` is one-to-one
  on the ledger, so a hold is released at most once, whatever retries happen).
* forfeit — the held points move from the adjustment account to the community's public
  fund 社区公益基金 (an ``adjust`` transaction), for a no-show, damage or loss.

The deposit is kept in the books of the booker's community (their account lives there),
which for a street-shared resource may differ from the resource's community. Each
posting's idempotency key is derived from the booking (``resources.deposit:<id>:…``).
Every function runs inside the caller's :func:`~linli.core.writes.governed_write` and
adds the ledger's own audit event to it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.core.errors import ValidationFailed
from linli.core.types import Actor
from linli.core.writes import Write
from linli.ledger import services as ledger
from linli.ledger.models import AccountKind, Currency, TxKind
from linli.resources.models import Booking, DepositState


def _key(booking: Booking, op: str) -> str:
    return f"resources.deposit:{booking.pk}:{op}"


def hold(*, w: Write, actor: Actor, booking: Booking, resident: Resident) -> None:
    points = booking.deposit_points
    books = ledger.lock_books(
        community_id=resident.community_id,
        currency=Currency.POINTS,
        residents=[resident],
        kinds=[AccountKind.ADJUSTMENT],
    )
    account = books.residents[resident.pk]
    if account.balance < points:
        raise ValidationFailed(
            _("此资源需押金 %(d)s 积分，您的积分余额为 %(b)s 分，暂不能预约。")
            % {"d": points, "b": account.balance},
            code="insufficient",
            field="deposit",
        )
    adjustment = books.system[AccountKind.ADJUSTMENT]
    tx = ledger.transaction_post(
        actor=actor,
        community_id=resident.community_id,
        currency=Currency.POINTS,
        kind=TxKind.SPEND,
        legs=[ledger.Leg(account.pk, -points), ledger.Leg(adjustment.pk, points)],
        idempotency_key=_key(booking, "hold"),
        rhash=ledger.request_hash(booking=booking.pk, points=points, op="hold"),
        memo=_("预约押金冻结：%(r)s") % {"r": booking.resource.name},
        source=f"resources.booking:{booking.pk}",
        accounts=books.rows,
        w=w,
    )
    booking.deposit_tx = tx
    booking.deposit_state = DepositState.HELD


def release(*, w: Write, actor: Actor, booking: Booking) -> None:
    """Give the held points back. Precondition: ``booking`` is locked and held."""
    hold_tx = booking.deposit_tx
    resident = booking.resident
    assert hold_tx is not None and resident is not None  # held ⇒ both set
    points = booking.deposit_points
    books = ledger.lock_books(
        community_id=booking.booker_community_id,
        currency=Currency.POINTS,
        residents=[resident],
        kinds=[AccountKind.ADJUSTMENT],
    )
    ledger.transaction_post(
        actor=actor,
        community_id=booking.booker_community_id,
        currency=Currency.POINTS,
        kind=TxKind.REVERSAL,
        legs=[
            ledger.Leg(books.residents[resident.pk].pk, points),
            ledger.Leg(books.system[AccountKind.ADJUSTMENT].pk, -points),
        ],
        idempotency_key=_key(booking, "release"),
        rhash=ledger.request_hash(booking=booking.pk, points=points, op="release"),
        memo=_("预约押金退还：%(r)s") % {"r": booking.resource.name},
        source=f"resources.booking:{booking.pk}",
        reverses=hold_tx,
        accounts=books.rows,
        w=w,
    )
    booking.deposit_state = DepositState.RELEASED


def forfeit(*, w: Write, actor: Actor, booking: Booking, reason: str) -> None:
    """Move the held points to the public fund. Precondition: locked and held."""
    points = booking.deposit_points
    books = ledger.lock_books(
        community_id=booking.booker_community_id,
        currency=Currency.POINTS,
        kinds=[AccountKind.ADJUSTMENT, AccountKind.PUBLIC_FUND],
    )
    ledger.transaction_post(
        actor=actor,
        community_id=booking.booker_community_id,
        currency=Currency.POINTS,
        kind=TxKind.ADJUST,
        legs=[
            ledger.Leg(books.system[AccountKind.ADJUSTMENT].pk, -points),
            ledger.Leg(books.system[AccountKind.PUBLIC_FUND].pk, points),
        ],
        idempotency_key=_key(booking, "forfeit"),
        rhash=ledger.request_hash(booking=booking.pk, points=points, op="forfeit"),
        memo=(_("预约押金扣除转入公益基金：%(r)s") % {"r": reason})[:200],
        source=f"resources.booking:{booking.pk}",
        accounts=books.rows,
        w=w,
    )
    booking.deposit_state = DepositState.FORFEITED
