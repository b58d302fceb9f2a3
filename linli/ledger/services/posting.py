"""Accounts, validation, idempotency and the single posting path (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core import audit
from linli.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, insert_or_skip, lock_rows
from linli.ledger.models import (
    SYSTEM_KINDS,
    Account,
    AccountKind,
    Currency,
    Entry,
    Honour,
    HonourKind,
    LedgerSettings,
    LedgerTransaction,
    Side,
)
from linli.ledger.permissions import (
    is_ledger_staff,
)

MAX_KEY = 120
MAX_AMOUNT = 10_000_000  # far above any real movement; stops overflow-sized input
MAX_SERVICE_MINUTES = 12 * 60  # one logged service session
ELDERLY_AGE = 60
MAX_VALID_MONTHS = 120
VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: read aloud at a counter


# --------------------------------------------------------------------------- accounts


def settings_for(community_id: int) -> LedgerSettings:
    obj, _c = LedgerSettings.objects.get_or_create(community_id=community_id)
    return obj


def system_account(community_id: int, currency: str, kind: str) -> Account:
    names: dict[str, Any] = {
        AccountKind.PUBLIC_FUND: _("社区公益基金"),
        AccountKind.ISSUER: _("积分发行与兑换"),
        AccountKind.ADJUSTMENT: _("过期与调整"),
        AccountKind.EXPENSE: _("项目支出"),
    }
    if currency == Currency.FEN:
        names[AccountKind.PUBLIC_FUND] = _("社区基金")
        names[AccountKind.ISSUER] = _("外部资金来源")
    acc, _c = Account.objects.get_or_create(
        community_id=community_id,
        currency=currency,
        kind=kind,
        defaults={"allow_negative": kind in SYSTEM_KINDS, "name": str(names.get(kind, kind))},
    )
    return acc


def resident_account(resident: Resident, currency: str) -> Account:
    acc, _c = Account.objects.get_or_create(
        currency=currency,
        resident=resident,
        kind=AccountKind.RESIDENT,
        defaults={"community_id": resident.community_id, "name": resident.name},
    )
    return acc


def partner_account(
    community_id: int, organisation_id: int, currency: str = Currency.POINTS
) -> Account:
    acc, _c = Account.objects.get_or_create(
        community_id=community_id,
        currency=currency,
        kind=AccountKind.PARTNER,
        organisation_id=organisation_id,
    )
    return acc


# --------------------------------------------------------------------------- validation


def clean_amount(raw: Any, *, field: str = "amount", label: str | None = None) -> int:
    """A positive whole number, or a clear refusal. Booleans, floats with a fraction,
    strings that are not digits and negative numbers are all refused."""
    label = label or _("数量")
    if isinstance(raw, bool):
        raise ValidationFailed(_("%(label)s必须是正整数。") % {"label": label}, field=field)
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValidationFailed(_("%(label)s不能有小数。") % {"label": label}, field=field)
        raw = int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if "." in text:
            raise ValidationFailed(_("%(label)s不能有小数。") % {"label": label}, field=field)
        try:
            raw = int(text)
        except ValueError:
            raise ValidationFailed(
                _("%(label)s必须是正整数。") % {"label": label}, field=field
            ) from None
    if not isinstance(raw, int):
        raise ValidationFailed(_("%(label)s必须是正整数。") % {"label": label}, field=field)
    if raw <= 0:
        raise ValidationFailed(_("%(label)s必须大于零。") % {"label": label}, field=field)
    if raw > MAX_AMOUNT:
        raise ValidationFailed(_("%(label)s过大。") % {"label": label}, field=field)
    return raw


def clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise ValidationFailed(_("缺少有效的请求编号（幂等键）。"), field="idempotency_key")
    return key


def request_hash(**parts: Any) -> str:
    body = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _existing(key: str, rhash: str, community_id: int | None = None) -> LedgerTransaction | None:
    qs = LedgerTransaction.objects.filter(idempotency_key=key)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    tx = qs.first()
    if tx is not None and tx.request_hash != rhash:
        raise Conflict(
            _("该请求编号已用于另一笔不同的操作，请刷新页面后重试。"), code="idempotency_mismatch"
        )
    return tx


def idempotent[T](
    key: str, rhash: str, do: Callable[[], T], on_replay: Callable[[LedgerTransaction], T]
) -> T:
    """Run ``do`` once per key. ``do`` must open its own ``transaction.atomic`` and post
    exactly one transaction with this key."""
    tx = _existing(key, rhash)
    if tx is not None:
        return on_replay(tx)
    try:
        return do()
    except IntegrityError:
        # Lost the race to an identical request: its transaction is committed now.
        tx = _existing(key, rhash)
        if tx is None:
            raise
        return on_replay(tx)


# --------------------------------------------------------------------------- posting


def insert_transaction(
    *,
    actor: Actor,
    community_id: int,
    currency: str,
    kind: str,
    idempotency_key: str,
    rhash: str,
    memo: str = "",
    source: str = "",
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction | None:
    """Claim the idempotency key: ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id`` — one statement, no savepoint. Returns the new row, or None when the
    key is taken (by a committed request, or one that committed while this INSERT
    waited on the unique index: PostgreSQL makes the second writer wait for the first).

    Hot paths call this first, before taking any account lock, so two identical
    requests meet here and never hold each other's accounts."""
    tx = LedgerTransaction(
        community_id=community_id,
        currency=currency,
        kind=kind,
        memo=memo[:200],
        idempotency_key=idempotency_key,
        request_hash=rhash,
        actor=actor if getattr(actor, "pk", None) else None,  # type: ignore[misc]
        reverses=reverses,
        source=source[:80],
        created_at=timezone.now(),
    )
    return tx if insert_or_skip(tx) else None


def replayed(key: str, rhash: str, community_id: int | None = None) -> LedgerTransaction:
    """The transaction that already holds ``key`` (after :func:`insert_transaction`
    found it taken); a different request under the same key is refused."""
    tx = _existing(key, rhash, community_id)
    if tx is None:
        # The key is held, but by another community's transaction: not this request's.
        raise Conflict(
            _("该请求编号已用于另一笔不同的操作，请刷新页面后重试。"),
            code="idempotency_mismatch",
        )
    return tx


def lock_accounts(*ids: int) -> dict[int, Account]:
    """Lock accounts by id with one statement, in primary-key order. Every transaction
    that locks more than one account takes all of them in one such statement, so two
    transactions can never each hold a row the other waits for."""
    return lock_rows(Account.objects.all(), ids)


@dataclass
class Books:
    """The locked accounts of one posting, found by owner."""

    rows: dict[int, Account]
    residents: dict[int, Account]
    system: dict[str, Account]
    hours_cap: int
    philanthropist_threshold: int
    is_philanthropist: bool


_DEFAULT_CAP = int(LedgerSettings._meta.get_field("hours_cap_minutes").get_default())
_DEFAULT_THRESHOLD = int(LedgerSettings._meta.get_field("philanthropist_threshold").get_default())


def lock_books(
    *,
    community_id: int,
    currency: str,
    residents: Sequence[Resident] = (),
    kinds: Sequence[str] = (),
) -> Books:
    """Find and lock the resident and system accounts of one posting with one
    ``SELECT … FOR UPDATE OF ledger_account`` in primary-key order (the same global order
    as :func:`lock_accounts`), reading the community's hours cap and philanthropy
    threshold alongside (settings are read, not locked). Accounts that do not exist yet
    are created first — once per resident and currency, outside the steady state."""
    rids = sorted({r.pk for r in residents})
    settings_row = LedgerSettings.objects.filter(community_id=OuterRef("community_id"))
    honour = Honour.objects.filter(
        community_id=OuterRef("community_id"),
        resident_id=OuterRef("resident_id"),
        kind=HonourKind.PHILANTHROPIST,
    )
    qs = (
        Account.objects.select_for_update(of=("self",))
        .filter(community_id=community_id, currency=currency)
        .filter(Q(kind=AccountKind.RESIDENT, resident_id__in=rids) | Q(kind__in=list(kinds)))
        .annotate(
            cap=Subquery(settings_row.values("hours_cap_minutes")[:1]),
            threshold=Subquery(settings_row.values("philanthropist_threshold")[:1]),
            honoured=Exists(honour),
        )
        .order_by("pk")
    )
    for attempt in range(2):
        rows: dict[int, Account] = {a.pk: a for a in qs.all()}
        by_res: dict[int, Account] = {
            int(a.resident_id): a
            for a in rows.values()
            if a.kind == AccountKind.RESIDENT and a.resident_id is not None
        }
        system: dict[str, Account] = {
            a.kind: a for a in rows.values() if a.kind != AccountKind.RESIDENT
        }
        missing_res = [r for r in residents if r.pk not in by_res]
        missing_kinds = [k for k in kinds if k not in system]
        if not missing_res and not missing_kinds:
            break
        if attempt:  # pragma: no cover - created just above
            raise NotFound(_("账户不存在。"))
        for r in missing_res:
            if r.community_id != community_id:
                raise ValidationFailed(_("不能跨社区记账。"))
            resident_account(r, currency)
        for k in missing_kinds:
            system_account(community_id, currency, k)
    first = next(iter(rows.values()), None)
    cap = getattr(first, "cap", None)
    threshold = getattr(first, "threshold", None)
    return Books(
        rows=rows,
        residents=by_res,
        system=system,
        hours_cap=_DEFAULT_CAP if cap is None else int(cap),
        philanthropist_threshold=_DEFAULT_THRESHOLD if threshold is None else int(threshold),
        is_philanthropist=any(getattr(a, "honoured", False) for a in by_res.values()),
    )


@dataclass(frozen=True)
class Leg:
    account_id: int
    delta: int  # + credit, - debit


def _merge(legs: Sequence[Leg]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for leg in legs:
        if not isinstance(leg.delta, int) or isinstance(leg.delta, bool) or leg.delta == 0:
            raise ValidationFailed(_("分录金额必须是非零整数。"))
        merged[leg.account_id] = merged.get(leg.account_id, 0) + leg.delta
    merged = {k: v for k, v in merged.items() if v != 0}
    if len(merged) < 2 or sum(merged.values()) != 0:
        raise ValidationFailed(_("借贷不平衡，交易被拒绝。"))
    return merged


def transaction_post(
    *,
    actor: Actor,
    community_id: int,
    currency: str,
    kind: str,
    legs: list[Leg],
    idempotency_key: str,
    rhash: str,
    memo: str = "",
    source: str = "",
    reverses: LedgerTransaction | None = None,
    lifetime: dict[int, int] | None = None,
    tx: LedgerTransaction | None = None,
    accounts: Mapping[int, Account] | None = None,
    w: Write | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction. Precondition: the caller checked permission and
    runs inside ``transaction.atomic``.

    ``tx``: the row already inserted by :func:`insert_transaction` (hot paths claim the
    key first); otherwise it is inserted here and a taken key raises ``IntegrityError``
    (:func:`idempotent` turns that into a replay). ``accounts``: the rows the caller
    already holds under ``FOR UPDATE`` (:func:`lock_books`); otherwise every account
    of the legs is locked here with one statement in primary-key order.
    ``lifetime`` maps account id -> change of ``lifetime_earned`` (earnings only).
    ``w``: the caller's :func:`governed_write`; the posting is its event
    (``ledger.<kind>``), or a further event when the block already has its own action.

    Balances are computed from the locked rows and written with one UPDATE; the
    database still refuses an overdraft (check constraint) and, on PostgreSQL, an
    unbalanced transaction at COMMIT (deferred constraint trigger, migration 0002).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_transaction must run inside transaction.atomic")
    merged = _merge(legs)
    if accounts is None:
        accounts = lock_rows(Account.objects.filter(community_id=community_id), merged)
    rows = {pk: accounts[pk] for pk in merged if pk in accounts}
    if len(rows) != len(merged):
        raise NotFound(_("账户不存在。"))
    new_balance: dict[int, int] = {}
    for pk in sorted(rows):
        acc = rows[pk]
        if acc.currency != currency:
            raise ValidationFailed(_("不同币种（积分、时间银行小时、人民币）不能混用。"))
        if acc.community_id != community_id:
            raise ValidationFailed(_("不能跨社区记账。"))
        after = acc.balance + merged[pk]
        if after < 0 and not acc.allow_negative:
            if currency == Currency.MINUTES:
                raise ValidationFailed(
                    _("时间银行余额不足：当前 %(h)s 小时。") % {"h": fmt_hours(acc.balance)},
                    code="insufficient",
                )
            if currency == Currency.FEN:
                yuan, cents = divmod(acc.balance, 100)
                raise ValidationFailed(
                    _("%(a)s余额不足：当前 %(y)s.%(c)02d 元。")
                    % {"a": acc.name or _("账户"), "y": yuan, "c": cents},
                    code="insufficient",
                )
            raise ValidationFailed(
                _("积分余额不足：当前 %(b)s 分。") % {"b": acc.balance}, code="insufficient"
            )
        new_balance[pk] = after
    if tx is None:
        tx = insert_transaction(
            actor=actor,
            community_id=community_id,
            currency=currency,
            kind=kind,
            idempotency_key=idempotency_key,
            rhash=rhash,
            memo=memo,
            source=source,
            reverses=reverses,
        )
        if tx is None:
            raise IntegrityError("ledger idempotency key already used")
    lifetime = {pk: d for pk, d in (lifetime or {}).items() if d and pk in rows}
    changes: dict[str, Any] = {
        "balance": Case(
            *[When(pk=pk, then=Value(b)) for pk, b in new_balance.items()],
            output_field=BigIntegerField(),
        )
    }
    if lifetime:
        changes["lifetime_earned"] = Case(
            *[When(pk=pk, then=F("lifetime_earned") + Value(d)) for pk, d in lifetime.items()],
            default=F("lifetime_earned"),
            output_field=BigIntegerField(),
        )
    Account.objects.filter(community_id=community_id, pk__in=sorted(rows)).update(**changes)
    for pk, acc in rows.items():
        acc.balance = new_balance[pk]
        acc.lifetime_earned += lifetime.get(pk, 0)
    Entry.objects.bulk_create(
        [
            Entry(
                community_id=community_id,
                transaction=tx,
                account_id=pk,
                side=Side.CREDIT if merged[pk] > 0 else Side.DEBIT,
                amount=abs(merged[pk]),
                balance_after=new_balance[pk],
                created_at=tx.created_at,
            )
            for pk in sorted(merged)
        ]
    )
    payload = {
        "currency": currency,
        "key": idempotency_key,
        "legs": [[pk, merged[pk]] for pk in sorted(merged)],
        "memo": tx.memo,
        "reverses": reverses.pk if reverses else None,
    }
    action = f"ledger.{kind}"
    if w is None:
        audit.record(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            target=tx,
            community_id=community_id,
            payload=payload,
        )
    elif w.action == action and w.target is None:
        w.target = tx
        w.payload.update(payload)
    else:
        w.also(action=action, target=tx, payload=payload)
    return tx


post_transaction = transaction_post  # old name, kept for callers


def fmt_hours(minutes: int) -> str:
    h, m = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else ""
    return f"{sign}{h}" if m == 0 else f"{sign}{h}:{m:02d}"


def _owner_or_staff(actor: Any, resident: Resident) -> None:
    if scope_of(actor).resident_id != resident.pk and not is_ledger_staff(actor, resident):
        raise PermissionDenied()
