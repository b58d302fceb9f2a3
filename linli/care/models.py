"""Care for vulnerable residents (关爱) and the sensor/alarm intake (智慧安防, SPEC §7).

* ``CareSettings`` — per-community visit plan and rule thresholds (one row, defaults).
* ``CareSubject`` — a resident on the care roster: risk tier, responsible grid worker,
  optional volunteer pair, away status, per-resident rule overrides and the stored
  ``next_due_at`` (computed only by :mod:`linli.care.schedule`).
* ``FamilyContact`` — recorded only with consent; the phone is sensitive (masked).
* ``Visit`` — a home visit or check; ``MajorEvent`` — a declared heatwave/typhoon.
* ``Device`` — a household sensor or a gateway, with its own HMAC secret (derived from
  the server key and a per-device nonce, so the database holds no secret).
* ``Reading`` — the compact high-volume table: unique on (device, at), plus
  (device, event_id) when the device sends event ids.
* ``Alert`` / ``AlertStep`` — one open alert per (device, rule) enforced by a partial
  unique index; each escalation step logged.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Household, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class Tier(models.TextChoices):
    HIGH = "high", _("高风险（每周）")
    ALONE = "alone", _("独居老人（每月至少2次）")
    MONTHLY = "monthly", _("一般关注（每月）")
    QUARTERLY = "quarterly", _("低风险（每季度）")


class CareSettings(BaseModel):
    community = models.OneToOneField(OrgUnit, on_delete=models.PROTECT, related_name="+")
    high_interval_days = models.PositiveSmallIntegerField(_("高风险走访间隔（天）"), default=7)
    event_visit_hours = models.PositiveSmallIntegerField(
        _("重大事件后走访时限（小时）"), default=24
    )
    alone_visits_per_month = models.PositiveSmallIntegerField(_("独居老人每月走访次数"), default=2)
    grace_days = models.PositiveSmallIntegerField(_("超期升级宽限（天）"), default=3)
    ack_minutes = models.PositiveSmallIntegerField(_("报警响应时限（分钟）"), default=15)
    duty_phone = models.CharField(_("社区值班电话"), max_length=20, blank=True)
    no_water_hours = models.PositiveSmallIntegerField(_("无用水报警（小时）"), default=12)
    no_water_litres = models.PositiveIntegerField(_("无用水阈值（升）"), default=10)
    leak_hours = models.PositiveSmallIntegerField(_("持续流水报警（小时）"), default=24)
    high_use_factor = models.DecimalField(
        _("用水异常倍数"), max_digits=4, decimal_places=1, default=Decimal("3.0")
    )
    high_use_min_litres = models.PositiveIntegerField(_("用水异常最低用量（升）"), default=500)
    not_seen_days = models.PositiveSmallIntegerField(_("未见活动报警（天）"), default=3)
    silent_hours = models.PositiveSmallIntegerField(_("设备离线维护（小时）"), default=6)
    # Rules switched off for the whole community (names from rules.RULES).
    rules_off = models.JSONField(_("停用的规则"), default=list, blank=True)

    class Meta:
        verbose_name = _("关爱设置")
        verbose_name_plural = _("关爱设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(ack_minutes__gte=1) & Q(high_interval_days__gte=1),
                name="care_settings_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"care-settings:{self.community_id}"


class CareSubject(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="care")
    tier = models.CharField(_("关爱等级"), max_length=10, choices=Tier.choices)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="care_subjects",
        verbose_name=_("责任网格员"),
    )
    # The volunteer pair (结对志愿者): one or two residents with accounts.
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("结对志愿者"),
    )
    volunteer2 = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("结对志愿者（二）"),
    )
    is_active = models.BooleanField(_("在册"), default=True)
    away_until = models.DateTimeField(_("外出至"), null=True, blank=True)
    away_reason = models.CharField(_("外出原因"), max_length=60, blank=True)
    # Per-resident thresholds and switches: {"no_water_hours": 8, "off": ["high_use"]}.
    overrides = models.JSONField(_("个人规则设置"), default=dict, blank=True)
    last_visit_at = models.DateTimeField(null=True, blank=True)
    # Kept by schedule.refresh() only; lists and sweeps filter on it (indexed).
    next_due_at = models.DateTimeField(null=True, blank=True)
    # The due date whose overdue escalation to the community was sent (once per due).
    escalated_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["community_id", "next_due_at"]
        verbose_name = _("关爱对象")
        verbose_name_plural = _("关爱对象")
        indexes = [
            models.Index(fields=["community", "is_active", "next_due_at"]),
            models.Index(fields=["worker", "is_active", "next_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(volunteer__isnull=True) | ~Q(volunteer=models.F("volunteer2")),
                name="care_subject_two_volunteers",
            ),
        ]

    def __str__(self) -> str:
        return f"care:{self.resident_id}"


class FamilyContact(BaseModel):
    """A relative to notify about alerts. Recorded only with the resident's (or their
    guardian's) consent; the phone is sensitive and masked outside the care team."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(CareSubject, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=40)
    relation = models.CharField(_("关系"), max_length=20)
    phone = models.CharField(_("手机号"), max_length=11)
    consent_channel = models.CharField(_("同意方式"), max_length=12)
    consent_at = models.DateTimeField(_("同意时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notify = models.BooleanField(_("报警时短信通知"), default=True)

    class Meta:
        verbose_name = _("家属联系人")
        verbose_name_plural = _("家属联系人")
        constraints = [
            models.UniqueConstraint(fields=["subject", "phone"], name="care_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


class MajorEvent(BaseModel):
    """A declared major event (高温, 台风, 寒潮 …): high-risk residents are due a visit
    within ``event_visit_hours`` of ``declared_at``."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("事件"), max_length=60)
    declared_at = models.DateTimeField(_("发布时间"), db_index=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-declared_at"]
        verbose_name = _("重大事件")
        verbose_name_plural = _("重大事件")

    def __str__(self) -> str:
        return self.title


class VisitChannel(models.TextChoices):
    SELF = "self", _("本人走访录入")
    PHONE = "phone", _("电话告知代录")
    PAPER = "paper", _("纸质记录补录")
    WECHAT = "wechat", _("微信告知代录")


class VisitKind(models.TextChoices):
    HOME = "home", _("入户走访")
    CALL = "call", _("电话问候")


CHECKLIST = (
    ("spirit", _("精神状态良好")),
    ("meals", _("饮食正常")),
    ("medicine", _("按时服药")),
    ("safety", _("居家环境安全（水电气）")),
    ("hygiene", _("个人卫生良好")),
    ("mobility", _("行动自如，无跌倒")),
)
CHECKLIST_KEYS = tuple(k for k, _label in CHECKLIST)


class Visit(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField(_("方式"), max_length=6, choices=VisitKind.choices, default="home")
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # 代办: who typed it when not the visitor, and how they learned of it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("录入方式"), max_length=8, choices=VisitChannel.choices)
    present = models.BooleanField(_("见到本人"))
    checklist = models.JSONField(_("情况良好的项目"), default=list, blank=True)
    needs = models.CharField(_("发现的需求"), max_length=300, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    photo = models.ImageField(_("照片"), upload_to="care/visits/%Y/%m/", blank=True)
    # Where a need found on the visit went (one tap): a request or a time-bank service.
    request = models.ForeignKey(
        "requests.ServiceRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activity = models.ForeignKey(
        "volunteers.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-visited_at"]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        constraints = [idempotency.unique_per_community("care_visit_idem")]
        indexes = [models.Index(fields=["subject", "visited_at"])]

    def __str__(self) -> str:
        return f"visit:{self.subject_id}@{self.visited_at:%Y-%m-%d}"


class DeviceKind(models.TextChoices):
    WATER_METER = "water_meter", _("智能水表")
    SMOKE = "smoke", _("烟感报警器")
    SOS = "sos", _("一键呼救")
    DOOR = "door", _("门磁")
    MOTION = "motion", _("人体感应")
    GATEWAY = "gateway", _("网关")


class Device(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # None only for a gateway, which forwards for the household devices behind it.
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gateway = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=DeviceKind.choices)
    serial = models.CharField(_("设备编号"), max_length=40, unique=True)
    # The secret is HMAC(server key, "care-device:<serial>:<nonce>"); a new nonce
    # rotates it. Nothing that signs readings is stored.
    secret_nonce = models.CharField(max_length=32)
    is_active = models.BooleanField(_("启用"), default=True)
    # Set once on registration; the silence rule counts from here for a new device.
    registered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("设备")
        verbose_name_plural = _("设备")
        indexes = [models.Index(fields=["community", "kind", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="gateway") | Q(household__isnull=False),
                name="care_device_household",
            ),
        ]

    def __str__(self) -> str:
        return self.serial


class Reading(models.Model):
    """One reading or event: the high-volume table (4.8 M rows a day for 100 000
    meters), so it has no created/updated columns and one composite unique index that
    also serves every per-device time-range query."""

    id = models.BigAutoField(primary_key=True)
    community_id = models.IntegerField()
    # No index of its own: the unique (device, at) index leads with the device.
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, db_constraint=False, db_index=False
    )
    at = models.DateTimeField()
    # Water meter: the meter index in litres (cumulative). Events: 1.
    value = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=8)
    event_id = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        verbose_name = _("读数")
        verbose_name_plural = _("读数")
        constraints = [
            models.UniqueConstraint(fields=["device", "at"], name="care_reading_once"),
            models.UniqueConstraint(
                fields=["device", "event_id"],
                condition=~Q(event_id=""),
                name="care_reading_event_once",
            ),
        ]
        # The time index is a BRIN on PostgreSQL (migration 0002): readings arrive in
        # time order, so a block-range index serves the sweep's "last 24 hours" scans
        # at almost no cost per insert, where a B-tree would be a third index to keep
        # up on the busiest table. Not declared here because Django's Index cannot say
        # "BRIN on PostgreSQL, B-tree on SQLite".

    def __str__(self) -> str:
        return f"{self.device_id}@{self.at:%Y-%m-%d %H:%M}"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待响应")
    ACKNOWLEDGED = "acknowledged", _("已响应")
    HELD = "held", _("外出暂挂")
    RESOLVED = "resolved", _("已处置")


OPEN_STATES = ("open", "acknowledged", "held")


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("误报")
    FINE = "fine", _("已上门，一切正常")
    HELPED = "helped", _("需要帮助，已处理")
    EMERGENCY = "emergency", _("已呼叫急救/消防")
    REPAIRED = "repaired", _("设备已检修")
    RECOVERED = "recovered", _("设备已恢复上报")


class Alert(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        CareSubject, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="alerts")
    rule = models.CharField(_("规则"), max_length=12, db_index=True)
    # Maintenance (a silent device) goes to the community, with no ladder or SMS.
    maintenance = models.BooleanField(_("维护任务"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=AlertStatus.choices, default="open", db_index=True
    )
    detected_at = models.DateTimeField(_("发现时间"))
    summary = models.CharField(_("说明"), max_length=200)
    # The readings that triggered it: [{"id", "at", "value", "kind"}, …] (≤ 60).
    evidence = models.JSONField(default=list)
    # Further triggers while open (an alarm storm is one alert with a count).
    repeats = models.PositiveIntegerField(_("重复触发"), default=0)
    step = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    ack_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("处置结果"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(_("处置说明"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("报警")
        verbose_name_plural = _("报警")
        constraints = [
            # A storm of duplicate alarms is one alert: at most one unresolved alert
            # per device and rule.
            models.UniqueConstraint(
                fields=["device", "rule"],
                condition=Q(status__in=OPEN_STATES),
                name="care_alert_one_open",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | ~Q(outcome=""),
                name="care_alert_resolved_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "detected_at"])]

    def __str__(self) -> str:
        return f"alert:{self.pk}:{self.rule}"


class AlertStep(models.Model):
    """One rung of the escalation ladder reached (0 = the grid worker)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField()
    rung = models.CharField(max_length=12)
    at = models.DateTimeField()
    notified = models.JSONField(default=list)  # masked phones / user names told
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["alert_id", "step"]
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")
        constraints = [
            models.UniqueConstraint(fields=["alert", "step"], name="care_alert_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.step}"
