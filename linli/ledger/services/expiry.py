"""Points expiry (FIFO, per-community validity; hours never expire)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit, Resident
from linli.core.errors import (
    PermissionDenied,
)
from linli.core.notify import Message, send_on_commit
from linli.ledger.models import (
    Account,
    AccountKind,
    Currency,
    Entry,
    LedgerSettings,
    Side,
    TxKind,
)
from linli.ledger.permissions import (
    can_reverse,
)
from linli.ledger.services.posting import (
    Leg,
    lock_accounts,
    post_transaction,
    request_hash,
    system_account,
)

# --------------------------------------------------------------------------- expiry


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment ``months`` calendar months earlier (day clamped to the
    month's length: 31 March minus one month is 28/29 February)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class ExpiryResult:
    communities: int = 0
    accounts: int = 0
    points: int = 0


def _expire_account(account_id: int, cutoff: datetime, actor: Any) -> int:
    """Expire what is due on one resident points account; returns the points expired.

    First in, first out: spending uses the oldest points first, so what is still
    unspent of the points credited before the cutoff is
    ``credits before cutoff − every debit so far`` (earlier expiries are debits too,
    which makes a second run on the same data expire nothing).
    """
    with transaction.atomic():
        acc = lock_accounts(account_id)[account_id]
        if acc.balance <= 0:
            return 0
        entries = Entry.objects.filter(community_id=acc.community_id, account_id=account_id)
        old = entries.filter(side=Side.CREDIT, created_at__lt=cutoff).aggregate(s=Sum("amount"))
        out = entries.filter(side=Side.DEBIT).aggregate(s=Sum("amount"))
        due = min(acc.balance, max(0, int(old["s"] or 0) - int(out["s"] or 0)))
        if due <= 0:
            return 0
        adj = system_account(acc.community_id, Currency.POINTS, AccountKind.ADJUSTMENT)
        day = cutoff.date().isoformat()
        post_transaction(
            actor=actor,
            community_id=acc.community_id,
            currency=Currency.POINTS,
            kind=TxKind.EXPIRE,
            legs=[Leg(acc.pk, -due), Leg(adj.pk, due)],
            # One expiry per account per cutoff day: a retried job cannot post twice.
            idempotency_key=f"expire:{acc.pk}:{day}",
            rhash=request_hash(op="expire", account=acc.pk, cutoff=day),
            memo=_("积分过期（%(d)s 前获得）") % {"d": day},
        )
        if acc.resident_id is not None:
            user_id = Resident.objects.filter(pk=acc.resident_id).values_list("user_id", flat=True)
            uid = user_id.first()
            if uid:
                send_on_commit(
                    Message(
                        "inapp",
                        str(uid),
                        _("积分过期提醒"),
                        _("您有 %(n)s 积分因超过有效期已过期。") % {"n": due},
                    )
                )
        return due


def points_expire(
    *, actor: Any = None, community: OrgUnit | None = None, as_of: datetime | None = None
) -> ExpiryResult:
    """Lapse points older than each community's ``points_valid_months``.

    ``actor=None`` is the scheduler (the ``expire_points`` command / task); a person
    running it by hand must be the community secretary. Each account is expired in its
    own short transaction under its row lock, so the job never holds many locks and a
    concurrent spend either runs before (and is counted as a debit) or after.
    """
    if actor is not None and (community is None or not can_reverse(actor, community)):
        raise PermissionDenied()
    now = as_of or timezone.now()
    configured = LedgerSettings.objects.filter(points_valid_months__gt=0)
    if community is not None:
        configured = configured.filter(community=community)
    result = ExpiryResult()
    for st in configured.order_by("community_id"):
        result.communities += 1
        cutoff = months_before(now, st.points_valid_months)
        ids = (
            Account.objects.filter(
                community_id=st.community_id,
                currency=Currency.POINTS,
                kind=AccountKind.RESIDENT,
                balance__gt=0,
                entries__side=Side.CREDIT,
                entries__created_at__lt=cutoff,
            )
            .values_list("pk", flat=True)
            .distinct()
            .order_by("pk")
        )
        for pk in list(ids):
            n = _expire_account(pk, cutoff, actor)
            if n:
                result.accounts += 1
                result.points += n
    return result
