"""Volunteer profiles, the skills pool 社区能人库, and activities with sign-up, waitlist,
check-in and check-out (SPEC §6). Attendance earns points or time-bank hours through
the ledger's rules (linli.ledger.services.award)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import OrgUnit, Resident
from linli.core.models import BaseModel


class SkillCategory(models.TextChoices):
    REPAIR = "repair", _("家电维修")
    PLUMBING = "plumbing", _("水电维修")
    LAW = "law", _("法律咨询")
    MEDICINE = "medicine", _("医疗保健")
    TEACHING = "teaching", _("教育辅导")
    HAIRCUT = "haircut", _("理发")
    ELDERLY_CARE = "elderly_care", _("助老陪护")
    IT = "it", _("电脑手机")
    ARTS = "arts", _("文艺书画")
    COOKING = "cooking", _("烹饪")
    PSYCHOLOGY = "psychology", _("心理疏导")
    OTHER = "other", _("其他")


class Slot(models.TextChoices):
    WEEKDAY_AM = "weekday_am", _("工作日上午")
    WEEKDAY_PM = "weekday_pm", _("工作日下午")
    WEEKDAY_EVE = "weekday_eve", _("工作日晚上")
    WEEKEND_AM = "weekend_am", _("周末上午")
    WEEKEND_PM = "weekend_pm", _("周末下午")


class VolunteerProfile(BaseModel):
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="volunteer_profiles"
    )
    resident = models.OneToOneField(
        Resident, on_delete=models.PROTECT, related_name="volunteer_profile"
    )
    intro = models.CharField(_("个人简介"), max_length=300, blank=True)
    availability = models.JSONField(_("可服务时段"), default=list, blank=True)
    # Listed in the public skills pool (name and building only) when true.
    listed = models.BooleanField(_("加入社区能人库"), default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")

    def __str__(self) -> str:
        return f"volunteer:{self.resident_id}"


class VolunteerSkill(models.Model):
    # The tenant, copied from the profile (every tenant row carries its community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="skills")
    category = models.CharField(
        _("技能类别"), max_length=16, choices=SkillCategory.choices, db_index=True
    )
    detail = models.CharField(_("具体说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "profile", "category"], name="volunteer_skill_once"
            ),
        ]

    def __str__(self) -> str:
        return self.get_category_display()


class ActivityKind(models.TextChoices):
    FESTIVAL = "festival", _("邻里节")
    GARBAGE = "garbage", _("垃圾分类督导")
    ELDERLY = "elderly", _("助老陪伴")
    CLEANUP = "cleanup", _("环境清洁")
    TRAINING = "training", _("培训")
    OTHER = "other", _("其他")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("报名中")
    CLOSED = "closed", _("报名截止")
    FINISHED = "finished", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Activity(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("类型"), max_length=10, choices=ActivityKind.choices)
    title = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("内容"), blank=True)
    location = models.CharField(_("地点"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Earning at check-out: a ledger rule kind ("volunteer_service" for points,
    # "timebank_service" for hours = minutes attended), or "" for none.
    earn_kind = models.CharField(_("积分规则"), max_length=20, blank=True)
    # Priority sign-up: until this time only residents with at least this credit level.
    priority_level = models.CharField(_("优先报名等级"), max_length=3, blank=True)
    priority_until = models.DateTimeField(_("优先报名截止"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ActivityStatus.choices, default="open"
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="activity_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class SignUpStatus(models.TextChoices):
    REGISTERED = "registered", _("已报名")
    WAITLISTED = "waitlisted", _("候补")
    CHECKED_IN = "checked_in", _("已签到")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# Statuses that hold one of the activity's places.
HOLDS_PLACE = (SignUpStatus.REGISTERED, SignUpStatus.CHECKED_IN, SignUpStatus.COMPLETED)


class SignUp(BaseModel):
    # The tenant, copied from the activity (every tenant row carries its community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="activity_signups"
    )
    status = models.CharField(_("状态"), max_length=12, choices=SignUpStatus.choices)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    awarded = models.PositiveIntegerField(_("获得积分/分钟"), default=0)
    # The 优先报名 voucher spent to sign up during the priority window (one-to-one: a
    # voucher buys exactly one early sign-up, and cancelling does not give it back).
    priority_voucher = models.OneToOneField(
        "ledger.Voucher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signup",
        verbose_name=_("优先报名券"),
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "activity", "resident"],
                condition=~Q(status="cancelled"),
                name="signup_once_per_activity",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["checked_in", "completed"])
                | Q(checked_in_at__isnull=False),
                name="signup_checked_in_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"signup:{self.activity_id}:{self.resident_id}"
