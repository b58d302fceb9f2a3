"""Notices 信息公开 (SPEC §9): what a community publishes, to whom, on which channels,
and who has read it (read receipts give the awareness rate 知晓率)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, OrgUnit, Resident
from linli.core.models import BaseModel


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    INAPP = "inapp", _("站内消息")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    POSTER = "poster", _("公告栏张贴")


# A meeting notice must reach people both online and offline (SPEC §2). The printed
# A4 poster on the building notice board is the offline channel.
ONLINE_CHANNELS = frozenset({Channel.WEB, Channel.INAPP, Channel.SMS, Channel.WECHAT})
OFFLINE_CHANNELS = frozenset({Channel.POSTER})
# Channels that push a message through linli.core.notify when a notice is published.
PUSH_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT})


class Notice(BaseModel):
    class Audience(models.TextChoices):
        COMMUNITY = "community", _("全社区")
        BUILDINGS = "buildings", _("指定楼栋")
        COUNCIL = "council", _("议事会成员")

    class Kind(models.TextChoices):
        GENERAL = "general", _("通知公告")
        MEETING = "meeting", _("会议通知")
        RESULT = "result", _("结果公示")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.GENERAL)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("正文"))
    summary = models.CharField(_("通俗摘要"), max_length=300)
    audience = models.CharField(_("发布范围"), max_length=10, choices=Audience.choices)
    buildings = models.ManyToManyField(Building, blank=True, related_name="notices")
    # For audience "council": the members at publish time (a snapshot, so the awareness
    # rate of an old notice does not change when the council changes later).
    audience_resident_ids = models.JSONField(default=list, blank=True)
    channels = models.JSONField(_("发布渠道"), default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Visible to residents from this moment on (may be in the future: scheduled).
    publish_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notices_created"
    )
    # Where it came from (e.g. "deliberation.meeting", "12"); notices has no import of it.
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-publish_at", "-id"]
        verbose_name = _("公告")
        verbose_name_plural = _("公告")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(publish_at__isnull=False),
                name="notice_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "publish_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= timezone.now()
        )

    @property
    def has_online_channel(self) -> bool:
        return bool(set(self.channels) & ONLINE_CHANNELS)

    @property
    def has_offline_channel(self) -> bool:
        return bool(set(self.channels) & OFFLINE_CHANNELS)

    def channel_labels(self) -> list[str]:
        labels = dict(Channel.choices)
        return [str(labels.get(c, c)) for c in self.channels]


class NoticeRead(models.Model):
    """A read receipt: one per notice and user; the database refuses a second."""

    # The tenant, copied from the notice (every tenant row carries its community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The reader as a resident (None for staff): only residents count toward 知晓率.
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("阅读回执")
        verbose_name_plural = _("阅读回执")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "notice", "user"], name="notice_read_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.user_id}"


class NoticeDelivery(models.Model):
    """The sent marker: one row per notice and push channel (SMS, WeChat), written in the
    same transaction that queues the messages. The unique constraint makes sending
    idempotent — a second publish path, a rerun of the scheduler or two schedulers at
    once cannot send a notice twice on one channel."""

    # The tenant, copied from the notice (every tenant row carries its community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "notice", "channel"], name="notice_delivery_once"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "wechat"]), name="notice_delivery_push_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.channel}"
