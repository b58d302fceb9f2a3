"""Time-bank hours: spending and family transfers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.core.errors import (
    ValidationFailed,
)
from linli.core.textlimit import within
from linli.core.writes import governed_write
from linli.ledger.models import (
    AccountKind,
    Currency,
    LedgerTransaction,
    TxKind,
)
from linli.ledger.services.posting import (
    Leg,
    _owner_or_staff,
    clean_amount,
    clean_key,
    idempotent,
    insert_transaction,
    lock_books,
    post_transaction,
    replayed,
    request_hash,
    resident_account,
    system_account,
    transaction_post,
)


def hours_spend(
    *, actor: Any, resident: Resident, minutes: Any, idempotency_key: str, description: str = ""
) -> LedgerTransaction:
    """Hours paid for a service the resident receives (or staff record it for them)."""
    _owner_or_staff(actor, resident)
    minutes = clean_amount(minutes, label=_("时长（分钟）"))
    description = within(description, field="description", limit=100, label=_("需要的服务"))
    key = clean_key(idempotency_key)
    rhash = request_hash(op="hours_spend", resident=resident.pk, minutes=minutes)

    def do() -> LedgerTransaction:
        with transaction.atomic():
            acc = resident_account(resident, Currency.MINUTES)
            issuer = system_account(resident.community_id, Currency.MINUTES, AccountKind.ISSUER)
            return post_transaction(
                actor=actor,
                community_id=resident.community_id,
                currency=Currency.MINUTES,
                kind=TxKind.SPEND,
                legs=[Leg(acc.pk, -minutes), Leg(issuer.pk, minutes)],
                idempotency_key=key,
                rhash=rhash,
                memo=description or str(_("使用时间银行服务")),
            )

    return idempotent(key, rhash, do, lambda tx: tx)


def hours_transfer(
    *, actor: Any, sender: Resident, receiver: Resident, minutes: Any, idempotency_key: str
) -> LedgerTransaction:
    """Hours given to a family member: same household only."""
    _owner_or_staff(actor, sender)
    minutes = clean_amount(minutes, label=_("时长（分钟）"))
    key = clean_key(idempotency_key)
    if receiver.pk == sender.pk:
        raise ValidationFailed(_("不能转给自己。"), field="receiver")
    if receiver.household_id != sender.household_id:
        raise ValidationFailed(
            _("时间银行小时只能转给同户家庭成员。"), field="receiver", code="not_family"
        )
    rhash = request_hash(
        op="hours_transfer", sender=sender.pk, receiver=receiver.pk, minutes=minutes
    )

    cid = sender.community_id
    with governed_write(actor=actor, action="ledger.transfer", community_id=cid) as w:
        # The key first: an identical retry stops here, holding no account.
        tx = insert_transaction(
            actor=actor,
            community_id=cid,
            currency=Currency.MINUTES,
            kind=TxKind.TRANSFER,
            idempotency_key=key,
            rhash=rhash,
            memo=_("转赠给家人 %(n)s") % {"n": receiver.name},
        )
        if tx is None:
            w.record = False
            return replayed(key, rhash, cid)
        books = lock_books(
            community_id=cid,
            currency=Currency.MINUTES,
            residents=[sender, receiver],
            kinds=[AccountKind.PUBLIC_FUND],
        )
        src, dst = books.residents[sender.pk], books.residents[receiver.pk]
        fund = books.system[AccountKind.PUBLIC_FUND]
        to_receiver = max(0, min(minutes, books.hours_cap - dst.balance))
        legs = [Leg(src.pk, -minutes)]
        if to_receiver:
            legs.append(Leg(dst.pk, to_receiver))
        if to_receiver < minutes:
            legs.append(Leg(fund.pk, minutes - to_receiver))
        return transaction_post(
            actor=actor,
            community_id=cid,
            currency=Currency.MINUTES,
            kind=TxKind.TRANSFER,
            legs=legs,
            idempotency_key=key,
            rhash=rhash,
            tx=tx,
            accounts=books.rows,
            w=w,
        )
