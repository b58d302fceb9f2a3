"""Points 积分 and time-bank hours 时间银行 on one double-entry ledger (SPEC §4).

Conventions that keep the books honest:

* Three currencies, never mixed: ``points``, ``minutes`` (time-bank hours are stored as
  integer minutes so 1 h 30 min is exact) and ``fen`` — the community fund's money in
  integer fen (1 yuan = 100 fen), exact, never a float (see
  ``linli.projects.services.fund``). An account holds exactly one currency and a
  transaction moves exactly one currency.
* Every movement is one :class:`LedgerTransaction` with two or more :class:`Entry` rows.
  An entry is a positive ``amount`` on the ``debit`` or ``credit`` side; an account's
  balance is credits minus debits, so a balanced transaction (debits == credits) keeps
  the community-wide sum of balances at zero (the trial balance).
* Entries are immutable (model guard + database triggers); a correction is a new
  transaction whose ``reverses`` points at the original.
* ``Account.balance`` is a cache of the entries, updated under ``select_for_update``; the
  database refuses a negative balance on accounts that must not go negative, and
  ``ledger_recompute`` proves the cache against the entries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Household, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class Currency(models.TextChoices):
    POINTS = "points", _("积分")
    MINUTES = "minutes", _("时间银行（小时）")
    # The community fund 社区基金 in money: integer fen.
    FEN = "fen", _("人民币（分）")


class AccountKind(models.TextChoices):
    RESIDENT = "resident", _("居民账户")
    HOUSEHOLD = "household", _("家庭账户")
    PUBLIC_FUND = "public_fund", _("社区公益基金")
    PARTNER = "partner", _("合作单位账户")
    ISSUER = "issuer", _("发行/兑换账户")
    ADJUSTMENT = "adjustment", _("过期与调整账户")
    # Money (fen) only: what the fund has paid out against approved project budget
    # lines. Never negative; the fund's own account is ``public_fund`` and money from
    # outside (donors, grants, partners) enters through the ``issuer`` account.
    EXPENSE = "expense", _("项目支出账户")


# System accounts are the other side of issue and redemption: they may run negative
# (the issuer's negative balance is exactly the points in circulation).
SYSTEM_KINDS = frozenset({AccountKind.ISSUER, AccountKind.ADJUSTMENT})


class Account(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="ledger_accounts")
    currency = models.CharField(_("币种"), max_length=8, choices=Currency.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=AccountKind.choices)
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    name = models.CharField(_("名称"), max_length=80, blank=True)
    allow_negative = models.BooleanField(default=False)
    # Cache of sum(credits) - sum(debits), maintained under a row lock.
    balance = models.BigIntegerField(_("余额"), default=0)
    # Lifetime amount earned (earn transactions only, net of their reversals): credit
    # levels depend on it, not on the current balance.
    lifetime_earned = models.BigIntegerField(_("累计获得"), default=0)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0),
                name="ledger_account_no_overdraft",
            ),
            models.CheckConstraint(
                condition=Q(allow_negative=False) | Q(kind__in=["issuer", "adjustment"]),
                name="ledger_only_system_accounts_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="resident") | Q(resident__isnull=False),
                name="ledger_resident_account_has_resident",
            ),
            models.CheckConstraint(
                condition=~Q(kind="household") | Q(household__isnull=False),
                name="ledger_household_account_has_household",
            ),
            models.CheckConstraint(
                condition=~Q(kind="partner") | Q(organisation__isnull=False),
                name="ledger_partner_account_has_org",
            ),
            models.CheckConstraint(
                condition=~Q(kind="expense") | Q(currency="fen"),
                name="ledger_expense_account_is_money",
            ),
            models.UniqueConstraint(
                fields=["currency", "resident"],
                condition=Q(kind="resident"),
                name="ledger_one_resident_account",
            ),
            models.UniqueConstraint(
                fields=["currency", "household"],
                condition=Q(kind="household"),
                name="ledger_one_household_account",
            ),
            models.UniqueConstraint(
                fields=["community", "currency", "organisation"],
                condition=Q(kind="partner"),
                name="ledger_one_partner_account",
            ),
            models.UniqueConstraint(
                fields=["community", "currency", "kind"],
                condition=Q(kind__in=["public_fund", "issuer", "adjustment", "expense"]),
                name="ledger_one_system_account",
            ),
        ]
        indexes = [models.Index(fields=["community", "currency", "kind"])]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()}#{self.pk}"


class TxKind(models.TextChoices):
    EARN = "earn", _("获得")
    SPEND = "spend", _("使用")
    TRANSFER = "transfer", _("转赠")
    REDEEM = "redeem", _("兑换")
    DONATE = "donate", _("捐赠")
    OVERFLOW = "overflow", _("超出上限转入公益基金")
    ADJUST = "adjust", _("调整")
    EXPIRE = "expire", _("过期")
    REVERSAL = "reversal", _("冲正")


class LedgerTransaction(models.Model):
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    currency = models.CharField(_("币种"), max_length=8, choices=Currency.choices)
    kind = models.CharField(_("类型"), max_length=10, choices=TxKind.choices)
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    # A retried request with the same key returns this transaction instead of posting
    # again; ``request_hash`` tells a true retry from a different request reusing a key.
    idempotency_key = models.CharField(max_length=120, unique=True)
    request_hash = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # Free-form link to what caused it ("volunteers.signup:12", "ledger.earningclaim:3").
    source = models.CharField(max_length=80, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("流水")
        verbose_name_plural = _("流水")
        indexes = [models.Index(fields=["community", "currency", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}#{self.pk}"


class Side(models.TextChoices):
    DEBIT = "D", _("借")
    CREDIT = "C", _("贷")


class Entry(models.Model):
    """One leg of a transaction. Never updated or deleted (see migration 0002).
    ``community`` repeats the transaction's tenant so every query on entries can be
    routed by community (the distribution key if the data is ever sharded)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    side = models.CharField(max_length=1, choices=Side.choices)
    amount = models.BigIntegerField()
    # Balance of ``account`` right after this entry: statements show it, and the
    # consistency check compares the last one with ``Account.balance``.
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(side__in=["D", "C"]), name="ledger_entry_side_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "id"]),
            models.Index(fields=["community", "account", "id"], name="ledger_entry_tenant_acct"),
        ]

    def __str__(self) -> str:
        return f"{self.side}{self.amount}@{self.account_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Ledger entries are immutable; post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Ledger entries are immutable; post a reversal instead")

    @property
    def signed(self) -> int:
        return self.amount if self.side == Side.CREDIT else -self.amount


class EarnKind(models.TextChoices):
    VOLUNTEER_SERVICE = "volunteer_service", _("志愿服务")
    GARBAGE_SORTING = "garbage_sorting", _("垃圾分类检查")
    MUTUAL_AID = "mutual_aid", _("邻里互助")
    PROPOSAL_ADOPTED = "proposal_adopted", _("建议被采纳")
    DELIBERATION = "deliberation", _("参加议事")
    SURVEY = "survey", _("参与调查问卷")
    TIMEBANK_SERVICE = "timebank_service", _("时间银行助老助残服务")


class Approver(models.TextChoices):
    ORGANISER = "organiser", _("活动组织者")
    GRID_WORKER = "grid_worker", _("网格员")
    STAFF = "staff", _("社区工作人员")


class LedgerSettings(BaseModel):
    """Per-community knobs (defaults follow the seeds)."""

    community = models.OneToOneField(
        OrgUnit, on_delete=models.CASCADE, related_name="ledger_settings"
    )
    hours_cap_minutes = models.PositiveIntegerField(
        _("时间银行个人上限（分钟）"), default=1500 * 60
    )
    philanthropist_threshold = models.PositiveIntegerField(
        _("社区慈善家门槛（累计捐赠积分）"), default=500
    )
    level_a = models.PositiveIntegerField(_("A 级所需累计积分"), default=100)
    level_aa = models.PositiveIntegerField(_("AA 级所需累计积分"), default=500)
    level_aaa = models.PositiveIntegerField(_("AAA 级所需累计积分"), default=2000)
    # Points older than this many months lapse (oldest first) when the scheduled
    # ``expire_points`` job runs; 0 = points never expire. Time-bank hours never expire:
    # they are saved for the volunteer's own old age.
    points_valid_months = models.PositiveSmallIntegerField(
        _("积分有效期（月，0 为长期有效）"), default=0
    )

    class Meta:
        verbose_name = _("积分设置")
        verbose_name_plural = _("积分设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(level_a__lte=models.F("level_aa"))
                & Q(level_aa__lte=models.F("level_aaa")),
                name="ledger_levels_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"settings:{self.community_id}"


class EarningRule(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="earning_rules")
    kind = models.CharField(_("类别"), max_length=20, choices=EarnKind.choices)
    currency = models.CharField(
        _("币种"), max_length=8, choices=Currency.choices, default=Currency.POINTS
    )
    # Points per occurrence; for the time bank the amount is the minutes actually served
    # (1 h served = 1 h credited) and this field is unused.
    amount = models.PositiveIntegerField(_("每次积分"), default=0)
    daily_cap = models.PositiveIntegerField(_("每人每日上限"), null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(_("每人每月上限"), null=True, blank=True)
    approver_roles = models.JSONField(_("审核人"), default=list, blank=True)
    recipient_must_confirm = models.BooleanField(_("需服务对象确认"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], name="ledger_rule_unique_kind"),
            models.CheckConstraint(
                condition=~Q(kind="timebank_service") | Q(currency="minutes"),
                name="ledger_timebank_rule_minutes",
            ),
            # Money is never earned by a rule: it enters the fund as recorded income.
            models.CheckConstraint(condition=~Q(currency="fen"), name="ledger_rule_not_money"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id}:{self.get_kind_display()}"


class ClaimStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("待服务对象确认")
    AWAITING_APPROVAL = "awaiting_approval", _("待审核")
    APPROVED = "approved", _("已发放")
    REJECTED = "rejected", _("已驳回")


class EarningClaim(BaseModel):
    """A request to earn points/hours under a rule, moving through
    :data:`linli.ledger.states.CLAIMS`."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="earning_claims")
    rule = models.ForeignKey(EarningRule, on_delete=models.PROTECT, related_name="claims")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="earning_claims")
    # The person served (time bank, mutual aid) who must confirm if the rule says so.
    recipient = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="received_services"
    )
    amount = models.PositiveIntegerField(_("数量"))
    description = models.CharField(_("说明"), max_length=200, blank=True)
    service_date = models.DateField(_("服务日期"))
    status = models.CharField(_("状态"), max_length=24, choices=ClaimStatus.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("驳回理由"), max_length=200, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="claim"
    )

    idempotency_key = idempotency.key_field()  # a replayed claim returns this one

    class Meta:
        verbose_name = _("积分申请")
        verbose_name_plural = _("积分申请")
        constraints = [
            idempotency.unique_per_community("ledger_claim_idempotency_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_claim_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(transaction__isnull=False),
                name="ledger_claim_approved_posted",
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"claim#{self.pk}"


class ItemKind(models.TextChoices):
    GOODS = "goods", _("实物")
    PROPERTY_VOUCHER = "property_voucher", _("物业费抵扣券")
    SERVICE = "service", _("服务")
    PRIORITY_SIGNUP = "priority_signup", _("优先报名")


class CatalogueItem(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="catalogue_items")
    kind = models.CharField(_("类别"), max_length=20, choices=ItemKind.choices)
    name = models.CharField(_("名称"), max_length=80)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    price_points = models.PositiveIntegerField(_("所需积分"))
    stock = models.IntegerField(_("库存"))
    per_person_limit = models.PositiveIntegerField(_("每人限兑"), default=1)
    min_level = models.CharField(_("最低信用等级"), max_length=3, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)

    class Meta:
        ordering = ["price_points", "id"]
        verbose_name = _("兑换商品")
        verbose_name_plural = _("兑换商品")
        constraints = [
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="ledger_item_stock_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(price_points__gt=0), name="ledger_item_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(per_person_limit__gt=0), name="ledger_item_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("未使用")
    USED = "used", _("已使用")
    VOID = "void", _("已作废")


class Voucher(BaseModel):
    """One redemption: the unique, single-use code the resident shows."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="vouchers")
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="vouchers")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="vouchers")
    code = models.CharField(_("兑换码"), max_length=16, unique=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=VoucherStatus.choices, default="issued"
    )
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="voucher"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("兑换券")
        verbose_name_plural = _("兑换券")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="used") | Q(used_at__isnull=False),
                name="ledger_voucher_used_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class HonourKind(models.TextChoices):
    BEST_VOLUNTEER = "best_volunteer", _("最美社区志愿者")
    GOVERNANCE_PIONEER = "governance_pioneer", _("社区治理先锋")
    PHILANTHROPIST = "philanthropist", _("社区慈善家")


class Honour(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="honours")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="honours")
    kind = models.CharField(_("荣誉"), max_length=20, choices=HonourKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    citation = models.CharField(_("事迹"), max_length=300, blank=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-year", "kind", "id"]
        verbose_name = _("荣誉")
        verbose_name_plural = _("荣誉")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind", "year"], name="ledger_honour_once_a_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_kind_display()} {self.resident_id}"
