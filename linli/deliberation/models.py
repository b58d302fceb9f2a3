"""Deliberation council 议事厅 (SPEC §2): councils and their composition rules, topics
through the five steps, meetings with notice rules, certified deliberators, and
resolutions tracked as action items."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class DeliberationSettings(BaseModel):
    """Per-community thresholds (SPEC §2: "thresholds configurable per community").
    A community without a row uses the defaults below."""

    community = models.OneToOneField(
        OrgUnit, on_delete=models.CASCADE, related_name="deliberation_settings"
    )
    young_age_below = models.PositiveSmallIntegerField(_("青年年龄上限（不含）"), default=35)
    min_young = models.PositiveSmallIntegerField(_("青年成员至少"), default=2)
    elderly_age_from = models.PositiveSmallIntegerField(_("老年年龄下限（含）"), default=60)
    min_elderly = models.PositiveSmallIntegerField(_("老年成员至少"), default=2)
    min_tenants = models.PositiveSmallIntegerField(_("租户成员至少"), default=1)
    min_tenant_percent = models.PositiveSmallIntegerField(_("租户占比至少（%）"), default=20)
    min_resident_rep_percent = models.PositiveSmallIntegerField(
        _("共治委员会居民代表占比至少（%）"), default=50
    )
    # Quorum as an exact fraction, "以上" inclusive: present * den >= members * num.
    quorum_numerator = models.PositiveSmallIntegerField(_("法定到会比例分子"), default=2)
    quorum_denominator = models.PositiveSmallIntegerField(_("法定到会比例分母"), default=3)
    materials_days = models.PositiveSmallIntegerField(_("议题材料提前公布天数"), default=7)
    notice_days = models.PositiveSmallIntegerField(_("会议通知提前天数"), default=3)
    objection_days = models.PositiveSmallIntegerField(_("公示异议期（天）"), default=7)
    practice_meetings_required = models.PositiveSmallIntegerField(
        _("议事员认证所需实践次数"), default=2
    )

    class Meta:
        verbose_name = _("议事规则设置")
        verbose_name_plural = _("议事规则设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum_denominator__gt=0)
                & Q(quorum_numerator__lte=F("quorum_denominator")),
                name="delib_settings_quorum_fraction",
            ),
            models.CheckConstraint(
                condition=Q(min_tenant_percent__lte=100) & Q(min_resident_rep_percent__lte=100),
                name="delib_settings_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"settings:{self.community_id}"


class Council(BaseModel):
    class Kind(models.TextChoices):
        COUNCIL = "council", _("居民议事会")
        COMMITTEE = "committee", _("共建共治共享委员会")
        SUPERVISION = "supervision", _("居民监督小组")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="councils")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("议事组织")
        verbose_name_plural = _("议事组织")
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], name="council_one_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class CouncilMember(BaseModel):
    class Type(models.TextChoices):
        RESIDENT = "resident", _("居民代表")
        UNIT = "unit", _("驻区单位/物业/社会组织代表")
        STAFF = "staff", _("社区工作者")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="members")
    member_type = models.CharField(
        _("身份"), max_length=10, choices=Type.choices, default="resident"
    )
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="council_seats"
    )
    # Non-resident members (unit representatives) are named directly.
    name = models.CharField(_("姓名"), max_length=40, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.CharField(_("职务"), max_length=20, default="成员")
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("离任日期"), null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["council_id", "id"]
        verbose_name = _("成员")
        verbose_name_plural = _("成员")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "council", "resident"],
                condition=Q(is_active=True, resident__isnull=False),
                name="council_member_once",
            ),
            models.CheckConstraint(
                condition=~Q(member_type="resident") | Q(resident__isnull=False),
                name="council_member_resident_has_resident",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | ~Q(name=""),
                name="council_member_has_name",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.resident.name if self.resident_id and self.resident else self.name


class Topic(BaseModel):
    class Source(models.TextChoices):
        RESIDENT = "resident", _("居民提议")
        STAFF = "staff", _("社区提出")
        WISH = "wish", _("微心愿")
        INSIGHT = "insight", _("高频诉求分析")

    class Step(models.TextChoices):
        PROPOSED = "proposed", _("提议")
        DISCUSSING = "discussing", _("商议")
        REVIEWING = "reviewing", _("审议")
        RESOLVING = "resolving", _("决议")
        PUBLICISED = "publicised", _("公示")
        CLOSED = "closed", _("已办结")
        REJECTED = "rejected", _("未采纳")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="topics")
    title = models.CharField(_("议题"), max_length=120)
    description = models.TextField(_("说明"))
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=60, blank=True)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topics_proposed"
    )
    step = models.CharField(
        _("阶段"), max_length=12, choices=Step.choices, default=Step.PROPOSED, db_index=True
    )
    # 决议: the ballot in the voting app (nullable until the vote opens).
    ballot = models.ForeignKey(
        "voting.Ballot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 公示
    result_text = models.TextField(_("决议结果"), blank=True)
    result_passed = models.BooleanField(null=True, blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    objections_until = models.DateTimeField(_("异议期截止"), null=True, blank=True)
    idempotency_key = idempotency.key_field()  # a replayed proposal returns this topic

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        constraints = [
            idempotency.unique_per_community("topic_idempotency_unique"),
            models.CheckConstraint(
                condition=~Q(step__in=["publicised", "closed"])
                | (Q(published_at__isnull=False) & Q(objections_until__isnull=False)),
                name="topic_publicised_has_window",
            ),
        ]
        indexes = [models.Index(fields=["community", "step"])]

    def __str__(self) -> str:
        return self.title


class TopicTransition(models.Model):
    """Who moved the topic from which step to which, when, and why (append-only)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="transitions")
    from_step = models.CharField(max_length=12, choices=Topic.Step.choices)
    to_step = models.CharField(max_length=12, choices=Topic.Step.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("议题流转记录")
        verbose_name_plural = _("议题流转记录")

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.from_step}→{self.to_step}"


class TopicComment(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("意见"))
    idempotency_key = idempotency.key_field()  # a replayed post returns this comment

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("商议意见")
        verbose_name_plural = _("商议意见")
        constraints = [idempotency.unique_per_community("topic_comment_idempotency_unique")]

    def __str__(self) -> str:
        return self.body[:30]


class ReviewNote(BaseModel):
    class Aspect(models.TextChoices):
        FEASIBILITY = "feasibility", _("可行性")
        BUDGET = "budget", _("预算")
        LAW = "law", _("合法合规")
        OTHER = "other", _("其他")

    class Conclusion(models.TextChoices):
        OK = "ok", _("通过")
        CONCERN = "concern", _("有条件通过")
        NOT_OK = "not_ok", _("不通过")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="review_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    aspect = models.CharField(_("审议方面"), max_length=12, choices=Aspect.choices)
    conclusion = models.CharField(_("结论"), max_length=8, choices=Conclusion.choices)
    body = models.TextField(_("审议意见"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("审议意见")
        verbose_name_plural = _("审议意见")

    def __str__(self) -> str:
        return f"{self.aspect}:{self.conclusion}"


class Objection(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="objections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("异议内容"))
    response = models.TextField(_("答复"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")

    def __str__(self) -> str:
        return self.body[:30]


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", _("线下")
    ONLINE = "online", _("线上")
    HYBRID = "hybrid", _("线上+线下")


class MeetingSeries(BaseModel):
    """A recurring meeting such as 周三议事日: occurrences are generated as Meetings."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="meeting_series")
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="series")
    title = models.CharField(_("名称"), max_length=60)
    weekday = models.PositiveSmallIntegerField(_("星期（0=周一）"))
    start_time = models.TimeField(_("开始时间"))
    duration_minutes = models.PositiveSmallIntegerField(_("时长（分钟）"), default=90)
    location = models.CharField(_("地点"), max_length=120, blank=True)
    mode = models.CharField(max_length=10, choices=MeetingMode.choices, default="in_person")
    online_url = models.URLField(_("线上会议链接"), blank=True)

    class Meta:
        verbose_name = _("例会")
        verbose_name_plural = _("例会")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="series_weekday_range"),
        ]

    def __str__(self) -> str:
        return self.title


class Meeting(BaseModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待召开")
        HELD = "held", _("已召开")
        NOT_CONVENED = "not_convened", _("未达法定人数，未召开")
        CANCELLED = "cancelled", _("已取消")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="meetings")
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="meetings")
    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    title = models.CharField(_("会议名称"), max_length=120)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    location = models.CharField(_("地点"), max_length=120, blank=True)
    mode = models.CharField(_("形式"), max_length=10, choices=MeetingMode.choices)
    online_url = models.URLField(_("线上会议链接"), blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.SCHEDULED)
    materials = models.TextField(_("会议材料"), blank=True)
    materials_published_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(
        "notices.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.TextField(_("会议纪要"), blank=True)
    members_total = models.PositiveSmallIntegerField(null=True, blank=True)
    members_present = models.PositiveSmallIntegerField(null=True, blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("议事会议")
        verbose_name_plural = _("议事会议")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after"
            ),
            models.UniqueConstraint(
                fields=["series", "starts_at"],
                condition=Q(series__isnull=False),
                name="meeting_series_occurrence_once",
            ),
            models.CheckConstraint(
                condition=~Q(mode="online") | ~Q(online_url=""),
                name="meeting_online_has_url",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="agenda_items")
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "meeting", "topic"], name="agenda_topic_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.topic_id}"


class Attendance(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("现场出席")
        ONLINE = "online", _("线上出席")
        PROXY = "proxy", _("委托出席")
        ABSENT = "absent", _("缺席")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="attendance")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    proxy_name = models.CharField(_("受托人"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("出席记录")
        verbose_name_plural = _("出席记录")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "meeting", "member"], name="attendance_once"
            ),
            models.CheckConstraint(
                condition=~Q(mode="proxy") | ~Q(proxy_name=""), name="attendance_proxy_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.member_id}:{self.mode}"


class Deliberator(BaseModel):
    """A resident training as, or certified as, a 社区议事员."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="deliberators")
    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="deliberator")
    certified_at = models.DateTimeField(null=True, blank=True)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("社区议事员")
        verbose_name_plural = _("社区议事员")

    def __str__(self) -> str:
        return str(self.resident_id)

    @property
    def is_certified(self) -> bool:
        return self.certified_at is not None


class DeliberatorActivity(BaseModel):
    class Kind(models.TextChoices):
        TRAINING = "training", _("培训")
        PRACTICE = "practice", _("实践会议")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    deliberator = models.ForeignKey(
        Deliberator, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    on = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=120, blank=True)
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "deliberator", "meeting"],
                condition=Q(meeting__isnull=False),
                name="deliberator_practice_meeting_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deliberator_id}:{self.kind}:{self.on}"


class SkillAssessment(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    deliberator = models.ForeignKey(
        Deliberator, on_delete=models.CASCADE, related_name="assessments"
    )
    score = models.PositiveSmallIntegerField(_("议事能力评分（1–10）"))
    assessed_on = models.DateField(_("评估日期"))
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("评语"), max_length=200, blank=True)

    class Meta:
        ordering = ["assessed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=10), name="skill_score_1_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deliberator_id}:{self.score}"


class ActionItem(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", _("未开始")
        IN_PROGRESS = "in_progress", _("推进中")
        DONE = "done", _("已完成")
        BLOCKED = "blocked", _("受阻")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="action_items")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="action_items")
    title = models.CharField(_("事项"), max_length=120)
    owner_name = models.CharField(_("责任人/单位"), max_length=60)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(_("完成期限"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    progress_percent = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    latest_note = models.CharField(_("最新进展"), max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("决议落实事项")
        verbose_name_plural = _("决议落实事项")
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_percent__lte=100), name="action_progress_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(progress_percent=100) & Q(done_at__isnull=False)),
                name="action_done_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ActionUpdate(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=ActionItem.Status.choices)
    progress_percent = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=300)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.progress_percent}"


class SupervisionReview(BaseModel):
    """The supervision group's monthly review of all open action items (published)."""

    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="supervision_reviews"
    )
    month = models.DateField(_("月份（该月1日）"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("监督意见"))
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    items_overdue = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("月度监督评议")
        verbose_name_plural = _("月度监督评议")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month"], name="supervision_review_monthly"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id}:{self.month:%Y-%m}"


class TopicEvidence(models.Model):
    """The requests (诉求) behind a topic suggested from frequent requests: the evidence
    the council sees when it deliberates, and what marks a cluster as already taken up."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="evidence")
    request = models.ForeignKey(
        "requests.ServiceRequest", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["topic_id", "request_id"]
        verbose_name = _("议题依据")
        verbose_name_plural = _("议题依据")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "topic", "request"], name="topic_evidence_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.request_id}"
