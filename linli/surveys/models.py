"""Surveys 需求调研 / 满意度测评 and 微心愿 wishes (SPEC §9).

Anonymity is structural: the answer tables (:class:`Response`, :class:`Answer`,
:class:`Tally`, :class:`WordCount`) have no foreign key that leads to a user, a
resident or a household — a schema test walks every forward relation to prove it.
"One answer per person" lives in :class:`Participation`, which names the person and
holds no answers; for an anonymous survey it does not point at the response either
(a check constraint), and the response keeps only the day it came in, with a random
key, so neither order nor time pairs a participation with a response.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class SurveyKind(models.TextChoices):
    SATISFACTION = "satisfaction", _("满意度测评")
    NEEDS = "needs", _("需求调研")
    ACTIVITY = "activity", _("活动反馈")
    GENERAL = "general", _("其他问卷")


class Audience(models.TextChoices):
    COMMUNITY = "community", _("全社区居民")
    BUILDINGS = "buildings", _("指定楼栋")
    GROUPS = "groups", _("指定人群")
    PUBLIC = "public", _("公开链接（无需登录）")


class Group(models.TextChoices):
    ELDERLY = "elderly", _("老年人（60岁及以上）")
    COUNCIL = "council", _("议事会成员")
    VOLUNTEERS = "volunteers", _("志愿者")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")
    PUBLISHED = "published", _("结果已公布")


class Channel(models.TextChoices):
    WEB = "web", _("线上填写")
    PUBLIC = "public", _("公开链接")
    PAPER = "paper", _("纸质问卷（代录）")
    PHONE = "phone", _("电话访问（代录）")
    VISIT = "visit", _("入户走访（代录）")


PROXY_CHANNELS = (Channel.PAPER, Channel.PHONE, Channel.VISIT)


class Survey(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="surveys")
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    kind = models.CharField(
        _("类型"), max_length=12, choices=SurveyKind.choices, default=SurveyKind.GENERAL
    )
    anonymous = models.BooleanField(_("匿名问卷"), default=True)
    audience = models.CharField(
        _("调查对象"), max_length=10, choices=Audience.choices, default=Audience.COMMUNITY
    )
    audience_buildings = models.JSONField(_("楼栋"), default=list, blank=True)
    audience_groups = models.JSONField(_("人群"), default=list, blank=True)
    # The secret of the public link (/surveys/p/<token>/); empty unless audience=public.
    public_token = models.CharField(max_length=32, blank=True, db_index=True)
    opens_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    # Repeated surveys (the monthly satisfaction survey) share a series: the trend chart.
    series = models.CharField(_("系列"), max_length=40, blank=True, db_index=True)
    # [{"title": str, "condition": {...} | None}], page n = pages[n - 1].
    pages = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        constraints = [
            idempotency.unique_per_community("survey_idempotency_key"),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True)
                | Q(opens_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="survey_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=~Q(audience="public") | ~Q(public_token=""),
                name="survey_public_has_token",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    TEXT = "text", _("填空")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    RATING = "rating", _("评分（1–5）")
    MATRIX = "matrix", _("矩阵")
    RANKING = "ranking", _("排序")
    BUILDING = "building", _("选择楼栋")
    HOUSEHOLD = "household", _("选择房屋")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKING)


class Question(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField()
    page = models.PositiveIntegerField(default=1)
    code = models.CharField(_("题号"), max_length=40)
    kind = models.CharField(_("题型"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=300)
    help = models.CharField(_("提示"), max_length=300, blank=True)
    required = models.BooleanField(_("必答"), default=True)
    # Choice labels (single/multiple/ranking) or the matrix's scale; value = index + 1.
    options = models.JSONField(default=list, blank=True)
    rows = models.JSONField(default=list, blank=True)  # matrix rows
    min_choices = models.PositiveSmallIntegerField(null=True, blank=True)
    max_choices = models.PositiveSmallIntegerField(null=True, blank=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(default=500)
    # Show or skip this question by an earlier answer: {"q", "op", "value", "then"}.
    condition = models.JSONField(null=True, blank=True)
    # Jump forward after this question: [{"op", "value", "to": code | "end"}].
    jumps = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["survey_id", "position"]
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "position"], name="question_position_unique"
            ),
            models.UniqueConstraint(
                fields=["community", "survey", "code"], name="question_code_unique"
            ),
            models.CheckConstraint(condition=Q(page__gte=1), name="question_page_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.text}"


class Response(models.Model):
    """One submitted questionnaire. No link to a person (see the module docstring); the
    random key and the day-only date keep it from being paired with a participation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    submitted_on = models.DateField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Coarse groups for cross-tabs (hidden below 5 answers per group).
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    age_band = models.CharField(max_length=8, blank=True)

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        indexes = [models.Index(fields=["community", "survey"])]

    def __str__(self) -> str:
        return f"response:{self.survey_id}"


class Answer(models.Model):
    """One value of a response: a chosen option (one row per option for multiple
    choice and ranking, one per row for a matrix), a number, a text or a date."""

    id = models.BigAutoField(primary_key=True)
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # Matrix row (1-based) or the rank position; 0 otherwise.
    row = models.PositiveSmallIntegerField(default=0)
    # Option value (1-based), rating 1–5, matrix scale value, or building id.
    option = models.IntegerField(null=True, blank=True)
    number = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("答案")
        verbose_name_plural = _("答案")
        indexes = [models.Index(fields=["community", "survey", "question"])]

    def __str__(self) -> str:
        return f"answer:{self.question_id}"


class Participation(models.Model):
    """Who has answered (one per person: unique keys), never what they answered. For a
    named survey ``response`` says which response is theirs; for an anonymous one it is
    always empty (check constraint)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="participations")
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A public-link visitor: a random id kept in their browser session (weaker than an
    # account, said on the page).
    visitor = models.CharField(max_length=64, blank=True)
    anonymous = models.BooleanField()
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_on = models.DateField()

    class Meta:
        verbose_name = _("参与记录")
        verbose_name_plural = _("参与记录")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "resident"],
                condition=Q(resident__isnull=False),
                name="participation_once_per_resident",
            ),
            models.UniqueConstraint(
                fields=["community", "survey", "visitor"],
                condition=~Q(visitor=""),
                name="participation_once_per_visitor",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | ~Q(visitor=""),
                name="participation_names_someone",
            ),
            models.CheckConstraint(
                condition=Q(anonymous=False) | Q(response__isnull=True),
                name="participation_anonymous_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return f"participation:{self.survey_id}"


class Tally(models.Model):
    """Running counts per (question, row, option, building, age band), added to in the
    same transaction as each response: result pages read these few thousand rows
    instead of grouping millions of answers. ``total`` sums number answers."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    row = models.PositiveSmallIntegerField(default=0)
    option = models.IntegerField(default=0)
    building_id_key = models.BigIntegerField(default=0)  # 0 = not known
    age_band = models.CharField(max_length=8, blank=True)
    n = models.IntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        verbose_name = _("计数")
        verbose_name_plural = _("计数")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "community",
                    "survey",
                    "question",
                    "row",
                    "option",
                    "building_id_key",
                    "age_band",
                ],
                name="tally_cell_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"tally:{self.question_id}:{self.row}:{self.option}"


class WordCount(models.Model):
    """Keyword frequencies of free-text answers (jieba), counted at submit."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    word = models.CharField(max_length=20)
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("关键词")
        verbose_name_plural = _("关键词")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "question", "word"], name="wordcount_unique"
            ),
        ]

    # --------------------------------------------------------------------------- 微心愿

    def __str__(self) -> str:
        return self.word


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("正在生成")
    READY = "ready", _("可以下载")
    FAILED = "failed", _("生成失败")


class AnswerExport(BaseModel):
    """An answers export (Excel or CSV) made in the background for a large survey,
    kept for the staff who read the results to download (through a checked view,
    never a public address). The file holds the same rows as the direct download."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    fmt = models.CharField(_("格式"), max_length=4, choices=[("xlsx", "Excel"), ("csv", "CSV")])
    status = models.CharField(
        _("状态"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to="survey-exports/%Y/%m/", blank=True)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("答卷导出")
        verbose_name_plural = _("答卷导出")
        indexes = [models.Index(fields=["community", "survey", "fmt", "status"])]

    def __str__(self) -> str:
        return f"export:{self.survey_id}:{self.fmt}"


class WishGroup(models.TextChoices):
    ELDERLY = "elderly", _("老人")
    CHILD = "child", _("儿童")
    LOW_INCOME = "low_income", _("困难家庭")
    DISABLED = "disabled", _("残疾人")
    OTHER = "other", _("其他居民")


class WishStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    PUBLISHED = "published", _("待认领")
    REJECTED = "rejected", _("未通过")
    CLAIMED = "claimed", _("已认领")
    FULFILLED = "fulfilled", _("已圆梦待确认")
    CONFIRMED = "confirmed", _("心愿已实现")
    WITHDRAWN = "withdrawn", _("已撤回")


class Wish(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="wishes")
    wisher = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="wishes")
    group = models.CharField(_("心愿人群"), max_length=10, choices=WishGroup.choices)
    # The wisher's own words: seen by the wisher and staff only.
    title = models.CharField(_("心愿"), max_length=60)
    detail = models.TextField(_("详细说明"), blank=True)
    # What the public wall shows, written by staff without personal details.
    public_title = models.CharField(_("公开标题"), max_length=60, blank=True)
    public_text = models.CharField(_("公开说明"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=WishStatus.choices, default=WishStatus.SUBMITTED
    )
    channel = models.CharField(_("提交方式"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fulfil_note = models.CharField(_("圆梦说明"), max_length=300, blank=True)
    photo = models.FileField(upload_to="wishes/%Y/%m/", blank=True)
    points_awarded = models.PositiveIntegerField(default=0)
    topic = models.ForeignKey(
        "deliberation.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("微心愿")
        verbose_name_plural = _("微心愿")
        constraints = [
            idempotency.unique_per_community("wish_idempotency_key"),
            models.CheckConstraint(
                condition=~Q(status__in=["published", "claimed", "fulfilled", "confirmed"])
                | ~Q(public_title=""),
                name="wish_published_has_public_title",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["claimed", "fulfilled", "confirmed"])
                | Q(claimed_by__isnull=False),
                name="wish_claimed_has_claimer",
            ),
        ]

    def __str__(self) -> str:
        return self.public_title or self.title


class WishClaim(BaseModel):
    """A claim on a wish. At most one active claim per wish, held by the database."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    wish = models.ForeignKey(Wish, on_delete=models.PROTECT, related_name="claims")
    claimer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("认领")
        verbose_name_plural = _("认领")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "wish"], condition=Q(active=True), name="wish_one_active_claim"
            ),
        ]

    def __str__(self) -> str:
        return f"claim:{self.wish_id}"
