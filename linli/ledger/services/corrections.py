"""Corrections: reversals and adjustments; the original stays untouched."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from linli.core import audit
from linli.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.textlimit import within
from linli.ledger.models import (
    Account,
    AccountKind,
    CatalogueItem,
    LedgerTransaction,
    Side,
    TxKind,
    Voucher,
    VoucherStatus,
)
from linli.ledger.permissions import (
    can_reverse,
)
from linli.ledger.services.posting import (
    Leg,
    clean_key,
    idempotent,
    post_transaction,
    request_hash,
    system_account,
)

# --------------------------------------------------------------------------- corrections


def transaction_reverse(
    *, actor: Any, tx: LedgerTransaction, reason: str, idempotency_key: str
) -> LedgerTransaction:
    """A reversing transaction with every leg mirrored; the original stays untouched."""
    if not can_reverse(actor, tx):
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写冲正原因。"), field="reason")
    if tx.kind == TxKind.REVERSAL:
        raise ValidationFailed(_("冲正交易不能再次冲正。"))
    key = clean_key(idempotency_key)
    rhash = request_hash(op="reverse", tx=tx.pk)

    def do() -> LedgerTransaction:
        with transaction.atomic():
            # Lock the original first: two staff reversing it with different request keys
            # are serialised here, and the second sees the first's reversal below.
            LedgerTransaction.objects.select_for_update().filter(pk=tx.pk).first()
            if LedgerTransaction.objects.filter(reverses=tx).exists():
                raise Conflict(_("该交易已冲正。"), code="already_reversed")
            if tx.kind == TxKind.REDEEM:
                _void_redemption(actor, tx)
            entries = list(
                tx.entries.filter(community_id=tx.community_id).select_related("account")
            )
            legs = [Leg(e.account_id, -e.signed) for e in entries]
            lifetime: dict[int, int] = {}
            if tx.kind == TxKind.EARN:
                for e in entries:
                    if e.side == Side.CREDIT and e.account.kind == AccountKind.RESIDENT:
                        lifetime[e.account_id] = -e.amount
            return post_transaction(
                actor=actor,
                community_id=tx.community_id,
                currency=tx.currency,
                kind=TxKind.REVERSAL,
                legs=legs,
                idempotency_key=key,
                rhash=rhash,
                memo=_("冲正：%(r)s") % {"r": reason[:150]},
                reverses=tx,
                lifetime=lifetime,
            )

    return idempotent(key, rhash, do, lambda t: t)


reverse = transaction_reverse  # old name, kept for callers


def _void_redemption(actor: Any, tx: LedgerTransaction) -> None:
    """Refunding a redemption takes back its voucher and returns the item to stock; a
    voucher already handed over at the counter cannot be undone by a ledger entry."""
    voucher = Voucher.objects.select_for_update().filter(transaction=tx).first()
    if voucher is None:
        return
    if voucher.status == VoucherStatus.USED:
        raise Conflict(
            _("兑换码 %(c)s 已核销，不能冲正这笔兑换。") % {"c": voucher.code}, code="voucher_used"
        )
    if voucher.status == VoucherStatus.ISSUED:
        Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.VOID)
        CatalogueItem.objects.filter(pk=voucher.item_id).update(stock=F("stock") + 1)
        audit.record(
            actor=actor,
            action="ledger.voucher_voided",
            target=voucher,
            community_id=voucher.community_id,
            payload={"tx": tx.pk},
        )


def account_adjust(
    *,
    actor: Any,
    account: Account,
    delta: int,
    reason: str,
    idempotency_key: str,
    kind: str = TxKind.ADJUST,
) -> LedgerTransaction:
    """Move points between an account and the community's expiry/adjustment account
    (expiry, corrections ordered by the secretary)."""
    if not can_reverse(actor, account):
        raise PermissionDenied()
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise ValidationFailed(_("调整数量必须是非零整数。"), field="delta")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写调整原因。"), field="reason")
    key = clean_key(idempotency_key)
    rhash = request_hash(op="adjust", account=account.pk, delta=delta)

    def do() -> LedgerTransaction:
        with transaction.atomic():
            adj = system_account(account.community_id, account.currency, AccountKind.ADJUSTMENT)
            return post_transaction(
                actor=actor,
                community_id=account.community_id,
                currency=account.currency,
                kind=kind,
                legs=[Leg(account.pk, delta), Leg(adj.pk, -delta)],
                idempotency_key=key,
                rhash=rhash,
                memo=within(reason, field="reason", limit=200, label=_("原因")),
            )

    return idempotent(key, rhash, do, lambda t: t)


adjust = account_adjust  # old name, kept for callers
