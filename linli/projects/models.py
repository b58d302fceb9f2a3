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
    # Community fund: expenses above this need a second staff member's approval.
    dual_approval_fen = models.BigIntegerField(_("双人审批门槛（分）"), default=500_000)
    # Published conversion rule: this many points donated to the public fund are worth
    # one yuan of money in the community fund.
    points_per_yuan = models.PositiveIntegerField(_("积分折算（积分/元）"), default=100)

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
        IN_PROGRESS = "in_progress", _("实施中")
        DELIVERED = "delivered", _("已验收")
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
    delivered_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    # Two failed evaluations in a row stop the funding (no further expenses).
    funding_cut = models.BooleanField(_("已停止资助"), default=False)
    # A recurring project (常态化项目, e.g. a yearly round of stairwell cleaning) is a
    # series of projects run by the same group: each later round points at the first.
    # Two failed evaluations in a row anywhere in the series cut the whole series.
    series = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="later_rounds",
        verbose_name=_("常态化项目（第一期）"),
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


class DeliveryPhase(models.Model):
    """A phase of carrying out a filed project (设计 1 周、采购 1 周、施工 2 周、验收 1 天…)
    with its owner, dates and progress; a phase past its due date and not done is late."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("阶段"), max_length=40)
    owner = models.CharField(_("负责人"), max_length=60)
    starts_on = models.DateField(_("开始日期"))
    due_on = models.DateField(_("完成期限"))
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["project", "position"], name="projects_phase_pos"),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="projects_phase_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("due_on")), name="projects_phase_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Feedback(models.Model):
    """A resident's rating (1–5) and comment on a delivered project, one each."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="feedback")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("评价"), max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "resident"], name="projects_feedback_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="projects_feedback_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.rating}"


class Evaluation(models.Model):
    """The evaluation after delivery and again after six months, on published criteria
    (a score 0–100; 60 passes)."""

    class Round(models.TextChoices):
        DELIVERY = "delivery", _("验收后评估")
        SIX_MONTHS = "six_months", _("六个月后评估")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(MicroProject, on_delete=models.CASCADE, related_name="evaluations")
    round = models.CharField(_("轮次"), max_length=12, choices=Round.choices)
    score = models.PositiveSmallIntegerField(_("得分"))
    passed = models.BooleanField()
    note = models.CharField(_("评估意见"), max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "round"], name="projects_evaluation_once"),
            models.CheckConstraint(condition=Q(score__lte=100), name="projects_evaluation_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.round}"


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


# --------------------------------------------------------------------------- PB


class Programme(BaseModel):
    """A call with a fixed budget (社区营造): proposals → expert review → public vote →
    results → implementation. Its rules (budget, ballot, method, criteria) are fixed
    once the first phase starts (``rules_locked_at``); a phase's dates once it starts."""

    class Phase(models.TextChoices):
        DRAFT = "draft", _("筹备中")
        PROPOSALS = "proposals", _("征集提案")
        REVIEW = "review", _("专家评审")
        VOTING = "voting", _("公众投票")
        RESULTS = "results", _("结果公示")
        IMPLEMENTATION = "implementation", _("项目实施")
        CLOSED = "closed", _("已结束")

    class BallotKind(models.TextChoices):
        APPROVAL = "approval", _("限选投票（最多选 k 项）")
        KNAPSACK = "knapsack", _("预算投票（所选项目合计不超过总预算）")

    class Unit(models.TextChoices):
        RESIDENT = "resident", _("每位居民一票")
        HOUSEHOLD = "household", _("每户一票")

    class Method(models.TextChoices):
        GREEDY = "greedy", _("按票数从高到低（贪心）")
        MES = "mes", _("平等份额法（Method of Equal Shares）")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="programmes")
    title = models.CharField(_("名称"), max_length=80)
    description = models.TextField(_("说明"), blank=True)
    budget_fen = models.BigIntegerField(_("总预算（分）"))
    ballot_kind = models.CharField(_("投票方式"), max_length=10, choices=BallotKind.choices)
    max_choices = models.PositiveSmallIntegerField(_("最多可选项目数"), null=True, blank=True)
    unit = models.CharField(_("投票单位"), max_length=10, choices=Unit.choices)
    method = models.CharField(_("分配方法"), max_length=8, choices=Method.choices)
    # Shortlist: projects whose weighted review score (×100) reaches this go to the vote.
    shortlist_min_score = models.PositiveSmallIntegerField(_("入围最低分（×100）"), default=600)
    proposals_opens = models.DateTimeField(_("征集开始"))
    review_opens = models.DateTimeField(_("评审开始"))
    voting_opens = models.DateTimeField(_("投票开始"))
    voting_closes = models.DateTimeField(_("投票截止"))
    phase = models.CharField(_("阶段"), max_length=16, choices=Phase.choices, default=Phase.DRAFT)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    rules_locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("社区营造计划")
        verbose_name_plural = _("社区营造计划")
        constraints = [
            idempotency.unique_per_community("projects_programme_idempotency"),
            models.CheckConstraint(
                condition=Q(budget_fen__gt=0), name="projects_programme_budget_positive"
            ),
            models.CheckConstraint(
                condition=~Q(ballot_kind="approval") | Q(max_choices__gte=1),
                name="projects_programme_approval_has_k",
            ),
            models.CheckConstraint(
                condition=Q(proposals_opens__lte=models.F("review_opens"))
                & Q(review_opens__lte=models.F("voting_opens"))
                & Q(voting_opens__lt=models.F("voting_closes")),
                name="projects_programme_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(phase="draft") | Q(rules_locked_at__isnull=False),
                name="projects_programme_started_locked",
            ),
        ]
        indexes = [models.Index(fields=["community", "phase"])]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    """A published review criterion: each reviewer scores 1–10, weighted."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("评审标准"), max_length=60)
    weight = models.PositiveSmallIntegerField(_("权重"))

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "position"], name="projects_criterion_pos"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=100), name="projects_criterion_weight"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PBProject(BaseModel):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        SHORTLISTED = "shortlisted", _("入围投票")
        NOT_SHORTLISTED = "not_shortlisted", _("未入围")
        FUNDED = "funded", _("获得资助")
        NOT_FUNDED = "not_funded", _("未获资助")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("项目名称"), max_length=80)
    description = models.TextField(_("项目说明"))
    cost_fen = models.BigIntegerField(_("预算（分）"))
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposer = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    # Weighted mean of the review scores × 100 (set when the vote opens).
    score = models.PositiveIntegerField(null=True, blank=True)
    votes = models.PositiveIntegerField(default=0)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["programme_id", "id"]
        verbose_name = _("参与式预算项目")
        verbose_name_plural = _("参与式预算项目")
        constraints = [
            idempotency.unique_per_community("projects_pbproject_idempotency"),
            models.CheckConstraint(
                condition=Q(cost_fen__gt=0), name="projects_pbproject_cost_positive"
            ),
        ]
        indexes = [models.Index(fields=["community", "programme", "status"])]

    def __str__(self) -> str:
        return self.title


class Reviewer(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Published with the scores: who the reviewer is (e.g. 规划师, 物业代表).
    title = models.CharField(_("身份"), max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="projects_reviewer_once")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.user_id}"


class Conflict(models.Model):
    """A reviewer's declared conflict of interest: they do not score that project."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(Reviewer, on_delete=models.CASCADE, related_name="conflicts")
    project = models.ForeignKey(PBProject, on_delete=models.CASCADE, related_name="conflicts")
    note = models.CharField(_("利益关系说明"), max_length=200)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reviewer", "project"], name="projects_conflict_once")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id}x{self.project_id}"


class Score(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(Reviewer, on_delete=models.CASCADE, related_name="scores")
    project = models.ForeignKey(PBProject, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    value = models.PositiveSmallIntegerField(_("分数"))
    comment = models.CharField(_("评语"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reviewer", "project", "criterion"], name="projects_score_once"
            ),
            models.CheckConstraint(
                condition=Q(value__gte=1) & Q(value__lte=10), name="projects_score_1_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value}"


class PBBallot(models.Model):
    """One ballot per eligible resident — or per household, as the programme says —
    held by the database: two partial unique keys, one per unit, so concurrent
    submissions for the same voter cannot both commit."""

    class BallotChannel(models.TextChoices):
        ONLINE = "online", _("线上")
        PAPER = "paper", _("纸质（两名工作人员录入）")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="ballots")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    per_household = models.BooleanField()
    channel = models.CharField(max_length=8, choices=BallotChannel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total_fen = models.BigIntegerField()
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "programme", "resident"],
                condition=Q(per_household=False),
                name="projects_ballot_one_per_resident",
            ),
            models.UniqueConstraint(
                fields=["community", "programme", "household"],
                condition=Q(per_household=True),
                name="projects_ballot_one_per_household",
            ),
            models.CheckConstraint(
                condition=~Q(channel="paper")
                | (
                    Q(entered_by__isnull=False)
                    & Q(second_staff__isnull=False)
                    & ~Q(entered_by=models.F("second_staff"))
                ),
                name="projects_ballot_paper_two_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"ballot#{self.pk}"


class PBChoice(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    ballot = models.ForeignKey(PBBallot, on_delete=models.CASCADE, related_name="choices")
    project = models.ForeignKey(PBProject, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "project"], name="projects_choice_once")
        ]

    def __str__(self) -> str:
        return f"{self.ballot_id}:{self.project_id}"


class Allocation(models.Model):
    """The outcome of one method on the closed vote (both are computed and published;
    ``Programme.method`` says which one decides)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="allocations")
    method = models.CharField(max_length=8, choices=Programme.Method.choices)
    funded = models.JSONField(default=list)
    spent_fen = models.BigIntegerField()
    details = models.JSONField(default=dict)
    voters = models.PositiveIntegerField()
    satisfied = models.PositiveIntegerField()
    by_group = models.JSONField(default=dict)
    seconds = models.FloatField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "method"], name="projects_allocation_once"
            ),
            models.CheckConstraint(condition=Q(spent_fen__gte=0), name="projects_allocation_spent"),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.method}"


class Override(models.Model):
    """An administrator's change to the computed result, published with its reason."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="overrides")
    project = models.ForeignKey(PBProject, on_delete=models.PROTECT, related_name="overrides")
    funded = models.BooleanField()
    reason = models.CharField(_("理由"), max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="projects_override_has_reason")
        ]

    def __str__(self) -> str:
        return f"override:{self.project_id}"


# --------------------------------------------------------------------------- fund


class FundMovement(BaseModel):
    """One income or expense of the community fund 社区基金. The money itself is on the
    double-entry ledger (currency ``fen``): ``transaction`` is the posting. An expense
    above the two-person threshold waits (``pending``) for a second staff member and
    is posted only on approval; an expense is always against an approved (filed)
    micro-project's budget line and never beyond what is left on that line."""

    class Kind(models.TextChoices):
        INCOME = "income", _("收入")
        EXPENSE = "expense", _("支出")

    class Source(models.TextChoices):
        DONATION = "donation", _("居民/单位捐款")
        CHARITY_SALE = "charity_sale", _("义卖")
        GRANT = "grant", _("政府/基金会资助")
        PARTNER = "partner", _("共建单位出资")
        POINTS = "points", _("积分按规则折算")
        PROJECT = "project", _("项目支出")

    class Status(models.TextChoices):
        PENDING = "pending", _("待第二人审批")
        POSTED = "posted", _("已入账")
        REJECTED = "rejected", _("未批准")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(_("来源/用途"), max_length=14, choices=Source.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    # Donor: published only with their consent (公示捐赠人姓名).
    donor_name = models.CharField(_("捐赠人"), max_length=60, blank=True)
    donor_consent = models.BooleanField(_("同意公示姓名"), default=False)
    memo = models.CharField(_("摘要"), max_length=200)
    budget_line = models.ForeignKey(
        BudgetLine, null=True, blank=True, on_delete=models.PROTECT, related_name="expenses"
    )
    # Receipts are for staff and auditors; the public sees the totals.
    receipt = models.FileField(upload_to="fund/%Y/%m/", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("不批准理由"), max_length=200, blank=True)
    transaction = models.OneToOneField(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_movement",
    )
    posted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name = _("基金收支")
        verbose_name_plural = _("基金收支")
        constraints = [
            idempotency.unique_per_community("projects_fund_idempotency"),
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="projects_fund_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="expense") | Q(budget_line__isnull=False),
                name="projects_fund_expense_has_line",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted")
                | (Q(transaction__isnull=False) & Q(posted_at__isnull=False)),
                name="projects_fund_posted_has_tx",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("recorded_by")),
                name="projects_fund_two_people",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "posted_at"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.amount_fen}"
