"""Giving (积分传承), credit levels and honours."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit, Resident
from linli.core import audit
from linli.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message, send_on_commit
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write
from linli.ledger.models import (
    Account,
    AccountKind,
    Currency,
    Entry,
    Honour,
    HonourKind,
    LedgerTransaction,
    Side,
    TxKind,
)
from linli.ledger.permissions import (
    can_award_honour,
)
from linli.ledger.services.posting import (
    Leg,
    _owner_or_staff,
    clean_amount,
    clean_key,
    insert_transaction,
    lock_books,
    replayed,
    request_hash,
    settings_for,
    transaction_post,
)

# --------------------------------------------------------------------------- giving


def points_donate(
    *, actor: Actor, resident: Resident, points: Any, idempotency_key: str
) -> LedgerTransaction:
    """积分传承: points to the community public fund; 社区慈善家 at the threshold."""
    _owner_or_staff(actor, resident)
    points = clean_amount(points, label=_("捐赠积分"))
    key = clean_key(idempotency_key)
    rhash = request_hash(op="donate", resident=resident.pk, points=points)
    cid = resident.community_id
    with governed_write(actor=actor, action="ledger.donate", community_id=cid) as w:
        tx = insert_transaction(
            actor=actor,
            community_id=cid,
            currency=Currency.POINTS,
            kind=TxKind.DONATE,
            idempotency_key=key,
            rhash=rhash,
            memo=str(_("捐赠给社区公益基金")),
        )
        if tx is None:
            w.record = False
            return replayed(key, rhash, cid)
        books = lock_books(
            community_id=cid,
            currency=Currency.POINTS,
            residents=[resident],
            kinds=[AccountKind.PUBLIC_FUND],
        )
        acc = books.residents[resident.pk]
        fund = books.system[AccountKind.PUBLIC_FUND]
        transaction_post(
            actor=actor,
            community_id=cid,
            currency=Currency.POINTS,
            kind=TxKind.DONATE,
            legs=[Leg(acc.pk, -points), Leg(fund.pk, points)],
            idempotency_key=key,
            rhash=rhash,
            tx=tx,
            accounts=books.rows,
            w=w,
        )
        if not books.is_philanthropist:
            total = donated_total(acc)
            if total >= books.philanthropist_threshold:
                honour = Honour.objects.create(
                    community_id=cid,
                    resident=resident,
                    kind=HonourKind.PHILANTHROPIST,
                    year=timezone.localdate().year,
                    citation=_("累计捐赠 %(n)s 积分") % {"n": total},
                )
                w.also(
                    action="ledger.honour_awarded",
                    target=honour,
                    payload={"kind": honour.kind, "auto": True},
                )
        return tx


donate = points_donate  # old name, kept for callers


def donated_total(account: Account) -> int:
    """Points this account has given (donations net of their reversals), one query."""
    sums = Entry.objects.filter(community_id=account.community_id, account=account).aggregate(
        out=Sum("amount", filter=Q(side=Side.DEBIT, transaction__kind=TxKind.DONATE)),
        back=Sum("amount", filter=Q(side=Side.CREDIT, transaction__reverses__kind=TxKind.DONATE)),
    )
    return int(sums["out"] or 0) - int(sums["back"] or 0)


def credit_level(account: Account) -> str:
    s = settings_for(account.community_id)
    earned = account.lifetime_earned
    if earned >= s.level_aaa:
        return "AAA"
    if earned >= s.level_aa:
        return "AA"
    if earned >= s.level_a:
        return "A"
    return ""


# --------------------------------------------------------------------------- honours


def honour_award(
    *, actor: Any, community: OrgUnit, resident: Resident, kind: str, year: int, citation: str = ""
) -> Honour:
    if not can_award_honour(actor, community):
        raise PermissionDenied()
    if kind not in (HonourKind.BEST_VOLUNTEER, HonourKind.GOVERNANCE_PIONEER):
        raise ValidationFailed(_("该荣誉不能手动评选。"), field="kind")
    if resident.community_id != community.pk:
        raise ValidationFailed(_("只能评选本社区居民。"), field="resident")
    this_year = timezone.localdate().year
    if not (2000 <= year <= this_year):
        raise ValidationFailed(_("年度不正确。"), field="year")
    with transaction.atomic():
        if Honour.objects.filter(resident=resident, kind=kind, year=year).exists():
            raise Conflict(_("该居民已获得本年度此项荣誉。"))
        honour = Honour.objects.create(
            community=community,
            resident=resident,
            kind=kind,
            year=year,
            citation=within(citation, field="citation", limit=300, label=_("事迹")),
            awarded_by=actor,
        )
        audit.record(
            actor=actor,
            action="ledger.honour_awarded",
            target=honour,
            community_id=community.pk,
            payload={"kind": kind, "year": year, "resident": resident.pk},
        )
        if resident.user_id:
            send_on_commit(
                Message(
                    "inapp",
                    str(resident.user_id),
                    _("荣誉通知"),
                    _("恭喜您获得 %(y)s 年度“%(k)s”。")
                    % {"y": year, "k": honour.get_kind_display()},
                )
            )
    return honour
