"""诉求 (resident requests): categories with routing and time limits, the request itself,
its timeline, photos, "me too" supports and Open311 client keys.

Status changes happen only in :mod:`linli.requests.services` through the transition
table in :mod:`linli.requests.states`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class UnitKind(models.TextChoices):
    """The kind of unit a category is routed to by default."""

    PROPERTY = "property", _("物业公司")
    GRID = "grid", _("网格员")
    COMMUNITY = "community", _("社区居委会")
    DEPARTMENT = "department", _("职能部门")


class Category(BaseModel):
    """A node of the admin-editable category tree. Leaf codes double as Open311
    ``service_code`` values, so they are stable ASCII slugs."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    responsible_kind = models.CharField(
        _("默认责任单位"), max_length=12, choices=UnitKind.choices, default=UnitKind.GRID
    )
    # For department routing: matches Organisation.specialty ("城管", "交通" …).
    department_specialty = models.CharField(_("部门职能"), max_length=40, blank=True)
    # Time limits (SPEC §1 defaults); per-category overrides are just other values.
    response_hours = models.PositiveSmallIntegerField(_("响应时限（小时）"), default=24)
    plan_working_days = models.PositiveSmallIntegerField(_("复杂事项方案时限（工作日）"), default=3)
    feedback_working_days = models.PositiveSmallIntegerField(_("进度反馈时限（工作日）"), default=7)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        constraints = [
            models.CheckConstraint(
                condition=Q(response_hours__gte=1), name="cat_response_positive"
            ),
            models.CheckConstraint(
                condition=Q(feedback_working_days__gte=1), name="cat_feedback_positive"
            ),
            models.CheckConstraint(
                condition=~Q(responsible_kind="department") | ~Q(department_specialty=""),
                name="cat_department_has_specialty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已关闭")
    REJECTED = "rejected", _("不予受理")
    REOPENED = "reopened", _("已重启")
    MERGED = "merged", _("已合并")


OPEN_STATUSES = frozenset(
    {Status.SUBMITTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED}
)
FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED})


class Channel(models.TextChoices):
    APP = "app", _("居民端随手拍")
    HOTLINE = "hotline", _("热线电话")
    BOX = "box", _("意见箱")
    VISIT = "visit", _("走访/上门")
    OPEN311 = "open311", _("Open311 接入")
    API = "api", _("接口")


class DueState(models.TextChoices):
    OK = "ok", _("正常")
    SOON = "soon", _("即将到期")
    OVERDUE = "overdue", _("已超时")
    NONE = "none", _("无时限")


class DueKind(models.TextChoices):
    RESPONSE = "response", _("响应")
    PLAN = "plan", _("制定方案")
    FEEDBACK = "feedback", _("进度反馈/办结")
    WHISTLE_RESPONSE = "whistle_response", _("部门响应（吹哨）")
    WHISTLE_ONSITE = "whistle_onsite", _("部门到场（吹哨）")
    NONE = "", _("无")


class ServiceRequest(BaseModel):
    """One resident request. Tenant key: ``community``; ``grid`` is denormalised for
    the grid worker's queue and escalation."""

    # Set on INSERT by the submit service (its ``now``), not by a second UPDATE.
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("位置说明"), max_length=200, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="requests")
    description = models.TextField(_("问题描述"), max_length=2000)
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    # Known to staff, never shown to the public.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter_resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_name = models.CharField(_("反映人"), max_length=40, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    # Who handles it now: an organisation (property company, department) or an
    # administrative unit (grid, community, street).
    assignee_org = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 首接负责制: the first unit to accept stays accountable until closure.
    owner_org = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_complex = models.BooleanField(_("复杂事项"), default=False)
    is_whistle = models.BooleanField(_("吹哨派单"), default=False)
    # Deadlines, all computed on the server from the category's limits.
    response_due = models.DateTimeField(null=True, blank=True)
    plan_due = models.DateTimeField(null=True, blank=True)
    feedback_due = models.DateTimeField(null=True, blank=True)
    whistle_response_due = models.DateTimeField(null=True, blank=True)
    whistle_onsite_due = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_due_kind = models.CharField(max_length=20, choices=DueKind.choices, blank=True)
    due_state = models.CharField(
        max_length=8, choices=DueState.choices, default=DueState.OK, db_index=True
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)  # 0 grid, 1 community, 2 street
    escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Denormalised at the moment they become known, so the metrics selector
    # aggregates integers and booleans instead of date arithmetic over a million rows.
    responded_on_time = models.BooleanField(null=True, blank=True)
    cycle_seconds = models.PositiveIntegerField(null=True, blank=True)
    plan_at = models.DateTimeField(null=True, blank=True)
    onsite_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolved_on_time = models.BooleanField(null=True, blank=True)
    resolution = models.TextField(_("办理结果"), max_length=2000, blank=True)
    reject_reason = models.CharField(_("不予受理理由"), max_length=500, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    last_urged_at = models.DateTimeField(null=True, blank=True)
    urge_count = models.PositiveIntegerField(default=0)
    complaint_count = models.PositiveIntegerField(default=0)
    support_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # The reporter's opt-in: description, location text, result and photos may be shown
    # to neighbours and the public Open311 read. Off unless the reporter ticks it.
    public = models.BooleanField(_("居民选择公开"), default=False)
    # Open311 token handed out before an id is known; also an unguessable handle.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    open311_client = models.ForeignKey(
        "requests.Open311Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A client's Idempotency-Key / a form's one-time key: a replay returns this request.
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        constraints = [
            idempotency.unique_per_community("request_idempotency_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="request_rating_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="request_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="request_merged_has_target",
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__lte=2), name="request_escalation_max_street"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "created_at"]),
            models.Index(fields=["community", "created_at"]),
            models.Index(fields=["status", "next_due_at"]),
            models.Index(fields=["assignee_org", "status"]),
            models.Index(fields=["reporter", "created_at"]),
            models.Index(fields=["building", "status"]),
            # The staff queue of open items (a small share of all rows) in its order:
            # the page reads it through this partial index instead of sorting every
            # open request before taking a page.
            models.Index(
                Coalesce("next_due_at", "created_at"),
                "id",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="request_open_queue",
            ),
            models.Index(
                "community",
                Coalesce("next_due_at", "created_at"),
                "id",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="request_open_queue_comm",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category.name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def assignee_label(self) -> str:
        if self.assignee_org_id and self.assignee_org:
            return self.assignee_org.name
        if self.assignee_unit_id and self.assignee_unit:
            return self.assignee_unit.name
        return ""

    @property
    def owner_label(self) -> str:
        if self.owner_org_id and self.owner_org:
            return self.owner_org.name
        if self.owner_unit_id and self.owner_unit:
            return self.owner_unit.name
        return ""


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("提交诉求")
    TRANSITION = "transition", _("状态变更")
    REROUTED = "rerouted", _("改派")
    # The category changed after the report (e.g. 投诉 → 咨询): listed on the
    # assessment's integrity page, since it can move an item out of an indicator.
    RECATEGORISED = "recat", _("改类")
    URGED = "urged", _("催办")
    COMPLAINED = "complained", _("投诉")
    SUPPORTED = "supported", _("我也遇到（+1）")
    ESCALATED = "escalated", _("超时升级")
    ONSITE = "onsite", _("部门到场报到")
    PLAN = "plan", _("办理方案")
    NOTE = "note", _("进度反馈")
    RATED = "rated", _("满意度评价")
    PHOTO = "photo", _("上传照片")


class RequestEvent(models.Model):
    """The request's timeline. ``public`` events are shown to the resident."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    # Tenant key, copied from the request (distribution key when sharded by community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.CharField(max_length=2000, blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["community", "request", "at"])]
        verbose_name = _("诉求进度")
        verbose_name_plural = _("诉求进度")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def to_status_label(self) -> str:
        return str(Status(self.to_status).label) if self.to_status in Status.values else ""


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("问题照片")
    AFTER = "after", _("办结照片")


class RequestPhoto(BaseModel):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=PhotoKind.choices, default=PhotoKind.BEFORE)
    image = models.FileField(upload_to="requests/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")

    def __str__(self) -> str:
        return self.image.name or ""


class Support(BaseModel):
    """ "我也遇到" (+1): a resident backs an existing open request instead of a duplicate."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="supports")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "request", "user"], name="support_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id}+{self.user_id}"


class Open311Client(BaseModel):
    """A client app allowed to POST requests through Open311. Only a SHA-256 of the
    key is stored; the key is shown once when issued."""

    name = models.CharField(_("应用名称"), max_length=80)
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    contact = models.CharField(_("联系人"), max_length=120, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(_("有效"), default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接入应用")
        verbose_name_plural = _("Open311 接入应用")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# Daily aggregates of the metrics live in their own module (with the code that keeps
# them); imported here so Django registers them with the app.
from linli.requests.stats import RequestDayStat, RequestStatsState  # noqa: E402, F401
