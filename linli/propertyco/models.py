"""物业红黑榜 (SPEC §8): property companies scored per community each quarter.

* :class:`Criteria` — the published scoring rule, versioned. Five weighted parts
  (residents: request ratings, the monthly survey's 物业服务 row; staff: on-time and
  resolution rates of the requests the company handled, community inspections), the
  minimum sample and the red/black rule. The database refuses weights that do not
  add up to 100. A score names the version that produced it.
* :class:`Inspection` — a community inspection of one building: checklist items with
  pass/fail, a note, an optional photo.
* :class:`Board` — one street's quarter (计算 → 公布). Its :class:`Score` rows are
  computed from the records, never typed in, and keep the ids of the requests and
  inspections they were computed from (the evidence).
* :class:`RegisterEntry` — the city-wide register (不良名录): a company black-listed
  in two consecutive quarters in a community is barred from new tenders for three
  years and the owners' committee may start its dismissal; the company may appeal
  with a written reason, decided by a street officer or the platform admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Organisation, OrgUnit
from linli.core import idempotency
from linli.core.models import BaseModel

# (key, label, side): the five parts of a score. "resident" parts are the residents'
# evaluation; "staff" parts are the community's and street's.
COMPONENTS: tuple[tuple[str, str | Promise, str], ...] = (
    ("rating", _("居民诉求评价"), "resident"),
    ("survey", _("满意度测评·物业服务"), "resident"),
    ("ontime", _("诉求按时办结率"), "staff"),
    ("resolution", _("诉求办结率"), "staff"),
    ("inspection", _("社区检查合格率"), "staff"),
)
COMPONENT_KEYS = tuple(k for k, _l, _s in COMPONENTS)
DEFAULT_WEIGHTS = {"rating": 30, "survey": 30, "ontime": 15, "resolution": 15, "inspection": 10}


class Criteria(BaseModel):
    """One published version of the scoring rule (global: the city's rule)."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    w_rating = models.PositiveSmallIntegerField(_("居民诉求评价权重"))
    w_survey = models.PositiveSmallIntegerField(_("满意度测评权重"))
    w_ontime = models.PositiveSmallIntegerField(_("按时办结率权重"))
    w_resolution = models.PositiveSmallIntegerField(_("办结率权重"))
    w_inspection = models.PositiveSmallIntegerField(_("检查合格率权重"))
    # A score needs at least this many residents' evaluations (ratings + survey
    # answers) and at least one staff record (a request or an inspection).
    min_sample = models.PositiveSmallIntegerField(_("最少样本数"), default=10)
    red_percent = models.PositiveSmallIntegerField(_("红榜比例（%）"), default=20)
    red_min_score = models.DecimalField(_("红榜最低分"), max_digits=5, decimal_places=2, default=85)
    black_percent = models.PositiveSmallIntegerField(_("黑榜比例（%）"), default=10)
    black_below = models.DecimalField(
        _("黑榜分数线（低于）"), max_digits=5, decimal_places=2, default=70
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("评分标准")
        verbose_name_plural = _("评分标准")
        constraints = [
            models.CheckConstraint(
                condition=Exact(
                    F("w_rating")
                    + F("w_survey")
                    + F("w_ontime")
                    + F("w_resolution")
                    + F("w_inspection"),
                    100,
                ),
                name="propertyco_weights_sum_100",
            ),
            models.CheckConstraint(
                condition=Q(red_percent__lte=100) & Q(black_percent__lte=100),
                name="propertyco_percent_max_100",
            ),
            models.CheckConstraint(condition=Q(min_sample__gte=1), name="propertyco_min_sample"),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"

    @property
    def weights(self) -> dict[str, int]:
        return {k: int(getattr(self, f"w_{k}")) for k in COMPONENT_KEYS}


class Inspection(BaseModel):
    """A community inspection of one building's property services."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    # The building's company on the day (a building may change company later).
    company = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    inspected_on = models.DateField(_("检查日期"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # [{"item": "楼道保洁", "passed": true}, ...]
    items = models.JSONField(_("检查项目"), default=list)
    passed = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    # Staff text: shown to staff and the company, never on the public board.
    note = models.CharField(_("检查说明"), max_length=1000, blank=True)
    photo = models.ImageField(_("照片"), upload_to="propertyco/%Y/%m/", blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = _("物业检查")
        verbose_name_plural = _("物业检查")
        constraints = [
            idempotency.unique_per_community("propertyco_inspection_idem"),
            models.CheckConstraint(
                condition=Q(total__gte=1) & Q(passed__lte=F("total")),
                name="propertyco_inspection_counts",
            ),
        ]
        indexes = [models.Index(fields=["community", "company", "inspected_on"])]

    def __str__(self) -> str:
        return f"{self.building} {self.inspected_on}"

    @property
    def pass_rate(self) -> float:
        return round(100 * self.passed / self.total, 1) if self.total else 0.0


class BoardStatus(models.TextChoices):
    COMPUTED = "computed", _("已计算（未公布）")
    PUBLISHED = "published", _("已公布")


class Board(BaseModel):
    """One street's quarter (global: a street is above the tenant level)."""

    street = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    criteria = models.ForeignKey(Criteria, on_delete=models.PROTECT, related_name="boards")
    status = models.CharField(
        _("状态"), max_length=10, choices=BoardStatus.choices, default=BoardStatus.COMPUTED
    )
    computed_at = models.DateTimeField(null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-year", "-quarter", "street_id"]
        verbose_name = _("季度红黑榜")
        verbose_name_plural = _("季度红黑榜")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "year", "quarter"], name="propertyco_board_unique"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="propertyco_quarter_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.quarter}季度"


class Listing(models.TextChoices):
    RED = "red", _("红榜")
    BLACK = "black", _("黑榜")
    NONE = "", _("—")


class Score(models.Model):
    """One company in one community in one quarter, computed by the board."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="scores")
    company = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    rating_avg = models.DecimalField(max_digits=4, decimal_places=2, null=True)  # 1–5
    rating_n = models.PositiveIntegerField(default=0)
    survey_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True)  # %
    survey_n = models.PositiveIntegerField(default=0)
    ontime_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    ontime_n = models.PositiveIntegerField(default=0)
    resolution_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    request_n = models.PositiveIntegerField(default=0)
    inspection_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    inspection_n = models.PositiveIntegerField(default=0)
    # None: too few evaluations to score (样本不足), not ranked.
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    rank = models.PositiveSmallIntegerField(null=True)
    listing = models.CharField(max_length=5, choices=Listing.choices, blank=True, default="")
    # The evidence: ids of the requests and inspections the score was computed from.
    request_ids = models.JSONField(default=list)
    inspection_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["rank", "community_id", "company_id"]
        verbose_name = _("季度得分")
        verbose_name_plural = _("季度得分")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "board", "company"], name="propertyco_score_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="propertyco_score_0_100",
            ),
            models.CheckConstraint(
                condition=Q(listing="") | Q(score__isnull=False),
                name="propertyco_listed_has_score",
            ),
        ]
        indexes = [models.Index(fields=["company", "listing"])]

    def __str__(self) -> str:
        return f"{self.company_id}@{self.community_id} {self.score}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.request_ids or self.inspection_ids)


class EntryStatus(models.TextChoices):
    LISTED = "listed", _("已列入")
    APPEALED = "appealed", _("申诉中")
    UPHELD = "upheld", _("申诉驳回，维持列入")
    REVOKED = "revoked", _("申诉成立，已撤销")


ACTIVE_ENTRY = (EntryStatus.LISTED, EntryStatus.APPEALED, EntryStatus.UPHELD)


class RegisterEntry(BaseModel):
    """The city-wide register (物业服务企业不良名录): barred from new tenders until
    ``bars_until``; the owners' committee of ``community`` may start the dismissal."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    first_score = models.ForeignKey(Score, on_delete=models.PROTECT, related_name="+")
    second_score = models.ForeignKey(Score, on_delete=models.PROTECT, related_name="+")
    listed_on = models.DateField(_("列入日期"))
    bars_until = models.DateField(_("禁止投标至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.LISTED
    )
    # Snapshot at listing: the two scores, the request and inspection ids.
    evidence = models.JSONField(default=dict)
    appeal_reason = models.CharField(_("申诉理由"), max_length=1000, blank=True)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appealed_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("复核意见"), max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-listed_on", "-id"]
        verbose_name = _("不良名录")
        verbose_name_plural = _("不良名录")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "company", "second_score"], name="propertyco_entry_unique"
            ),
            models.CheckConstraint(
                condition=Q(bars_until__gt=F("listed_on")), name="propertyco_bar_after_listing"
            ),
            models.CheckConstraint(
                condition=~Q(status="appealed") | ~Q(appeal_reason=""),
                name="propertyco_appeal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.listed_on}–{self.bars_until}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ENTRY
