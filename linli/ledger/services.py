"""Every write to points and hours goes through here.

The single posting path is :func:`post_transaction`: lock the accounts in primary-key
order (a fixed order, so two transfers in opposite directions cannot deadlock), check
every balance that must not go negative, write the immutable entries with their
running balances, update the cached balances, and append the audit event — all in one
database transaction. The audit chain head is locked last and briefly.

Idempotency: each public write takes an ``idempotency_key``. A retry with the same key
and the same request returns the original result; the same key with a different
request is refused. Two identical requests racing each other meet at the unique index
on ``LedgerTransaction.idempotency_key``: the loser's savepoint rolls back and it
returns the winner's result.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident, SpecialGroup
from linli.core import audit
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message, send_on_commit
from linli.ledger.models import (
    SYSTEM_KINDS,
    Account,
    AccountKind,
    Approver,
    CatalogueItem,
    ClaimStatus,
    Currency,
    EarningClaim,
    EarningRule,
    EarnKind,
    Entry,
    Honour,
    HonourKind,
    ItemKind,
    LedgerSettings,
    LedgerTransaction,
    Side,
    TxKind,
    Voucher,
    VoucherStatus,
)
from linli.ledger.permissions import (
    can_approve_claim,
    can_award,
    can_award_honour,
    can_confirm_claim,
    can_manage_ledger,
    can_reverse,
    can_use_voucher,
    is_ledger_staff,
    level_at_least,
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
    }
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


def _existing(key: str, rhash: str) -> LedgerTransaction | None:
    tx = LedgerTransaction.objects.filter(idempotency_key=key).first()
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


def lock_accounts(*ids: int) -> dict[int, Account]:
    """Lock accounts in primary-key order. Every transaction that locks more than one
    account takes all of them here (or in ``post_transaction``) in this one order, so
    two transactions can never each hold a row the other waits for."""
    rows = Account.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    return {a.pk: a for a in rows}


def _earn_accounts(resident: Resident, currency: str) -> list[int]:
    """The guarded accounts an earning touches (the issuer is locked only at posting)."""
    acc = resident_account(resident, currency)
    ids = [acc.pk]
    if currency == Currency.MINUTES:
        ids.append(system_account(resident.community_id, currency, AccountKind.PUBLIC_FUND).pk)
    return ids


@dataclass(frozen=True)
class Leg:
    account_id: int
    delta: int  # + credit, - debit


def post_transaction(
    *,
    actor: Any,
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
) -> LedgerTransaction:
    """Post one balanced transaction. Precondition: the caller checked permission and
    runs inside ``transaction.atomic``; accounts are locked here.

    ``lifetime`` maps account id -> change of ``lifetime_earned`` (earnings only).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_transaction must run inside transaction.atomic")
    merged: dict[int, int] = {}
    for leg in legs:
        if not isinstance(leg.delta, int) or leg.delta == 0:
            raise ValidationFailed(_("分录金额必须是非零整数。"))
        merged[leg.account_id] = merged.get(leg.account_id, 0) + leg.delta
    merged = {k: v for k, v in merged.items() if v != 0}
    if len(merged) < 2 or sum(merged.values()) != 0:
        raise ValidationFailed(_("借贷不平衡，交易被拒绝。"))
    # Lock order, the same in every transaction: first the accounts that must not go
    # negative, by primary key (so transfers A→B and B→A never deadlock), then the
    # system accounts (issuer, adjustment), whose rows are only touched by the final
    # increment. The system rows are the hottest in a community, so they are held only
    # from that UPDATE to COMMIT, not for the whole transaction.
    meta = {
        a["pk"]: a
        for a in Account.objects.filter(pk__in=list(merged)).values(
            "pk", "currency", "community_id", "allow_negative"
        )
    }
    if len(meta) != len(merged):
        raise NotFound(_("账户不存在。"))
    for m in meta.values():
        if m["currency"] != currency:
            raise ValidationFailed(_("积分与时间银行小时不能混用。"))
        if m["community_id"] != community_id:
            raise ValidationFailed(_("不能跨社区记账。"))
    guarded = sorted(pk for pk, m in meta.items() if not m["allow_negative"])
    system = sorted(pk for pk, m in meta.items() if m["allow_negative"])
    new_balance: dict[int, int] = {}
    for acc in lock_accounts(*guarded).values():
        after = acc.balance + merged[acc.pk]
        if after < 0:
            if currency == Currency.MINUTES:
                raise ValidationFailed(
                    _("时间银行余额不足：当前 %(h)s 小时。") % {"h": fmt_hours(acc.balance)},
                    code="insufficient",
                )
            raise ValidationFailed(
                _("积分余额不足：当前 %(b)s 分。") % {"b": acc.balance}, code="insufficient"
            )
        new_balance[acc.pk] = after
    lifetime = lifetime or {}
    for pk in guarded:
        if lifetime.get(pk):
            Account.objects.filter(pk=pk).update(
                balance=new_balance[pk], lifetime_earned=F("lifetime_earned") + lifetime[pk]
            )
        else:
            Account.objects.filter(pk=pk).update(balance=new_balance[pk])
    tx = LedgerTransaction.objects.create(
        community_id=community_id,
        currency=currency,
        kind=kind,
        memo=memo[:200],
        idempotency_key=idempotency_key,
        request_hash=rhash,
        actor=actor if getattr(actor, "pk", None) else None,
        reverses=reverses,
        source=source[:80],
    )
    with connection.cursor() as cur:
        for pk in system:
            # Atomic increment; RETURNING gives the exact running balance under the row
            # lock this UPDATE takes (SQLite ≥ 3.35 and PostgreSQL both support it).
            cur.execute(
                "UPDATE ledger_account SET balance = balance + %s WHERE id = %s RETURNING balance",
                [merged[pk], pk],
            )
            new_balance[pk] = int(cur.fetchone()[0])
    Entry.objects.bulk_create(
        [
            Entry(
                transaction=tx,
                account_id=pk,
                side=Side.CREDIT if merged[pk] > 0 else Side.DEBIT,
                amount=abs(merged[pk]),
                balance_after=new_balance[pk],
            )
            for pk in sorted(merged)
        ]
    )
    audit.record(
        actor=actor if getattr(actor, "pk", None) else None,
        action=f"ledger.{kind}",
        target=tx,
        community_id=community_id,
        payload={
            "currency": currency,
            "key": idempotency_key,
            "legs": [[pk, merged[pk]] for pk in sorted(merged)],
            "memo": memo[:200],
            "reverses": reverses.pk if reverses else None,
        },
    )
    return tx


def fmt_hours(minutes: int) -> str:
    h, m = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else ""
    return f"{sign}{h}" if m == 0 else f"{sign}{h}:{m:02d}"


# --------------------------------------------------------------------------- rules


def rule_save(
    *,
    actor: Any,
    community: OrgUnit,
    kind: str,
    amount: Any,
    daily_cap: int | None = None,
    monthly_cap: int | None = None,
    approver_roles: list[str] | None = None,
    recipient_must_confirm: bool = False,
    is_active: bool = True,
) -> EarningRule:
    if not can_manage_ledger(actor, community):
        raise PermissionDenied()
    if kind not in EarnKind.values:
        raise ValidationFailed(_("未知的积分类别。"), field="kind")
    roles = sorted(set(approver_roles or []))
    if any(r not in Approver.values for r in roles):
        raise ValidationFailed(_("未知的审核人类型。"), field="approver_roles")
    currency = Currency.MINUTES if kind == EarnKind.TIMEBANK_SERVICE else Currency.POINTS
    if currency == Currency.POINTS:
        amount = clean_amount(amount, field="amount", label=_("每次积分"))
    for cap, name in ((daily_cap, "daily_cap"), (monthly_cap, "monthly_cap")):
        if cap is not None:
            clean_amount(cap, field=name, label=_("上限"))
    if daily_cap and monthly_cap and daily_cap > monthly_cap:
        raise ValidationFailed(_("每日上限不能大于每月上限。"), field="daily_cap")
    with transaction.atomic():
        rule, created = EarningRule.objects.update_or_create(
            community=community,
            kind=kind,
            defaults={
                "currency": currency,
                "amount": amount if currency == Currency.POINTS else 0,
                "daily_cap": daily_cap,
                "monthly_cap": monthly_cap,
                "approver_roles": roles,
                "recipient_must_confirm": recipient_must_confirm,
                "is_active": is_active,
            },
        )
        audit.record(
            actor=actor,
            action="ledger.rule_saved",
            target=rule,
            community_id=community.pk,
            payload={
                "kind": kind,
                "amount": rule.amount,
                "daily_cap": daily_cap,
                "monthly_cap": monthly_cap,
                "approvers": roles,
                "confirm": recipient_must_confirm,
                "active": is_active,
                "created": created,
            },
        )
    return rule


def settings_save(*, actor: Any, community: OrgUnit, **values: int) -> LedgerSettings:
    if not can_manage_ledger(actor, community):
        raise PermissionDenied()
    allowed = {"hours_cap_minutes", "philanthropist_threshold", "level_a", "level_aa", "level_aaa"}
    clean = {k: clean_amount(v, field=k) for k, v in values.items() if k in allowed}
    if values.get("points_valid_months") not in (None, ""):
        raw = values["points_valid_months"]
        months = 0 if str(raw).strip() == "0" else clean_amount(raw, label=_("积分有效期"))
        if months > MAX_VALID_MONTHS:
            raise ValidationFailed(
                _("积分有效期不能超过 %(n)s 个月。") % {"n": MAX_VALID_MONTHS},
                field="points_valid_months",
            )
        clean["points_valid_months"] = months
    with transaction.atomic():
        obj = settings_for(community.pk)
        for k, v in clean.items():
            setattr(obj, k, v)
        if not obj.level_a <= obj.level_aa <= obj.level_aaa:
            raise ValidationFailed(_("信用等级门槛必须 A ≤ AA ≤ AAA。"))
        obj.save()
        audit.record(
            actor=actor,
            action="ledger.settings_saved",
            target=obj,
            community_id=community.pk,
            payload=clean,
        )
    return obj


# --------------------------------------------------------------------------- earning


CLAIM_TRANSITIONS: dict[str, set[str]] = {
    ClaimStatus.AWAITING_CONFIRMATION: {
        ClaimStatus.AWAITING_APPROVAL,
        ClaimStatus.APPROVED,
        ClaimStatus.REJECTED,
    },
    ClaimStatus.AWAITING_APPROVAL: {ClaimStatus.APPROVED, ClaimStatus.REJECTED},
    ClaimStatus.APPROVED: set(),
    ClaimStatus.REJECTED: set(),
}


def _move(claim: EarningClaim, to: str) -> None:
    if to not in CLAIM_TRANSITIONS[claim.status]:
        raise InvalidTransition(
            _("该申请当前状态为“%(s)s”，不能再处理。") % {"s": claim.get_status_display()}
        )
    claim.status = to


def _rule(community_id: int, kind: str) -> EarningRule:
    if kind not in EarnKind.values:
        raise ValidationFailed(_("未知的积分类别。"), field="kind")
    rule = EarningRule.objects.filter(community_id=community_id, kind=kind, is_active=True).first()
    if rule is None:
        raise ValidationFailed(
            _("本社区未启用“%(k)s”积分规则。") % {"k": EarnKind(kind).label}, field="kind"
        )
    return rule


def cap_room(rule: EarningRule, resident_id: int, on: date) -> int | None:
    """How much more this resident may earn under ``rule`` on ``on`` (None = no cap)."""
    base = EarningClaim.objects.filter(
        rule=rule, resident_id=resident_id, status=ClaimStatus.APPROVED
    )
    rooms: list[int] = []
    if rule.daily_cap:
        used = base.filter(service_date=on).aggregate(s=Sum("amount"))["s"] or 0
        rooms.append(rule.daily_cap - used)
    if rule.monthly_cap:
        used = (
            base.filter(service_date__year=on.year, service_date__month=on.month).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        rooms.append(rule.monthly_cap - used)
    return max(0, min(rooms)) if rooms else None


def _earn_legs(
    rule: EarningRule, resident: Resident, amount: int
) -> tuple[list[Leg], dict[int, int]]:
    """Issuer → resident; time-bank hours beyond the personal cap go to the public fund."""
    acc = resident_account(resident, rule.currency)
    issuer = system_account(resident.community_id, rule.currency, AccountKind.ISSUER)
    to_resident = amount
    legs: list[Leg] = []
    if rule.currency == Currency.MINUTES:
        cap = settings_for(resident.community_id).hours_cap_minutes
        current = lock_accounts(*_earn_accounts(resident, rule.currency))[acc.pk].balance
        to_resident = max(0, min(amount, cap - current))
        if to_resident < amount:
            fund = system_account(resident.community_id, rule.currency, AccountKind.PUBLIC_FUND)
            legs.append(Leg(fund.pk, amount - to_resident))
    if to_resident:
        legs.append(Leg(acc.pk, to_resident))
    legs.append(Leg(issuer.pk, -amount))
    return legs, {acc.pk: to_resident} if to_resident else {}


def _approve(claim: EarningClaim, actor: Any, *, memo: str = "") -> EarningClaim:
    """Post the claim. Precondition: inside atomic, permission checked."""
    # Serialise this resident's earnings: lock the accounts (in the global order) before
    # reading the caps.
    lock_accounts(*_earn_accounts(claim.resident, claim.rule.currency))
    room = cap_room(claim.rule, claim.resident_id, claim.service_date)
    if room is not None and claim.amount > room:
        raise ValidationFailed(
            _("超出该规则的每日/每月上限：本次 %(a)s，剩余额度 %(r)s。")
            % {"a": claim.amount, "r": room},
            code="cap_exceeded",
        )
    _move(claim, ClaimStatus.APPROVED)
    legs, lifetime = _earn_legs(claim.rule, claim.resident, claim.amount)
    key = f"claim:{claim.pk}"
    tx = post_transaction(
        actor=actor,
        community_id=claim.community_id,
        currency=claim.rule.currency,
        kind=TxKind.EARN,
        legs=legs,
        idempotency_key=key,
        rhash=request_hash(op="claim", claim=claim.pk),
        memo=memo or f"{claim.rule.get_kind_display()} {claim.description}".strip(),
        source=f"ledger.earningclaim:{claim.pk}",
        lifetime=lifetime,
    )
    claim.transaction = tx
    claim.decided_by = actor if getattr(actor, "pk", None) else None
    claim.save(update_fields=["status", "transaction", "decided_by", "updated_at"])
    if claim.resident.user_id:
        unit = _("小时") if claim.rule.currency == Currency.MINUTES else _("分")
        shown = (
            fmt_hours(claim.amount)
            if claim.rule.currency == Currency.MINUTES
            else str(claim.amount)
        )
        send_on_commit(
            Message(
                "inapp",
                str(claim.resident.user_id),
                _("到账提醒"),
                _("您获得 %(n)s %(u)s（%(k)s）。")
                % {"n": shown, "u": unit, "k": claim.rule.get_kind_display()},
            )
        )
    return claim


def _is_service_recipient(r: Resident, year: int) -> bool:
    return r.age(year) >= ELDERLY_AGE or SpecialGroup.DISABLED in (r.tags or [])


def claim_submit(
    *,
    actor: Any,
    resident: Resident,
    kind: str,
    service_date: date,
    amount: Any = None,
    recipient: Resident | None = None,
    description: str = "",
) -> EarningClaim:
    """A resident (or staff for them, 代办) asks to earn under a rule.

    Time bank: ``amount`` is the minutes served, recipient required, elderly (60+) or
    disabled, in the same community and not the volunteer.
    """
    scope = scope_of(actor)
    if scope.resident_id != resident.pk and not is_ledger_staff(actor, resident):
        raise PermissionDenied()
    rule = _rule(resident.community_id, kind)
    today = timezone.localdate()
    if service_date > today:
        raise ValidationFailed(_("服务日期不能晚于今天。"), field="service_date")
    if rule.currency == Currency.MINUTES:
        minutes = clean_amount(amount, field="amount", label=_("服务时长（分钟）"))
        if minutes > MAX_SERVICE_MINUTES:
            raise ValidationFailed(_("单次服务时长不能超过 12 小时。"), field="amount")
        amount = minutes
        if recipient is None:
            raise ValidationFailed(_("请选择服务对象。"), field="recipient")
    else:
        amount = rule.amount
    if recipient is not None:
        if recipient.pk == resident.pk:
            raise ValidationFailed(_("服务对象不能是自己。"), field="recipient")
        if recipient.community_id != resident.community_id:
            raise ValidationFailed(_("服务对象必须是本社区居民。"), field="recipient")
        if rule.currency == Currency.MINUTES and not _is_service_recipient(recipient, today.year):
            raise ValidationFailed(
                _("时间银行只记录为老年人或残疾人提供的服务。"), field="recipient"
            )
    if rule.recipient_must_confirm and recipient is None:
        raise ValidationFailed(_("该类别需要服务对象确认，请选择服务对象。"), field="recipient")
    status = (
        ClaimStatus.AWAITING_CONFIRMATION
        if rule.recipient_must_confirm
        else ClaimStatus.AWAITING_APPROVAL
    )
    with transaction.atomic():
        claim = EarningClaim.objects.create(
            community_id=resident.community_id,
            rule=rule,
            resident=resident,
            recipient=recipient,
            amount=amount,
            description=description[:200],
            service_date=service_date,
            status=status,
            submitted_by=actor,
        )
        audit.record(
            actor=actor,
            action="ledger.claim_submitted",
            target=claim,
            community_id=claim.community_id,
            payload={
                "kind": kind,
                "amount": amount,
                "recipient": recipient.pk if recipient else None,
            },
        )
        if status == ClaimStatus.AWAITING_APPROVAL and not rule.approver_roles:
            _approve(claim, actor)
    return claim


def claim_confirm(*, actor: Any, claim: EarningClaim) -> EarningClaim:
    if scope_of(actor).resident_id == claim.resident_id:
        raise PermissionDenied(_("不能确认自己提供的服务。"), code="self_confirm")
    if not can_confirm_claim(actor, claim):
        raise PermissionDenied()
    with transaction.atomic():
        claim = (
            EarningClaim.objects.select_for_update()
            .select_related("rule", "resident")
            .get(pk=claim.pk)
        )
        if claim.status != ClaimStatus.AWAITING_CONFIRMATION:
            raise InvalidTransition(_("该服务已确认或已处理。"))
        claim.confirmed_by = actor
        audit.record(
            actor=actor,
            action="ledger.claim_confirmed",
            target=claim,
            community_id=claim.community_id,
        )
        if claim.rule.approver_roles:
            _move(claim, ClaimStatus.AWAITING_APPROVAL)
            claim.save(update_fields=["status", "confirmed_by", "updated_at"])
        else:
            claim.save(update_fields=["confirmed_by", "updated_at"])
            _approve(claim, actor)
    return claim


def claim_approve(*, actor: Any, claim: EarningClaim) -> EarningClaim:
    if not can_approve_claim(actor, claim):
        raise PermissionDenied()
    with transaction.atomic():
        claim = (
            EarningClaim.objects.select_for_update()
            .select_related("rule", "resident")
            .get(pk=claim.pk)
        )
        if claim.status != ClaimStatus.AWAITING_APPROVAL:
            raise InvalidTransition(
                _("该申请当前状态为“%(s)s”，不能审核。") % {"s": claim.get_status_display()}
            )
        _approve(claim, actor)
    return claim


def claim_reject(*, actor: Any, claim: EarningClaim, reason: str) -> EarningClaim:
    if not (can_approve_claim(actor, claim) or can_confirm_claim(actor, claim)):
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写驳回理由。"), field="reason")
    with transaction.atomic():
        claim = EarningClaim.objects.select_for_update().get(pk=claim.pk)
        _move(claim, ClaimStatus.REJECTED)
        claim.reason = reason[:200]
        claim.decided_by = actor
        claim.save(update_fields=["status", "reason", "decided_by", "updated_at"])
        audit.record(
            actor=actor,
            action="ledger.claim_rejected",
            target=claim,
            community_id=claim.community_id,
            payload={"reason": claim.reason},
        )
    return claim


def award(
    *,
    actor: Any,
    resident: Resident,
    kind: str,
    idempotency_key: str,
    amount: Any = None,
    description: str = "",
    service_date: date | None = None,
    clamp_to_cap: bool = False,
    authorised: bool = False,
) -> EarningClaim | None:
    """Staff (or a trusted caller such as activity check-out, ``authorised=True``)
    grants earnings directly: an approved claim and its posting in one transaction.

    With ``clamp_to_cap`` the amount is cut to what the caps still allow (returns None
    when nothing is left); otherwise going over a cap is refused.
    """
    if not authorised and not can_award(actor, resident):
        raise PermissionDenied()
    key = clean_key(idempotency_key)
    rule = _rule(resident.community_id, kind)
    amount = rule.amount if rule.currency == Currency.POINTS and amount is None else amount
    amount = clean_amount(amount)
    on = service_date or timezone.localdate()
    rhash = request_hash(op="award", resident=resident.pk, kind=kind, amount=amount, on=on)

    def do() -> EarningClaim | None:
        with transaction.atomic():
            lock_accounts(*_earn_accounts(resident, rule.currency))
            qty = amount
            if clamp_to_cap:
                room = cap_room(rule, resident.pk, on)
                qty = qty if room is None else min(qty, room)
                if qty <= 0:
                    return None
            claim = EarningClaim.objects.create(
                community_id=resident.community_id,
                rule=rule,
                resident=resident,
                amount=qty,
                description=description[:200],
                service_date=on,
                status=ClaimStatus.AWAITING_APPROVAL,
                submitted_by=actor,
            )
            legs, lifetime = _earn_legs(rule, resident, qty)
            room = cap_room(rule, resident.pk, on)
            if room is not None and qty > room:
                raise ValidationFailed(
                    _("超出该规则的每日/每月上限：本次 %(a)s，剩余额度 %(r)s。")
                    % {"a": qty, "r": room},
                    code="cap_exceeded",
                )
            tx = post_transaction(
                actor=actor,
                community_id=resident.community_id,
                currency=rule.currency,
                kind=TxKind.EARN,
                legs=legs,
                idempotency_key=key,
                rhash=rhash,
                memo=f"{rule.get_kind_display()} {description}".strip(),
                source=f"ledger.earningclaim:{claim.pk}",
                lifetime=lifetime,
            )
            claim.status = ClaimStatus.APPROVED
            claim.transaction = tx
            claim.decided_by = actor if getattr(actor, "pk", None) else None
            claim.save(update_fields=["status", "transaction", "decided_by", "updated_at"])
            return claim

    def replay(tx: LedgerTransaction) -> EarningClaim | None:
        return EarningClaim.objects.filter(transaction=tx).first()

    return idempotent(key, rhash, do, replay)


# --------------------------------------------------------------------------- time bank


def _owner_or_staff(actor: Any, resident: Resident) -> None:
    if scope_of(actor).resident_id != resident.pk and not is_ledger_staff(actor, resident):
        raise PermissionDenied()


def hours_spend(
    *, actor: Any, resident: Resident, minutes: Any, idempotency_key: str, description: str = ""
) -> LedgerTransaction:
    """Hours paid for a service the resident receives (or staff record it for them)."""
    _owner_or_staff(actor, resident)
    minutes = clean_amount(minutes, label=_("时长（分钟）"))
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

    def do() -> LedgerTransaction:
        with transaction.atomic():
            src = resident_account(sender, Currency.MINUTES)
            dst = resident_account(receiver, Currency.MINUTES)
            cap = settings_for(sender.community_id).hours_cap_minutes
            fund = system_account(sender.community_id, Currency.MINUTES, AccountKind.PUBLIC_FUND)
            locked = lock_accounts(src.pk, dst.pk, fund.pk)
            to_receiver = max(0, min(minutes, cap - locked[dst.pk].balance))
            legs = [Leg(src.pk, -minutes)]
            if to_receiver:
                legs.append(Leg(dst.pk, to_receiver))
            if to_receiver < minutes:
                legs.append(Leg(fund.pk, minutes - to_receiver))
            return post_transaction(
                actor=actor,
                community_id=sender.community_id,
                currency=Currency.MINUTES,
                kind=TxKind.TRANSFER,
                legs=legs,
                idempotency_key=key,
                rhash=rhash,
                memo=_("转赠给家人 %(n)s") % {"n": receiver.name},
            )

    return idempotent(key, rhash, do, lambda tx: tx)


# --------------------------------------------------------------------------- catalogue


def item_save(
    *,
    actor: Any,
    community: OrgUnit,
    name: str,
    kind: str,
    price_points: Any,
    stock: Any,
    per_person_limit: Any = 1,
    description: str = "",
    min_level: str = "",
    is_active: bool = True,
    item: CatalogueItem | None = None,
) -> CatalogueItem:
    if not can_manage_ledger(actor, community):
        raise PermissionDenied()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写名称。"), field="name")
    if kind not in ItemKind.values:
        raise ValidationFailed(_("未知的商品类别。"), field="kind")
    if min_level not in ("", "A", "AA", "AAA"):
        raise ValidationFailed(_("未知的信用等级。"), field="min_level")
    price = clean_amount(price_points, field="price_points", label=_("所需积分"))
    limit = clean_amount(per_person_limit, field="per_person_limit", label=_("每人限兑"))
    stock_n = 0 if stock in (0, "0") else clean_amount(stock, field="stock", label=_("库存"))
    with transaction.atomic():
        if item is None:
            item = CatalogueItem(community=community)
        elif item.community_id != community.pk:
            raise NotFound()
        item.name, item.kind, item.price_points, item.stock = name[:80], kind, price, stock_n
        item.per_person_limit, item.description, item.min_level, item.is_active = (
            limit,
            description[:300],
            min_level,
            is_active,
        )
        item.save()
        audit.record(
            actor=actor,
            action="ledger.item_saved",
            target=item,
            community_id=community.pk,
            payload={"name": item.name, "price": price, "stock": stock_n, "limit": limit},
        )
    return item


def _new_code() -> str:
    return "".join(secrets.choice(VOUCHER_ALPHABET) for _i in range(10))


def redeem(*, actor: Any, item: CatalogueItem, resident: Resident, idempotency_key: str) -> Voucher:
    """Stock, balance and the voucher in one transaction: all or nothing."""
    _owner_or_staff(actor, resident)
    if item.community_id != resident.community_id:
        raise NotFound()
    key = clean_key(idempotency_key)
    rhash = request_hash(op="redeem", item=item.pk, resident=resident.pk)

    def do() -> Voucher:
        with transaction.atomic():
            # Lock order: item, then accounts (inside post_transaction), then audit head.
            locked = CatalogueItem.objects.select_for_update().get(pk=item.pk)
            if not locked.is_active:
                raise ValidationFailed(_("该商品已下架。"), code="inactive")
            if locked.stock <= 0:
                raise ValidationFailed(
                    _("“%(n)s”已兑完，暂无库存。") % {"n": locked.name}, code="out_of_stock"
                )
            taken = Voucher.objects.filter(item=locked, resident=resident).exclude(
                status=VoucherStatus.VOID
            )
            if taken.count() >= locked.per_person_limit:
                raise ValidationFailed(
                    _("每人限兑 %(n)s 次，您已达到上限。") % {"n": locked.per_person_limit},
                    code="limit",
                )
            acc = resident_account(resident, Currency.POINTS)
            if locked.min_level and not level_at_least(credit_level(acc), locked.min_level):
                raise ValidationFailed(
                    _("需要信用等级 %(l)s 及以上才能兑换。") % {"l": locked.min_level}, code="level"
                )
            issuer = system_account(resident.community_id, Currency.POINTS, AccountKind.ISSUER)
            tx = post_transaction(
                actor=actor,
                community_id=resident.community_id,
                currency=Currency.POINTS,
                kind=TxKind.REDEEM,
                legs=[Leg(acc.pk, -locked.price_points), Leg(issuer.pk, locked.price_points)],
                idempotency_key=key,
                rhash=rhash,
                memo=_("兑换 %(n)s") % {"n": locked.name},
                source=f"ledger.catalogueitem:{locked.pk}",
            )
            CatalogueItem.objects.filter(pk=locked.pk).update(stock=F("stock") - 1)
            for _attempt in range(5):
                code = _new_code()
                if not Voucher.objects.filter(code=code).exists():
                    break
            voucher = Voucher.objects.create(
                community_id=resident.community_id,
                item=locked,
                resident=resident,
                code=code,
                transaction=tx,
            )
            audit.record(
                actor=actor,
                action="ledger.voucher_issued",
                target=voucher,
                community_id=resident.community_id,
                payload={"item": locked.pk, "tx": tx.pk},
            )
            return voucher

    return idempotent(key, rhash, do, lambda tx: Voucher.objects.get(transaction=tx))


def voucher_use(*, actor: Any, community: OrgUnit, code: str) -> Voucher:
    """Single use: the status flips from issued to used exactly once."""
    code = (code or "").strip().upper()
    voucher = Voucher.objects.select_related("item").filter(community=community, code=code).first()
    if voucher is None or not can_use_voucher(actor, voucher):
        raise NotFound(_("兑换码无效。"))
    with transaction.atomic():
        now = timezone.now()
        changed = Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.USED, used_at=now, used_by=actor
        )
        if changed != 1:
            raise Conflict(_("该兑换码已使用或已作废。"), code="voucher_used")
        voucher.refresh_from_db()
        audit.record(
            actor=actor, action="ledger.voucher_used", target=voucher, community_id=community.pk
        )
    return voucher


def priority_voucher_available(resident: Resident) -> Voucher | None:
    """The resident's oldest unused 优先报名 voucher, if any (a read; no lock)."""
    return (
        Voucher.objects.filter(
            resident=resident,
            community_id=resident.community_id,
            status=VoucherStatus.ISSUED,
            item__kind=ItemKind.PRIORITY_SIGNUP,
        )
        .order_by("created_at", "id")
        .first()
    )


def priority_voucher_consume(*, actor: Any, resident: Resident, source: str) -> Voucher:
    """Spend one 优先报名 voucher for ``source`` (e.g. "volunteers.activity:7").

    Precondition: the caller checked that ``actor`` acts for ``resident`` and runs
    inside the ``transaction.atomic`` that also writes what the voucher buys, so the
    sign-up and the voucher's use commit or roll back together. The voucher row is
    locked and flipped issued → used with a conditional update: used exactly once.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("priority_voucher_consume must run inside transaction.atomic")
    voucher = (
        Voucher.objects.select_for_update()
        .filter(
            resident=resident,
            community_id=resident.community_id,
            status=VoucherStatus.ISSUED,
            item__kind=ItemKind.PRIORITY_SIGNUP,
        )
        .order_by("created_at", "id")
        .first()
    )
    if voucher is None:
        raise ValidationFailed(
            _("您没有可用的优先报名券，可在积分商城兑换。"), code="no_priority_voucher"
        )
    changed = Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.ISSUED).update(
        status=VoucherStatus.USED,
        used_at=timezone.now(),
        used_by=actor if getattr(actor, "pk", None) else None,
    )
    if changed != 1:
        raise Conflict(_("该兑换码已使用或已作废。"), code="voucher_used")
    voucher.refresh_from_db()
    audit.record(
        actor=actor,
        action="ledger.voucher_used",
        target=voucher,
        community_id=voucher.community_id,
        payload={"for": source[:80], "kind": ItemKind.PRIORITY_SIGNUP},
    )
    return voucher


# --------------------------------------------------------------------------- giving


def donate(
    *, actor: Any, resident: Resident, points: Any, idempotency_key: str
) -> LedgerTransaction:
    """积分传承: points to the community public fund; 社区慈善家 at the threshold."""
    _owner_or_staff(actor, resident)
    points = clean_amount(points, label=_("捐赠积分"))
    key = clean_key(idempotency_key)
    rhash = request_hash(op="donate", resident=resident.pk, points=points)

    def do() -> LedgerTransaction:
        with transaction.atomic():
            acc = resident_account(resident, Currency.POINTS)
            fund = system_account(resident.community_id, Currency.POINTS, AccountKind.PUBLIC_FUND)
            tx = post_transaction(
                actor=actor,
                community_id=resident.community_id,
                currency=Currency.POINTS,
                kind=TxKind.DONATE,
                legs=[Leg(acc.pk, -points), Leg(fund.pk, points)],
                idempotency_key=key,
                rhash=rhash,
                memo=str(_("捐赠给社区公益基金")),
            )
            total = donated_total(acc)
            threshold = settings_for(resident.community_id).philanthropist_threshold
            year = timezone.localdate().year
            if (
                total >= threshold
                and not Honour.objects.filter(
                    resident=resident, kind=HonourKind.PHILANTHROPIST
                ).exists()
            ):
                honour = Honour.objects.create(
                    community_id=resident.community_id,
                    resident=resident,
                    kind=HonourKind.PHILANTHROPIST,
                    year=year,
                    citation=_("累计捐赠 %(n)s 积分") % {"n": total},
                )
                audit.record(
                    actor=actor,
                    action="ledger.honour_awarded",
                    target=honour,
                    community_id=resident.community_id,
                    payload={"kind": honour.kind, "auto": True},
                )
            return tx

    return idempotent(key, rhash, do, lambda tx: tx)


def donated_total(account: Account) -> int:
    out = (
        Entry.objects.filter(
            account=account, side=Side.DEBIT, transaction__kind=TxKind.DONATE
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    back = (
        Entry.objects.filter(
            account=account, side=Side.CREDIT, transaction__reverses__kind=TxKind.DONATE
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    return int(out) - int(back)


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


# --------------------------------------------------------------------------- corrections


def reverse(
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
            entries = list(tx.entries.select_related("account"))
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


def adjust(
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
                memo=reason[:200],
            )

    return idempotent(key, rhash, do, lambda t: t)


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
        entries = Entry.objects.filter(account_id=account_id)
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
            citation=citation[:300],
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
