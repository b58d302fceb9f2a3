"""Earning rules, settings, claims (submit → confirm → approve/reject) and direct awards."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident, SpecialGroup
from linli.core import audit, idempotency, ratelimit
from linli.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message, send_on_commit
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.ledger.models import (
    AccountKind,
    Approver,
    ClaimStatus,
    Currency,
    EarningClaim,
    EarningRule,
    EarnKind,
    LedgerSettings,
    TxKind,
)
from linli.ledger.permissions import (
    can_award,
    can_manage_ledger,
    is_ledger_staff,
)
from linli.ledger.services.posting import (
    ELDERLY_AGE,
    MAX_SERVICE_MINUTES,
    MAX_VALID_MONTHS,
    Books,
    Leg,
    clean_amount,
    clean_key,
    fmt_hours,
    insert_transaction,
    lock_books,
    replayed,
    request_hash,
    settings_for,
    transaction_post,
)
from linli.ledger.states import APPROVE, CLAIMS, CONFIRM, REJECT

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
    """How much more this resident may earn under ``rule`` on ``on`` (None = no cap).
    One query for both caps. Precondition for a decision: the resident's account is
    locked (:func:`lock_books`), which serialises their earnings."""
    if not rule.daily_cap and not rule.monthly_cap:
        return None
    first = on.replace(day=1)
    last = on.replace(day=calendar.monthrange(on.year, on.month)[1])
    base = EarningClaim.objects.filter(
        community_id=rule.community_id,
        rule=rule,
        resident_id=resident_id,
        status=ClaimStatus.APPROVED,
    )
    if rule.monthly_cap:
        base = base.filter(service_date__gte=first, service_date__lte=last)
    else:
        base = base.filter(service_date=on)
    used = base.aggregate(day=Sum("amount", filter=Q(service_date=on)), month=Sum("amount"))
    rooms: list[int] = []
    if rule.daily_cap:
        rooms.append(rule.daily_cap - int(used["day"] or 0))
    if rule.monthly_cap:
        rooms.append(rule.monthly_cap - int(used["month"] or 0))
    return max(0, min(rooms))


def _earn_kinds(currency: str) -> list[str]:
    """System accounts an earning touches: the issuer, and for hours the public fund
    (hours beyond the personal cap)."""
    if currency == Currency.MINUTES:
        return [AccountKind.ISSUER, AccountKind.PUBLIC_FUND]
    return [AccountKind.ISSUER]


def _earn_legs(
    books: Books, rule: EarningRule, resident: Resident, amount: int
) -> tuple[list[Leg], dict[int, int]]:
    """Issuer → resident; time-bank hours beyond the personal cap go to the public fund.
    Reads the balance from the locked rows in ``books``."""
    acc = books.residents[resident.pk]
    issuer = books.system[AccountKind.ISSUER]
    to_resident = amount
    legs: list[Leg] = []
    if rule.currency == Currency.MINUTES:
        to_resident = max(0, min(amount, books.hours_cap - acc.balance))
        if to_resident < amount:
            legs.append(Leg(books.system[AccountKind.PUBLIC_FUND].pk, amount - to_resident))
    if to_resident:
        legs.append(Leg(acc.pk, to_resident))
    legs.append(Leg(issuer.pk, -amount))
    return legs, {acc.pk: to_resident} if to_resident else {}


def _cap_refusal(amount: int, room: int) -> ValidationFailed:
    return ValidationFailed(
        _("超出该规则的每日/每月上限：本次 %(a)s，剩余额度 %(r)s。") % {"a": amount, "r": room},
        code="cap_exceeded",
    )


def _credit_message(claim: EarningClaim) -> Message | None:
    if not claim.resident.user_id:
        return None
    minutes = claim.rule.currency == Currency.MINUTES
    unit = _("小时") if minutes else _("分")
    shown = fmt_hours(claim.amount) if minutes else str(claim.amount)
    return Message(
        "inapp",
        str(claim.resident.user_id),
        _("到账提醒"),
        _("您获得 %(n)s %(u)s（%(k)s）。")
        % {"n": shown, "u": unit, "k": claim.rule.get_kind_display()},
    )


def _approve(
    claim: EarningClaim, actor: Actor, w: Write | None = None, *, memo: str = "", save: bool = True
) -> EarningClaim:
    """Post the claim and mark it approved. Precondition: inside atomic, permission
    checked, the claim row locked (or just created) in an approvable state.
    ``w``: the caller's governed write (the posting becomes a further event)."""
    rule = claim.rule
    key = f"claim:{claim.pk}"
    rhash = request_hash(op="claim", claim=claim.pk)
    tx = insert_transaction(
        actor=actor,
        community_id=claim.community_id,
        currency=rule.currency,
        kind=TxKind.EARN,
        idempotency_key=key,
        rhash=rhash,
        memo=memo or f"{rule.get_kind_display()} {claim.description}".strip(),
        source=f"ledger.earningclaim:{claim.pk}",
    )
    if tx is None:
        raise Conflict(_("该申请已发放。"), code="already_posted")
    # Serialise this resident's earnings: lock the accounts before reading the caps.
    books = lock_books(
        community_id=claim.community_id,
        currency=rule.currency,
        residents=[claim.resident],
        kinds=_earn_kinds(rule.currency),
    )
    room = cap_room(rule, claim.resident_id, claim.service_date)
    if room is not None and claim.amount > room:
        raise _cap_refusal(claim.amount, room)
    claim.status = ClaimStatus.APPROVED
    legs, lifetime = _earn_legs(books, rule, claim.resident, claim.amount)
    transaction_post(
        actor=actor,
        community_id=claim.community_id,
        currency=rule.currency,
        kind=TxKind.EARN,
        legs=legs,
        idempotency_key=key,
        rhash=rhash,
        lifetime=lifetime,
        tx=tx,
        accounts=books.rows,
        w=w,
    )
    claim.transaction = tx
    claim.decided_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]
    if save:
        claim.save(update_fields=["status", "transaction", "decided_by", "updated_at"])
    if w is not None:
        w.payload["to"] = ClaimStatus.APPROVED
    msg = _credit_message(claim)
    if msg is not None:
        if w is not None:
            w.notify(msg)
        else:
            send_on_commit(msg)
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
    idempotency_key: str = "",
) -> EarningClaim:
    """A resident (or staff for them, 代办) asks to earn under a rule. A repeat with the
    same ``idempotency_key`` returns the first claim (see ``linli.core.idempotency``).

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
    key = idempotency.clean(idempotency_key)
    ratelimit.check("ledger.claim", user=actor)
    with governed_write(
        actor=actor, action="ledger.claim_submitted", community_id=resident.community_id
    ) as w:
        claim = EarningClaim(
            community_id=resident.community_id,
            rule=rule,
            resident=resident,
            recipient=recipient,
            amount=amount,
            description=within(description, field="description", limit=200, label=_("说明")),
            service_date=service_date,
            status=status,
            submitted_by=actor,  # type: ignore[misc]
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, claim, key=key, owned=lambda c: c.submitted_by_id == claim.submitted_by_id
        )
        if prior is not None:  # the key is taken: a replay or a double post
            return prior
        w.target = claim
        w.payload.update(kind=kind, amount=amount, recipient=recipient.pk if recipient else None)
        if status == ClaimStatus.AWAITING_APPROVAL and not rule.approver_roles:
            _approve(claim, actor, w)
            w.payload.pop("to", None)
    return claim


def claim_confirm(*, actor: Actor, claim: EarningClaim) -> EarningClaim:
    """The person served (or their grid worker) confirms; with no approver on the rule
    the claim is approved and posted in the same step."""

    def effects(row: EarningClaim, w: Write) -> None:
        row.confirmed_by = actor  # type: ignore[assignment]
        if not row.rule.approver_roles:
            _approve(row, actor, w, save=False)

    return CLAIMS.apply(actor=actor, obj=claim, action=CONFIRM, effects=effects)


def claim_approve(*, actor: Actor, claim: EarningClaim) -> EarningClaim:
    """An approver (per the rule) posts the claim; never the earner."""

    def effects(row: EarningClaim, w: Write) -> None:
        _approve(row, actor, w, save=False)

    return CLAIMS.apply(actor=actor, obj=claim, action=APPROVE, effects=effects)


def claim_reject(*, actor: Actor, claim: EarningClaim, reason: str) -> EarningClaim:
    reason = within(reason, field="reason", limit=200, label=_("驳回理由"))

    def effects(row: EarningClaim, w: Write) -> None:
        row.reason = reason
        row.decided_by = actor  # type: ignore[assignment]

    return CLAIMS.apply(actor=actor, obj=claim, action=REJECT, reason=reason, effects=effects)


class _NothingLeft(Exception):
    """Raised inside the write to roll it back when a clamped award has no room."""


def earning_award(
    *,
    actor: Actor,
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

    Statements in the steady state: the rule, the key (INSERT … ON CONFLICT), one
    locking SELECT for the accounts (with the hours cap), the caps, the claim, one
    UPDATE of the balances, the entries, the audit event.
    """
    if not authorised and not can_award(actor, resident):
        raise PermissionDenied()
    key = clean_key(idempotency_key)
    rule = _rule(resident.community_id, kind)
    amount = rule.amount if rule.currency == Currency.POINTS and amount is None else amount
    amount = clean_amount(amount)
    on = service_date or timezone.localdate()
    rhash = request_hash(op="award", resident=resident.pk, kind=kind, amount=amount, on=on)
    cid = resident.community_id
    try:
        with governed_write(actor=actor, action="ledger.earn", community_id=cid) as w:
            tx = insert_transaction(
                actor=actor,
                community_id=cid,
                currency=rule.currency,
                kind=TxKind.EARN,
                idempotency_key=key,
                rhash=rhash,
                memo=f"{rule.get_kind_display()} {description}".strip(),
                source="ledger.award",
            )
            if tx is None:
                w.record = False
                return EarningClaim.objects.filter(
                    community_id=cid, transaction=replayed(key, rhash, cid)
                ).first()
            books = lock_books(
                community_id=cid,
                currency=rule.currency,
                residents=[resident],
                kinds=_earn_kinds(rule.currency),
            )
            qty = amount
            room = cap_room(rule, resident.pk, on)
            if room is not None and qty > room:
                if not clamp_to_cap:
                    raise _cap_refusal(qty, room)
                qty = room
                if qty <= 0:
                    raise _NothingLeft
            legs, lifetime = _earn_legs(books, rule, resident, qty)
            claim = EarningClaim.objects.create(
                community_id=cid,
                rule=rule,
                resident=resident,
                amount=qty,
                description=description[:200],
                service_date=on,
                status=ClaimStatus.APPROVED,
                submitted_by=actor,  # type: ignore[misc]
                decided_by=actor if getattr(actor, "pk", None) else None,  # type: ignore[misc]
                transaction=tx,
            )
            transaction_post(
                actor=actor,
                community_id=cid,
                currency=rule.currency,
                kind=TxKind.EARN,
                legs=legs,
                idempotency_key=key,
                rhash=rhash,
                lifetime=lifetime,
                tx=tx,
                accounts=books.rows,
                w=w,
            )
            return claim
    except _NothingLeft:
        return None


award = earning_award  # old name, kept for callers (volunteers, bench)
