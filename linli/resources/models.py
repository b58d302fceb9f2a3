"""The shared resource pool 资源池 and its booking calendar (SPEC §6).

* A :class:`Resource` is a venue (meeting room, activity room, a school playground after
  hours), a piece of equipment (ladder, tool box, wheelchair) or an idle item a resident
  lends or gives away (闲置共享). It belongs to the community that lists it (its tenant)
  and is owned by the community itself, a partner organisation or a resident. Its rules
  say who may book, for how long at most, the deposit in points, whether a booking needs
  approval and whether residents of the other communities of the same street may book.
* :class:`OpeningHours` are weekly windows; a booking lies inside one window on one day,
  and holidays of the working calendar (``linli.core.calendar``) are closed unless the
  resource says otherwise.
* A :class:`Booking` holds ``[starts_at, ends_at)`` on one resource. No two live bookings
  of a resource overlap, and the DATABASE refuses it: on PostgreSQL an exclusion
  constraint over ``tstzrange(starts_at, ends_at, '[)')`` (btree_gist), on SQLite a
  trigger — both created in migration 0002; services check first for a clear message.
  Back-to-back bookings touch (one ends at 10:00, the next starts at 10:00) without
  overlapping.
* A :class:`BookingSeries` is a recurring booking (every Wednesday evening for three
  months); its occurrences are ordinary bookings, so the same constraint covers them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("场地")
    EQUIPMENT = "equipment", _("设备工具")
    ITEM = "item", _("闲置物品")


class OwnerKind(models.TextChoices):
    COMMUNITY = "community", _("社区")
    PARTNER = "partner", _("合作单位")
    RESIDENT = "resident", _("居民")


class ShareMode(models.TextChoices):
    LEND = "lend", _("借用（用后归还）")
    GIVE = "give", _("赠送（送完即止）")


class BookableBy(models.TextChoices):
    RESIDENTS = "residents", _("居民和工作人员")
    STAFF = "staff", _("仅社区工作人员")


class ShareScope(models.TextChoices):
    COMMUNITY = "community", _("本社区")
    STREET = "street", _("本街道各社区")


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", _("可预约")
    SUSPENDED = "suspended", _("暂停预约")
    RETIRED = "retired", _("已下架")


class Resource(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="resources")
    kind = models.CharField(_("类型"), max_length=10, choices=ResourceKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    owner_kind = models.CharField(
        _("所有者"), max_length=10, choices=OwnerKind.choices, default=OwnerKind.COMMUNITY
    )
    owner_org = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
        verbose_name=_("所属单位"),
    )
    owner_resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shared_resources",
        verbose_name=_("所属居民"),
    )
    building = models.ForeignKey(
        Building,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
        verbose_name=_("所在楼栋"),
    )
    location = models.CharField(_("位置"), max_length=100, blank=True)
    share_mode = models.CharField(
        _("共享方式"), max_length=6, choices=ShareMode.choices, default=ShareMode.LEND
    )
    # Rules set by the owner.
    bookable_by = models.CharField(
        _("谁可预约"), max_length=10, choices=BookableBy.choices, default=BookableBy.RESIDENTS
    )
    share_scope = models.CharField(
        _("开放范围"), max_length=10, choices=ShareScope.choices, default=ShareScope.COMMUNITY
    )
    max_minutes = models.PositiveIntegerField(_("单次最长（分钟）"), default=120)
    max_advance_days = models.PositiveIntegerField(_("最多提前预约（天）"), default=120)
    deposit_points = models.PositiveIntegerField(_("押金（积分）"), default=0)
    approval_required = models.BooleanField(_("需要审批"), default=False)
    # Bookings by residents of other communities of the street need approval even when
    # the owner's own residents do not.
    outside_approval = models.BooleanField(_("外社区预约需审批"), default=True)
    open_on_holidays = models.BooleanField(_("节假日开放"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["community_id", "kind", "name"]
        verbose_name = _("共享资源")
        verbose_name_plural = _("共享资源")
        constraints = [
            models.CheckConstraint(
                condition=~Q(owner_kind="partner") | Q(owner_org__isnull=False),
                name="resource_partner_has_org",
            ),
            models.CheckConstraint(
                condition=~Q(owner_kind="resident") | Q(owner_resident__isnull=False),
                name="resource_resident_owner_set",
            ),
            models.CheckConstraint(
                condition=Q(max_minutes__gte=15) & Q(max_minutes__lte=24 * 60),
                name="resource_max_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(share_mode="lend") | Q(kind="item"), name="resource_give_only_items"
            ),
            idempotency.unique_per_community("resource_idem_once"),
        ]
        indexes = [models.Index(fields=["community", "status", "kind"])]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One weekly window (Monday = 0). Several windows a day are allowed (08–12, 14–18)."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("星期"))
    opens = models.TimeField(_("开始"))
    closes = models.TimeField(_("结束"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("开放时间")
        verbose_name_plural = _("开放时间")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_valid"),
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="hours_closes_after"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ResourcePhoto(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="resources/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("资源照片")
        verbose_name_plural = _("资源照片")

    def __str__(self) -> str:
        return f"resource-photo:{self.pk}"


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    CONFIRMED = "confirmed", _("已确认")
    CHECKED_OUT = "checked_out", _("使用中")
    RETURNED = "returned", _("已归还")
    HANDED_OVER = "handed_over", _("已送出")
    CANCELLED = "cancelled", _("已取消")
    REJECTED = "rejected", _("未通过")
    NO_SHOW = "no_show", _("爽约")


# The statuses that hold the time slot: the no-overlap constraint covers exactly these
# (migration 0002 repeats the list in SQL; a test keeps the two equal).
LIVE_STATUSES = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT)


class Channel(models.TextChoices):
    SELF = "self", _("本人")
    PHONE = "phone", _("电话代办")
    VISIT = "visit", _("上门代办")
    DESK = "desk", _("窗口代办")


class DepositState(models.TextChoices):
    NONE = "none", _("无押金")
    HELD = "held", _("已冻结")
    RELEASED = "released", _("已退还")
    FORFEITED = "forfeited", _("已扣除")


class Condition(models.TextChoices):
    GOOD = "good", _("完好")
    WORN = "worn", _("正常磨损")
    DAMAGED = "damaged", _("有损坏")
    LOST = "lost", _("遗失")


class BookingSeries(BaseModel):
    """A recurring booking: the same weekly slot from ``first_date`` to ``last_date``."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="series")
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"))
    start_time = models.TimeField(_("开始"))
    end_time = models.TimeField(_("结束"))
    first_date = models.DateField(_("首次"))
    last_date = models.DateField(_("截止"))
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    # What the conflict report said when it was confirmed: [[date, reason], ...].
    skipped = models.JSONField(_("跳过的日期"), default=list, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        verbose_name = _("周期预约")
        verbose_name_plural = _("周期预约")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_date__gte=F("first_date")), name="series_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="series_times_ordered"
            ),
            idempotency.unique_per_community("series_idem_once"),
        ]

    def __str__(self) -> str:
        return f"series:{self.resource_id}:{self.weekday}"


class Booking(BaseModel):
    # The tenant is the resource's community: the no-overlap rule is per resource, so
    # every booking of a resource lives with it (a street-shared booking from another
    # community keeps that community in ``booker_community``).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    series = models.ForeignKey(
        BookingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    # Who it is for: a resident (their user, if any, sees it) or a staff member booking
    # a room for community work (``resident`` empty).
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resource_bookings",
    )
    booker_community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        _("渠道"), max_length=6, choices=Channel.choices, default=Channel.SELF
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(_("状态"), max_length=12, choices=BookingStatus.choices)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    deposit_points = models.PositiveIntegerField(_("押金（积分）"), default=0)
    deposit_state = models.CharField(
        _("押金"), max_length=10, choices=DepositState.choices, default=DepositState.NONE
    )
    deposit_tx = models.ForeignKey(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    checked_out_at = models.DateTimeField(_("取用时间"), null=True, blank=True)
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checkout_note = models.CharField(_("取用时状况"), max_length=300, blank=True)
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_condition = models.CharField(
        _("归还状况"), max_length=8, choices=Condition.choices, blank=True
    )
    return_note = models.CharField(_("归还说明"), max_length=300, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["checked_out", "returned", "handed_over"])
                | Q(checked_out_at__isnull=False),
                name="booking_checked_out_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | Q(returned_at__isnull=False),
                name="booking_returned_has_time",
            ),
            models.CheckConstraint(
                condition=Q(deposit_state="none") | Q(deposit_points__gt=0),
                name="booking_deposit_consistent",
            ),
            idempotency.unique_per_community("booking_idem_once"),
        ]
        indexes = [
            models.Index(fields=["community", "resource", "starts_at"]),
            models.Index(fields=["community", "status", "starts_at"]),
            models.Index(fields=["resident", "status"]),
        ]

    def __str__(self) -> str:
        return f"booking:{self.resource_id}:{self.starts_at:%Y-%m-%d %H:%M}"


class PhotoKind(models.TextChoices):
    CHECKOUT = "checkout", _("取用时")
    RETURN = "return", _("归还时")


class BookingPhoto(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=8, choices=PhotoKind.choices)
    image = models.FileField(upload_to="resources/bookings/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("预约照片")
        verbose_name_plural = _("预约照片")

    def __str__(self) -> str:
        return f"booking-photo:{self.pk}"
