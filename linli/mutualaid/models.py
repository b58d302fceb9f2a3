"""邻里互助 (needs and offers), 需求-资源-服务匹配 (matches) and 社区合伙人 (community
partners with offerings and confirmed contributions) — SPEC §6.

Invariants the database keeps:

* a need has at most one live match (agreed or settled): a partial unique index;
* the same candidate is proposed for a need at most once;
* a match is settled once (its ledger posting carries an idempotency key derived from
  the match, and the settled status is a one-way state);
* a contribution is confirmed once and then carries its ledger transaction;
* every row carries ``community_id`` (the tenant).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel
from linli.mutualaid.categories import NeedCategory


class Channel(models.TextChoices):
    """How a need reached the platform: the resident themself, or staff 代办."""

    SELF = "self", _("本人发布")
    PHONE = "phone", _("电话代办")
    VISIT = "visit", _("上门代办")
    COUNTER = "counter", _("窗口代办")


class SettleIn(models.TextChoices):
    MINUTES = "minutes", _("时间银行（小时）")
    POINTS = "points", _("积分")
    NONE = "none", _("无偿")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待匹配")
    MATCHED = "matched", _("已匹配")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Need(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    requester = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="aid_needs")
    category = models.CharField(_("类别"), max_length=16, choices=NeedCategory.choices)
    title = models.CharField(_("需要什么帮助"), max_length=60)
    detail = models.TextField(_("说明"), blank=True)
    # Where the help is wanted (the requester's building unless said otherwise).
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wanted_from = models.DateTimeField(_("希望开始时间"), null=True, blank=True)
    wanted_until = models.DateTimeField(_("最晚时间"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("预计时长（分钟）"), default=60)
    settle_in = models.CharField(
        _("结算方式"), max_length=8, choices=SettleIn.choices, default=SettleIn.MINUTES
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        _("渠道"), max_length=8, choices=Channel.choices, default=Channel.SELF
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("互助需求")
        verbose_name_plural = _("互助需求")
        constraints = [
            idempotency.unique_per_community("mutualaid_need_idempotency"),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="mutualaid_need_minutes"),
            models.CheckConstraint(
                condition=Q(wanted_until__isnull=True)
                | Q(wanted_from__isnull=True)
                | Q(wanted_until__gt=models.F("wanted_from")),
                name="mutualaid_need_window",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["matched", "done"]) | Q(matched_at__isnull=False),
                name="mutualaid_need_matched_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "created_at"]),
            models.Index(fields=["community", "category", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class OfferStatus(models.TextChoices):
    ACTIVE = "active", _("提供中")
    WITHDRAWN = "withdrawn", _("已撤回")


class Offer(BaseModel):
    """A resident's standing offer of help (我能帮): category, where, when."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="aid_offers")
    category = models.CharField(_("类别"), max_length=16, choices=NeedCategory.choices)
    title = models.CharField(_("我能提供"), max_length=60)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # volunteers.Slot codes the resident is usually free in.
    slots = models.JSONField(_("可服务时段"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.ACTIVE
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        _("渠道"), max_length=8, choices=Channel.choices, default=Channel.SELF
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("互助提供")
        verbose_name_plural = _("互助提供")
        constraints = [idempotency.unique_per_community("mutualaid_offer_idempotency")]
        indexes = [
            models.Index(fields=["category", "status", "community"]),
            models.Index(fields=["category", "building"]),
        ]

    def __str__(self) -> str:
        return self.title


class PartnerStatus(models.TextChoices):
    ACTIVE = "active", _("合作中")
    SUSPENDED = "suspended", _("已暂停")


class Partner(BaseModel):
    """A 社区合伙人: an enterprise or organisation partnering with one community."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partnerships"
    )
    intro = models.CharField(_("简介"), max_length=300, blank=True)
    address = models.CharField(_("地址"), max_length=100, blank=True)
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Shown on the public 社区合伙人 list (organisation name, intro, contributions).
    public = models.BooleanField(_("公开展示"), default=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE
    )

    class Meta:
        ordering = ["community_id", "id"]
        verbose_name = _("社区合伙人")
        verbose_name_plural = _("社区合伙人")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "organisation"], name="mutualaid_partner_once"
            ),
        ]

    def __str__(self) -> str:
        return f"partner:{self.organisation_id}@{self.community_id}"


class OfferingKind(models.TextChoices):
    DISCOUNT = "discount", _("优惠折扣")
    VENUE = "venue", _("场地")
    SERVICE = "service", _("服务")


class PartnerOffering(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="offerings")
    kind = models.CharField(_("类型"), max_length=10, choices=OfferingKind.choices)
    # The need category it answers (one per offering, so retrieval stays indexed).
    category = models.CharField(_("对应需求类别"), max_length=16, choices=NeedCategory.choices)
    title = models.CharField(_("名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)

    class Meta:
        ordering = ["partner_id", "id"]
        verbose_name = _("合伙人服务")
        verbose_name_plural = _("合伙人服务")
        indexes = [models.Index(fields=["category", "is_active", "community"])]

    def __str__(self) -> str:
        return self.title


class MatchKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("志愿者")
    OFFER = "offer", _("邻居提供")
    PARTNER_SERVICE = "partner_service", _("合伙人服务")
    RESOURCE = "resource", _("共享资源")


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("待双方确认")
    NEED_ACCEPTED = "need_accepted", _("求助方已接受")
    HELPER_ACCEPTED = "helper_accepted", _("帮助方已接受")
    AGREED = "agreed", _("双方已确认")
    SETTLED = "settled", _("已完成结算")
    DECLINED = "declined", _("已婉拒")
    CANCELLED = "cancelled", _("已取消")


LIVE_MATCH = ("agreed", "settled")


class Match(BaseModel):
    """One suggestion put to both sides. The ranking's reasons are kept with it so the
    people deciding see why it was suggested."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="matches")
    kind = models.CharField(_("来源"), max_length=16, choices=MatchKind.choices)
    candidate_id = models.PositiveBigIntegerField()
    title = models.CharField(_("匹配对象"), max_length=80)
    # The helping side: a resident (volunteer/offer), a partner, or a user who owns
    # the resource; whoever it is must accept.
    helper = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="aid_matches"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="matches"
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    score = models.FloatField(_("匹配分"))
    reasons = models.JSONField(_("推荐理由"), default=list)
    status = models.CharField(
        _("状态"), max_length=16, choices=MatchStatus.choices, default=MatchStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_in = models.CharField(_("结算方式"), max_length=8, choices=SettleIn.choices, blank=True)
    settled_amount = models.PositiveIntegerField(_("结算数量"), default=0)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    ledger_tx = models.ForeignKey(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("匹配")
        verbose_name_plural = _("匹配")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "need"],
                condition=Q(status__in=LIVE_MATCH),
                name="mutualaid_one_live_match",
            ),
            models.UniqueConstraint(
                fields=["community", "need", "kind", "candidate_id"],
                name="mutualaid_match_candidate_once",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="mutualaid_match_rating_range",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=LIVE_MATCH) | Q(agreed_at__isnull=False),
                name="mutualaid_match_agreed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="settled") | Q(settled_at__isnull=False),
                name="mutualaid_match_settled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "helper", "status"]),
            models.Index(fields=["community", "partner", "status"]),
        ]

    def __str__(self) -> str:
        return f"match:{self.need_id}:{self.kind}:{self.candidate_id}"


class ContributionStatus(models.TextChoices):
    REPORTED = "reported", _("待社区确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("未通过")


class Contribution(BaseModel):
    """A service a partner delivered. Reported by the partner (or recorded by staff);
    only community staff confirm it, which credits the partner's social-responsibility
    points account on the ledger."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="contributions")
    match = models.OneToOneField(
        Match, null=True, blank=True, on_delete=models.PROTECT, related_name="contribution"
    )
    title = models.CharField(_("服务内容"), max_length=80)
    served_on = models.DateField(_("服务日期"))
    people_served = models.PositiveIntegerField(_("服务人次"), default=1)
    points = models.PositiveIntegerField(_("社会责任积分"), default=0)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=ContributionStatus.choices,
        default=ContributionStatus.REPORTED,
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    ledger_tx = models.OneToOneField(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-served_on", "-id"]
        verbose_name = _("合伙人贡献")
        verbose_name_plural = _("合伙人贡献")
        constraints = [
            idempotency.unique_per_community("mutualaid_contribution_idempotency"),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(ledger_tx__isnull=False, points__gt=0),
                name="mutualaid_contribution_confirmed_posted",
            ),
            models.CheckConstraint(
                condition=Q(people_served__gt=0), name="mutualaid_contribution_people"
            ),
        ]
        indexes = [models.Index(fields=["community", "partner", "status"])]

    def __str__(self) -> str:
        return self.title


class BuildingDistance(models.Model):
    """Walking distance between two buildings of one street, precomputed from their
    coordinates (see ``distances.py``) so ranking never computes geometry per row.
    ``community`` is the *from* building's community (the tenant of the row)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    from_building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+")
    to_building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+")
    metres = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("楼栋步行距离")
        verbose_name_plural = _("楼栋步行距离")
        constraints = [
            models.UniqueConstraint(
                fields=["from_building", "to_building"], name="mutualaid_distance_pair"
            ),
        ]
        # "the nearest buildings to B": an index-ordered range scan.
        indexes = [models.Index(fields=["from_building", "metres"])]

    def __str__(self) -> str:
        return f"{self.from_building_id}->{self.to_building_id}:{self.metres}m"
