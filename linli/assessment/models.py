"""Assessment 考核评价 (SPEC §8): versioned weight sets, expert scores and the monthly
snapshots every score is read from.

A snapshot keeps the *figures* (numerators and denominators) of one community's month
and the score they gave under the weight set named on it. Quarter and year totals add
the figures of their months, so a total is a pooled rate, never an average of rates.
History is never silently recomputed: a recomputation with a written reason writes a
new revision and keeps the old one (only the newest is ``current``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.models import BaseModel


class WeightSet(BaseModel):
    """The weights of the "3+3" index for a district (or the platform default when
    ``district`` is empty). Immutable: a change is a new version, so a score always
    names the weights that produced it."""

    district = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveSmallIntegerField(_("版本"))
    # Outcome indicators (SPEC: 40/30/30), in whole percent.
    w_satisfaction = models.PositiveSmallIntegerField(_("居民满意度权重（%）"), default=40)
    w_participation = models.PositiveSmallIntegerField(_("居民参与率权重（%）"), default=30)
    w_conflict = models.PositiveSmallIntegerField(_("矛盾化解率权重（%）"), default=30)
    # Process indicators.
    w_awareness = models.PositiveSmallIntegerField(_("政策知晓率权重（%）"), default=40)
    w_normativity = models.PositiveSmallIntegerField(_("议事规范性权重（%）"), default=30)
    w_openness = models.PositiveSmallIntegerField(_("信息公开度权重（%）"), default=30)
    # How the two groups combine, and the residents' share of the satisfaction score.
    outcome_share = models.PositiveSmallIntegerField(_("结果指标占总分（%）"), default=70)
    resident_share = models.PositiveSmallIntegerField(_("居民评价占满意度（%）"), default=60)
    min_sample = models.PositiveIntegerField(_("参与排名的最少评价数"), default=30)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()  # a replayed form returns this version

    class Meta:
        ordering = ["district_id", "-version"]
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "version"],
                condition=Q(district__isnull=False),
                name="weightset_version_per_district",
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(district__isnull=True),
                name="weightset_version_default",
            ),
            models.CheckConstraint(
                condition=Q(w_satisfaction__gte=0)
                & Q(w_participation__gte=0)
                & Q(w_conflict__gte=0)
                & Q(
                    w_satisfaction=100 - F("w_participation") - F("w_conflict"),
                ),
                name="weightset_outcome_sums_100",
            ),
            models.CheckConstraint(
                condition=Q(w_awareness=100 - F("w_normativity") - F("w_openness")),
                name="weightset_process_sums_100",
            ),
            models.CheckConstraint(
                condition=Q(outcome_share__lte=100) & Q(resident_share__lte=100),
                name="weightset_shares_percent",
            ),
            models.CheckConstraint(condition=Q(min_sample__gte=1), name="weightset_min_sample"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="weightset_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class ExpertScore(BaseModel):
    """专业评估 / 第三方测评 of one community for one month (0–100), with its basis.
    It is the non-resident part of the satisfaction score (residents weigh
    ``resident_share``)."""

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", _("专业评估")
        THIRD_PARTY = "third_party", _("第三方测评")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("月份"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(_("得分"))
    basis = models.TextField(_("评分依据"), max_length=2000)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-month", "community_id"]
        verbose_name = _("专业评估")
        verbose_name_plural = _("专业评估")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month", "kind", "assessor"], name="expertscore_once"
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="expertscore_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} {self.score}"


class Snapshot(models.Model):
    """One community's month: its figures and the score they gave."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # Denormalised so a street's or district's board is one indexed read.
    street = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("月份"))
    revision = models.PositiveSmallIntegerField(default=1)
    current = models.BooleanField(default=True)
    weight_set = models.ForeignKey(WeightSet, on_delete=models.PROTECT, related_name="+")
    definitions = models.CharField(_("指标定义版本"), max_length=20)
    # {"key": number}: numerators, denominators and counts (see indicators.FIGURES).
    figures = models.JSONField(default=dict)
    # Breakdowns for the dashboards: categories, buildings, SLA buckets, funnel.
    detail = models.JSONField(default=dict)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    ci_low = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    ci_high = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    sample = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("重算原因"), max_length=500, blank=True)

    class Meta:
        ordering = ["month", "community_id"]
        verbose_name = _("月度考核快照")
        verbose_name_plural = _("月度考核快照")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month", "revision"], name="snapshot_revision_once"
            ),
            models.UniqueConstraint(
                fields=["community", "month"],
                condition=Q(current=True),
                name="snapshot_one_current",
            ),
            models.CheckConstraint(
                condition=Q(revision=1) | ~Q(reason=""), name="snapshot_recompute_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["street", "month"], condition=Q(current=True), name="snap_street"),
            models.Index(
                fields=["district", "month"], condition=Q(current=True), name="snap_district"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} r{self.revision}"


class UnitMonth(models.Model):
    """A street's, district's or city's month: the figures and breakdowns of the
    current snapshots of its communities added up, kept so a district board reads a
    dozen rows instead of thousands. Rebuilt whenever a snapshot under it is taken or
    recomputed (never typed in)."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))
    figures = models.JSONField(default=dict)
    detail = models.JSONField(default=dict)
    communities = models.PositiveIntegerField(default=0)
    # The newest weight set among the snapshots added up (a street's or district's
    # communities share their district's weights unless one was recomputed).
    weight_set = models.ForeignKey(
        WeightSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["unit_id", "month"]
        verbose_name = _("单位月度汇总")
        verbose_name_plural = _("单位月度汇总")
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="unitmonth_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"
