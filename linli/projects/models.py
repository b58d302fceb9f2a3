"""Micro-projects 微更新 and their fast track (SPEC §5).

Money is integer fen (1 yuan = 100 fen) everywhere: budgets, lines and settings. A
float never touches an amount; pages parse and print yuan with :mod:`linli.projects.money`.

A micro-project is proposed by a group of residents. It collects co-signatures (one per
household, enforced by a unique key) while ``gathering``; the proposer submits it when
enough households have signed, and it runs the fast track 居民提议 → 社区审核 →
街道备案 (``states.MICRO``), each step with a deadline on the working calendar.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Household, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class ProjectSettings(BaseModel):
    """Per-community knobs for the fast track (defaults follow the seeds: 5 000–50 000
    yuan, three households, the whole path within 7 days)."""

    community = models.OneToOneField(
        OrgUnit, on_delete=models.CASCADE, related_name="project_settings"
    )
    min_households = models.PositiveSmallIntegerField(_("最少联名户数"), default=3)
    min_budget_fen = models.BigIntegerField(_("预算下限（分）"), default=500_000)
    max_budget_fen = models.BigIntegerField(_("预算上限（分）"), default=5_000_000)
    review_days = models.PositiveSmallIntegerField(_("社区审核时限（工作日）"), default=3)
    filing_days = models.PositiveSmallIntegerField(_("街道备案时限（工作日）"), default=2)
    total_days = models.PositiveSmallIntegerField(_("全流程时限（自然日）"), default=7)

    class Meta:
        verbose_name = _("微更新设置")
        verbose_name_plural = _("微更新设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_budget_fen__gt=0)
                & Q(min_budget_fen__lte=models.F("max_budget_fen")),
                name="projects_settings_budget_range",
            ),
            models.CheckConstraint(
                condition=Q(min_households__gte=1), name="projects_settings_households"
            ),
            models.CheckConstraint(
                condition=Q(review_days__gte=1) & Q(filing_days__gte=1),
                name="projects_settings_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"project-settings:{self.community_id}"


class Channel(models.TextChoices):
    """How a resident action reached the system: the resident themself online, or a
    staff member recording it for them (代办)."""

    ONLINE = "online", _("本人线上")
    COUNTER = "counter", _("窗口代办")
    PHONE = "phone", _("电话代办")
    VISIT = "visit", _("上门代办")
    PAPER = "paper", _("纸质录入")


class MicroProject(BaseModel):
    class Status(models.TextChoices):
        GATHERING = "gathering", _("征集联名")
        PROPOSED = "proposed", _("居民提议·待社区审核")
        REVIEWED = "reviewed", _("社区审核通过·待街道备案")
        FILED = "filed", _("街道已备案")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="micro_projects")
    title = models.CharField(_("项目名称"), max_length=80)
    problem = models.TextField(_("要解决的问题"))
    plan = models.TextField(_("实施方案"))
    place = models.CharField(_("地点"), max_length=100)
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Sum of the budget lines, kept with them in the same transaction.
    budget_fen = models.BigIntegerField(_("预算（分）"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.GATHERING
    )
    # The resident who proposed; empty only for a project made from a council topic
    # that staff had raised (the council's resolution stands for the residents).
    proposer = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who typed it in: the proposer, or staff recording it for them (代办, ``channel``).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        _("渠道"), max_length=8, choices=Channel.choices, default=Channel.ONLINE
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    review_due = models.DateTimeField(_("社区审核截止"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("社区审核时间"), null=True, blank=True)
    filing_due = models.DateTimeField(_("街道备案截止"), null=True, blank=True)
    filed_at = models.DateTimeField(_("街道备案时间"), null=True, blank=True)
    # The whole path's limit (submission + total_days), shown to the proposers.
    path_due = models.DateTimeField(_("全流程截止"), null=True, blank=True)
    decision_reason = models.CharField(_("驳回理由"), max_length=500, blank=True)
    # A topic that passed the 议事厅's five steps can become a project; its evidence
    # (resolution text, ballot, linked requests) stays reachable through the topic.
    topic = models.OneToOneField(
        "deliberation.Topic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="micro_project",
    )
    evidence = models.JSONField(_("依据"), default=dict, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("微更新项目")
        verbose_name_plural = _("微更新项目")
        constraints = [
            idempotency.unique_per_community("projects_micro_idempotency"),
            models.CheckConstraint(
                condition=Q(budget_fen__gt=0), name="projects_micro_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(proposer__isnull=False) | Q(topic__isnull=False),
                name="projects_micro_has_origin",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""),
                name="projects_micro_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["gathering", "withdrawn"])
                | (Q(submitted_at__isnull=False) & Q(review_due__isnull=False)),
                name="projects_micro_submitted_has_deadline",
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return self.title


class BudgetLine(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    item = models.CharField(_("预算项"), max_length=80)
    amount_fen = models.BigIntegerField(_("金额（分）"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="projects_line_amount_positive"
            ),
            models.UniqueConstraint(fields=["project", "position"], name="projects_line_position"),
        ]

    def __str__(self) -> str:
        return self.item


class CoSigner(models.Model):
    """One household backing a proposal (the proposer's own household is the first).
    The unique key makes a household count once, however many of its members sign."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="cosigners")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("联名户")
        verbose_name_plural = _("联名户")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "household"], name="projects_cosign_once_per_household"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.household_id}"


class ProjectPhoto(BaseModel):
    class Kind(models.TextChoices):
        PROPOSAL = "proposal", _("现状")
        BEFORE = "before", _("施工前")
        AFTER = "after", _("完工后")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROPOSAL)
    image = models.FileField(upload_to="projects/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("项目照片")
        verbose_name_plural = _("项目照片")

    def __str__(self) -> str:
        return f"photo#{self.pk}"


class MicroStep(models.Model):
    """The project's timeline: one row per move of the fast track."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    # Whether the step was taken after its deadline (kept for the street's statistics).
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}->{self.to_status}"
