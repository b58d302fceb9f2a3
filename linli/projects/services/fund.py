"""The community fund 社区基金 in money, on the ledger (currency ``fen``).

Accounts (per community): ``public_fund`` — the fund's money, never negative;
``issuer`` — money from outside (its negative balance is everything ever received);
``expense`` — everything paid out for projects. Income: issuer → fund. Expense:
fund → expense, only against a filed micro-project's budget line, never beyond what is
left on it (the line's row is locked while checking), and above the community's
threshold only after a second staff member approves. Points donated to the points
public fund are converted at the published rule (points retired to the adjustment
account, the money credited from outside in the same database transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit
from linli.core import idempotency, ratelimit
from linli.core.calendar import LOCAL_TZ
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row
from linli.ledger.models import Account, AccountKind, Currency, Entry, LedgerTransaction, TxKind
from linli.ledger.services.posting import Leg, request_hash, system_account, transaction_post
from linli.projects.models import BudgetLine, FundMovement, MicroProject
from linli.projects.money import fmt_fen, parse_yuan
from linli.projects.permissions import acting_user, manages
from linli.projects.services.settings import settings_for

K = FundMovement.Kind
SRC = FundMovement.Source
ST = FundMovement.Status
INCOME_SOURCES = (SRC.DONATION, SRC.CHARITY_SALE, SRC.GRANT, SRC.PARTNER)


def fund_accounts(community_id: int) -> tuple[Account, Account, Account]:
    """(fund, outside, expense) money accounts, created on first use."""
    return (
        system_account(community_id, Currency.FEN, AccountKind.PUBLIC_FUND),
        system_account(community_id, Currency.FEN, AccountKind.ISSUER),
        system_account(community_id, Currency.FEN, AccountKind.EXPENSE),
    )


def _post(
    w: Write, actor: Actor, mv: FundMovement, legs: list[Leg], kind: str, memo: str
) -> LedgerTransaction:
    key = f"fund:{mv.pk}"
    tx = transaction_post(
        actor=actor,
        community_id=mv.community_id,
        currency=Currency.FEN,
        kind=kind,
        legs=legs,
        idempotency_key=key,
        rhash=request_hash(movement=mv.pk, amount=mv.amount_fen, kind=mv.kind),
        memo=memo,
        source=f"projects.fundmovement:{mv.pk}",
        w=w,
    )
    mv.transaction = tx
    mv.status = ST.POSTED
    mv.posted_at = tx.created_at
    return tx


def fund_income(
    *,
    actor: Actor,
    community: OrgUnit,
    source: str,
    amount_yuan: Any,
    memo: str,
    donor_name: str = "",
    donor_consent: bool = False,
    idempotency_key: str = "",
) -> FundMovement:
    """Record money received (donation, charity sale, grant, partner contribution)."""
    if not manages(actor, community):
        raise PermissionDenied()
    ratelimit.check("projects.fund", user=actor)
    if source not in INCOME_SOURCES:
        raise ValidationFailed(_("请选择收入来源。"), field="source")
    amount = parse_yuan(amount_yuan, field="amount", label=_("金额"))
    memo = within(memo, field="memo", limit=200, label=_("摘要"))
    if not memo:
        raise ValidationFailed(_("请填写摘要。"), field="memo")
    donor_name = within(donor_name, field="donor_name", limit=60, label=_("捐赠人"))
    key = idempotency.clean(idempotency_key)
    fund, outside, _exp = fund_accounts(community.pk)
    with governed_write(actor=actor, action="projects.fund_income", community_id=community.pk) as w:
        mv = FundMovement(
            community_id=community.pk,
            kind=K.INCOME,
            source=source,
            amount_fen=amount,
            donor_name=donor_name,
            donor_consent=bool(donor_consent and donor_name),
            memo=memo,
            status=ST.PENDING,
            recorded_by=acting_user(actor),
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, mv, key=key, owned=lambda m: m.recorded_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        _post(
            w,
            actor,
            mv,
            [Leg(outside.pk, -amount), Leg(fund.pk, amount)],
            TxKind.DONATE,
            f"{mv.get_source_display()}：{memo}",
        )
        mv.save()
        w.target = mv
        w.payload.update(source=source, amount_fen=amount)
    return mv


def fund_convert_points(
    *, actor: Actor, community: OrgUnit, points: int, idempotency_key: str = ""
) -> FundMovement:
    """Convert points from the points public fund into money at the published rule
    (``points_per_yuan``): the points are retired (public fund → adjustment) and the
    money credited to the fund (outside → fund), in one database transaction."""
    if not manages(actor, community):
        raise PermissionDenied()
    rate = settings_for(community.pk).points_per_yuan
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationFailed(_("积分必须是正整数。"), field="points")
    if (points * 100) % rate:
        raise ValidationFailed(
            _("按 %(r)s 积分折 1 元，%(p)s 积分折不成整分钱，请调整数量。")
            % {"r": rate, "p": points},
            field="points",
        )
    amount = points * 100 // rate
    key = idempotency.clean(idempotency_key)
    fund, outside, _exp = fund_accounts(community.pk)
    pts_fund = system_account(community.pk, Currency.POINTS, AccountKind.PUBLIC_FUND)
    pts_adj = system_account(community.pk, Currency.POINTS, AccountKind.ADJUSTMENT)
    with governed_write(actor=actor, action="projects.fund_points", community_id=community.pk) as w:
        mv = FundMovement(
            community_id=community.pk,
            kind=K.INCOME,
            source=SRC.POINTS,
            amount_fen=amount,
            memo=_("%(p)s 积分按 %(r)s 积分/元折算") % {"p": points, "r": rate},
            status=ST.PENDING,
            recorded_by=acting_user(actor),
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, mv, key=key, owned=lambda m: m.recorded_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        transaction_post(
            actor=actor,
            community_id=community.pk,
            currency=Currency.POINTS,
            kind=TxKind.ADJUST,
            legs=[Leg(pts_fund.pk, -points), Leg(pts_adj.pk, points)],
            idempotency_key=f"fund-points:{mv.pk}",
            rhash=request_hash(movement=mv.pk, points=points),
            memo=mv.memo,
            source=f"projects.fundmovement:{mv.pk}",
            w=w,
        )
        _post(
            w, actor, mv, [Leg(outside.pk, -amount), Leg(fund.pk, amount)], TxKind.DONATE, mv.memo
        )
        mv.save()
        w.target = mv
        w.payload.update(points=points, rate=rate, amount_fen=amount)
    return mv


def line_left(line: BudgetLine) -> int:
    """What is left on a budget line: its amount minus posted and pending expenses."""
    used = (
        FundMovement.objects.filter(
            community_id=line.community_id,
            budget_line=line,
            kind=K.EXPENSE,
            status__in=[ST.POSTED, ST.PENDING],
        ).aggregate(s=Sum("amount_fen"))["s"]
        or 0
    )
    return line.amount_fen - int(used)


def fund_expense(
    *,
    actor: Actor,
    line: BudgetLine,
    amount_yuan: Any,
    memo: str,
    receipt: Any = None,
    idempotency_key: str = "",
) -> FundMovement:
    """Pay for a budget line of a filed micro-project. Above the threshold it waits for
    a second staff member (:func:`fund_expense_approve`)."""
    project = line.project
    if not manages(actor, project):
        raise PermissionDenied()
    ratelimit.check("projects.fund", user=actor)
    if project.status not in (MicroProject.Status.FILED, MicroProject.Status.IN_PROGRESS):
        raise ValidationFailed(_("只能为已备案（批准）项目的预算支出。"), code="not_approved")
    if project.funding_cut:
        raise ValidationFailed(_("该项目连续两次评估不合格，已停止资助。"), code="funding_cut")
    amount = parse_yuan(amount_yuan, field="amount", label=_("金额"))
    memo = within(memo, field="memo", limit=200, label=_("摘要"))
    if not memo:
        raise ValidationFailed(_("请填写摘要。"), field="memo")
    key = idempotency.clean(idempotency_key)
    threshold = settings_for(line.community_id).dual_approval_fen
    fund, _outside, expense = fund_accounts(line.community_id)
    with governed_write(
        actor=actor, action="projects.fund_expense", community_id=line.community_id
    ) as w:
        # The line's row lock serialises expenses against the same line.
        locked = lock_row(BudgetLine.objects.all(), line.pk, community_id=line.community_id)
        left = line_left(locked)
        if amount > left:
            raise ValidationFailed(
                _("超出预算：“%(i)s”还剩 %(l)s 元，本次 %(a)s 元。")
                % {"i": locked.item, "l": fmt_fen(left), "a": fmt_fen(amount)},
                field="amount",
                code="over_line",
            )
        mv = FundMovement(
            community_id=line.community_id,
            kind=K.EXPENSE,
            source=SRC.PROJECT,
            amount_fen=amount,
            memo=memo,
            budget_line=locked,
            status=ST.PENDING,
            recorded_by=acting_user(actor),
            idempotency_key=key,
        )
        if receipt is not None:
            mv.receipt = receipt
        prior = idempotency.replayed(
            w, mv, key=key, owned=lambda m: m.recorded_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        if amount <= threshold:
            _post(
                w,
                actor,
                mv,
                [Leg(fund.pk, -amount), Leg(expense.pk, amount)],
                TxKind.SPEND,
                f"{project.title}·{locked.item}：{memo}",
            )
            mv.save()
        w.target = mv
        w.payload.update(amount_fen=amount, line=locked.pk, needs_second=amount > threshold)
    return mv


def fund_expense_approve(
    *, actor: Actor, movement: FundMovement, approve: bool = True, reason: str = ""
) -> FundMovement:
    """The second staff member approves (posts) or refuses a pending expense."""
    if not manages(actor, movement):
        raise PermissionDenied()
    if getattr(actor, "pk", None) == movement.recorded_by_id:
        raise PermissionDenied(_("双人审批：录入人不能审批自己录入的支出。"))
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    if not approve and not reason:
        raise ValidationFailed(_("请填写不批准的理由。"), field="reason")
    fund, _o, expense = fund_accounts(movement.community_id)
    with governed_write(
        actor=actor, action="projects.fund_approve", community_id=movement.community_id
    ) as w:
        mv = lock_row(
            FundMovement.objects.select_related("budget_line__project"),
            movement.pk,
            community_id=movement.community_id,
        )
        if mv.status != ST.PENDING:
            raise Conflict(_("该支出已处理。"))
        mv.approved_by = acting_user(actor)
        if approve:
            line = mv.budget_line
            assert line is not None  # expenses always have a line (constraint)
            _post(
                w,
                actor,
                mv,
                [Leg(fund.pk, -mv.amount_fen), Leg(expense.pk, mv.amount_fen)],
                TxKind.SPEND,
                f"{line.project.title}·{line.item}：{mv.memo}",
            )
        else:
            mv.status = ST.REJECTED
            mv.reason = reason
        mv.save()
        w.target = mv
        w.payload.update(approve=approve, reason=reason)
    return mv


# --------------------------------------------------------------------------- disclosure


@dataclass
class Disclosure:
    community: OrgUnit
    year: int
    quarter: int
    start: datetime
    end: datetime
    opening: int
    income: list[tuple[str, int]]
    expenses: list[tuple[str, int]]
    closing: int
    ledger_closing: int
    movement_count: int = 0
    # Filled only with ``with_movements=True`` (the Excel detail sheet).
    movements: list[FundMovement] = field(default_factory=list)

    @property
    def income_total(self) -> int:
        return sum(v for _k, v in self.income)

    @property
    def expense_total(self) -> int:
        return sum(v for _k, v in self.expenses)

    @property
    def reconciles(self) -> bool:
        return self.closing == self.ledger_closing


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar quarter in Beijing time."""
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise ValidationFailed(_("季度无效。"), field="quarter")
    m0 = 3 * (quarter - 1) + 1
    start = datetime.combine(date(year, m0, 1), time(0, 0), tzinfo=LOCAL_TZ)
    end_day = date(year + 1, 1, 1) if quarter == 4 else date(year, m0 + 3, 1)
    return start, datetime.combine(end_day, time(0, 0), tzinfo=LOCAL_TZ)


def _balance_before(account_id: int, community_id: int, at: datetime) -> int:
    rows = Entry.objects.filter(
        community_id=community_id, account_id=account_id, created_at__lt=at
    ).aggregate(c=Sum("amount", filter=Q(side="C")), d=Sum("amount", filter=Q(side="D")))
    return int(rows["c"] or 0) - int(rows["d"] or 0)


def disclosure(
    *,
    community: OrgUnit,
    year: int,
    quarter: int,
    now: datetime | None = None,
    with_movements: bool = False,
) -> Disclosure:
    """The quarterly financial disclosure 财务公示: opening balance, income by source,
    expenses by project, closing balance — reconciled with the ledger to the fen. Only
    for a quarter that has ended (Asia/Shanghai)."""
    start, end = quarter_bounds(year, quarter)
    if (now or timezone.now()) < end:
        raise ValidationFailed(
            _("%(y)s 年第 %(q)s 季度尚未结束，不能生成财务公示。") % {"y": year, "q": quarter},
            code="quarter_not_ended",
        )
    fund = Account.objects.filter(
        community_id=community.pk, currency=Currency.FEN, kind=AccountKind.PUBLIC_FUND
    ).first()
    if fund is None:
        raise NotFound(_("本社区尚未设立社区基金。"))
    opening = _balance_before(fund.pk, community.pk, start)
    ledger_closing = _balance_before(fund.pk, community.pk, end)
    posted = FundMovement.objects.filter(
        community_id=community.pk, status=ST.POSTED, posted_at__gte=start, posted_at__lt=end
    )
    # Totals are summed by the database (one GROUP BY each), never row by row in Python:
    # 10 000 movements cost the same two small queries as ten.
    labels = dict(SRC.choices)
    inc = sorted(
        (str(labels[r["source"]]), int(r["total"]))
        for r in posted.filter(kind=K.INCOME).values("source").annotate(total=Sum("amount_fen"))
    )
    expenses: dict[str, int] = {}
    for r in (
        posted.exclude(kind=K.INCOME)
        .values("budget_line__project_id", "budget_line__project__title")
        .annotate(total=Sum("amount_fen"))
    ):
        # Keyed by title as before; two projects with one title are added together.
        title = r["budget_line__project__title"] or "—"
        expenses[title] = expenses.get(title, 0) + int(r["total"])
    exp = sorted(expenses.items())
    closing = opening + sum(v for _k, v in inc) - sum(v for _k, v in exp)
    count = posted.count()
    # Every movement (the Excel detail sheet) only when asked for.
    movements = (
        list(posted.select_related("budget_line__project").order_by("posted_at", "id"))
        if with_movements
        else []
    )
    return Disclosure(
        community=community,
        year=year,
        quarter=quarter,
        start=start,
        end=end,
        opening=opening,
        income=inc,
        expenses=exp,
        closing=closing,
        ledger_closing=ledger_closing,
        movement_count=count,
        movements=movements,
    )
