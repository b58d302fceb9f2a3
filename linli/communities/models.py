"""Tenancy: city → district → street → community → grid → building → household → resident.

The administrative levels (city … grid) share one table, ``OrgUnit``, with a
materialised ``path`` ("/1/4/9/"), so "everything under this street" is one indexed
prefix filter and a membership can be scoped to any level. ``Community``, ``Street``
and ``Grid`` are proxies so other apps can write ``ForeignKey(Community)``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.core import idempotency
from linli.core.models import BaseModel


class OrgUnit(BaseModel):
    class Kind(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")
        GRID = "grid", _("网格")

    PARENT_KIND: ClassVar[dict[str, str | None]] = {
        "city": None,
        "district": "city",
        "street": "district",
        "community": "street",
        "grid": "community",
    }

    kind = models.CharField(_("层级"), max_length=10, choices=Kind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=80)
    code = models.CharField(_("编码"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("行政单元")
        verbose_name_plural = _("行政单元")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="city", parent__isnull=True)
                | (~Q(kind="city") & Q(parent__isnull=False)),
                name="orgunit_parent_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"], name="orgunit_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[OrgUnit]:
        ids = [int(p) for p in self.path.strip("/").split("/") if p]
        by_id = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def ancestor_of_kind(self, kind: str) -> OrgUnit | None:
        if self.kind == kind:
            return self
        for u in self.ancestors():
            if u.kind == kind:
                return u
        return None

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)


class _KindManager(models.Manager["OrgUnit"]):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def get_queryset(self) -> models.QuerySet[OrgUnit]:
        return super().get_queryset().filter(kind=self.kind)


class City(OrgUnit):
    objects = _KindManager("city")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = _("市")
        verbose_name_plural = _("市")


class Street(OrgUnit):
    objects = _KindManager("street")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = _("街道")
        verbose_name_plural = _("街道")


class Community(OrgUnit):
    objects = _KindManager("community")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = _("社区")
        verbose_name_plural = _("社区")


class Grid(OrgUnit):
    objects = _KindManager("grid")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = _("网格")
        verbose_name_plural = _("网格")


class Organisation(BaseModel):
    """A unit outside the residents' committee that work is routed to or that takes part:
    property companies, city departments, social organisations, partner enterprises."""

    class Kind(models.TextChoices):
        PROPERTY = "property", _("物业公司")
        DEPARTMENT = "department", _("职能部门")
        SOCIAL_ORG = "social_org", _("社会组织")
        ENTERPRISE = "enterprise", _("驻区单位/企业")
        # 建设单位: owns the units it has not sold or not yet delivered; those count
        # together as one owner in an owners' vote (法释〔2009〕7号 art. 9).
        DEVELOPER = "developer", _("开发建设单位")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    # Department specialty (城管, 交通, 民政 …) used for routing.
    specialty = models.CharField(_("职能"), max_length=40, blank=True)
    # Where it works: a department usually its district/city, a property company the
    # communities it serves (see ``communities``).
    scope = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="organisations")
    communities = models.ManyToManyField(OrgUnit, blank=True, related_name="served_by")
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.UniqueConstraint(fields=["scope", "kind", "name"], name="org_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(BaseModel):
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="community_buildings"
    )
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(_("楼栋"), max_length=40)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("层数"), default=6)
    # WGS-84 centre; used for "within 100 m" duplicate checks and maps.
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    property_company = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="buildings"
    )

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="building_unique_in_community"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Household(BaseModel):
    class Tenure(models.TextChoices):
        OWNER = "owner", _("业主")
        TENANT = "tenant", _("租户")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="households")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    unit = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("房号"), max_length=10)
    # Floor area matters for owners' votes (民法典 art. 278): exact decimals, never floats.
    area_m2 = models.DecimalField(_("面积（㎡）"), max_digits=8, decimal_places=2)
    tenure = models.CharField(_("产权状态"), max_length=6, choices=Tenure.choices)

    class Meta:
        ordering = ["building_id", "unit", "room"]
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "room"], name="household_unique_address"
            ),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="household_area_positive"),
        ]

    def __str__(self) -> str:
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building.name}{unit}{self.room}"

    @property
    def address(self) -> str:
        return str(self)

    def address_with(self, building_name: str) -> str:
        """The address when the building's name was read alongside (no extra query)."""
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{building_name}{unit}{self.room}"


class SpecialGroup(models.TextChoices):
    """Special-group tags. Some are sensitive (medical or financial) and need approval."""

    LIVING_ALONE = "living_alone", _("独居老人")
    EMPTY_NEST = "empty_nest", _("空巢老人")
    DISABLED = "disabled", _("残疾人")
    LOW_INCOME = "low_income", _("低保")
    CHRONIC = "chronic", _("慢性病")
    VETERAN = "veteran", _("退役军人")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")


# Sensitivity tier of each tag: None = basic, otherwise the grant scope needed.
SENSITIVE_TAGS: dict[str, str] = {
    SpecialGroup.DISABLED: "medical",
    SpecialGroup.CHRONIC: "medical",
    SpecialGroup.LOW_INCOME: "financial",
}


class Resident(BaseModel):
    class Tier(models.TextChoices):
        REPRESENTATIVE = "representative", _("居民代表（深度）")
        LIAISON = "liaison", _("楼栋联络员（中度）")
        ACTIVE = "active", _("热心居民（轻度）")
        NONE = "none", _("一般居民")

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        OTHER = "other", _("其他")

    class Gender(models.TextChoices):
        MALE = "m", _("男")
        FEMALE = "f", _("女")

    # Denormalised tenancy keys: every query filters by them without joins.
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="community_residents"
    )
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="grid_residents")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
    )
    name = models.CharField(_("姓名"), max_length=40)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"))
    relation = models.CharField(
        _("与户主关系"), max_length=8, choices=Relation.choices, default="head"
    )
    # Sensitive: masked in lists, readable only under a time-limited grant.
    phone = models.CharField(_("手机号"), max_length=11, blank=True, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    tags = models.JSONField(_("特殊群体标签"), default=list, blank=True)
    tier = models.CharField(_("参与层级"), max_length=16, choices=Tier.choices, default="none")
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        ordering = ["community_id", "household_id", "id"]
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900) & Q(birth_year__lte=2100),
                name="resident_birth_year_range",
            ),
        ]
        indexes = [models.Index(fields=["community", "grid"])]

    def __str__(self) -> str:
        return self.name

    def age(self, year: int) -> int:
        return year - self.birth_year

    @property
    def basic_tags(self) -> list[str]:
        return [t for t in self.tags if t not in SENSITIVE_TAGS]

    @property
    def sensitive_tags(self) -> list[str]:
        return [t for t in self.tags if t in SENSITIVE_TAGS]


class PrivacySetting(BaseModel):
    """隐私保护模式: a resident decides who else may see their optional data."""

    class Visibility(models.TextChoices):
        STAFF = "staff", _("仅社区工作人员")
        NEIGHBOURS = "neighbours", _("同楼栋邻居")
        PUBLIC = "public", _("公开")

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE, related_name="privacy")
    show_name_publicly = models.BooleanField(_("公开显示真实姓名"), default=False)
    phone_visibility = models.CharField(
        _("手机号可见范围"), max_length=12, choices=Visibility.choices, default="staff"
    )
    skills_visibility = models.CharField(
        _("技能特长可见范围"), max_length=12, choices=Visibility.choices, default="neighbours"
    )
    # The public 社区名人堂 needs no login: a resident appears there only if they agreed.
    hall_of_fame_consent = models.BooleanField(_("同意在社区名人堂展示"), default=False)
    # A short code the resident gives a neighbour who served them (time bank), so
    # nobody has to search residents by name. Made when first shown to its owner.
    share_code = models.CharField(
        _("时间银行服务码"), max_length=8, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        verbose_name = _("隐私设置")
        verbose_name_plural = _("隐私设置")

    def __str__(self) -> str:
        return f"privacy:{self.resident_id}"


class SensitiveGrantRequest(BaseModel):
    """A request for a time-limited sensitive-data grant (四眼原则).

    A secretary asks; the grant (``accounts.SensitiveAccessGrant``) exists only once a
    *different* authorised person — another secretary of the community or a street
    officer covering it — approves. Nobody may ask for themself, and neither the
    requester nor the grantee may approve. Pending or refused requests open nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已拒绝")

    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="sensitive_grant_requests"
    )
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(_("范围"), max_length=10)
    reason = models.CharField(_("用途说明"), max_length=200)
    days = models.PositiveSmallIntegerField(_("有效天数"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default="pending", db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    grant = models.OneToOneField(
        "accounts.SensitiveAccessGrant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("敏感数据授权申请")
        verbose_name_plural = _("敏感数据授权申请")
        constraints = [
            models.CheckConstraint(
                condition=~Q(grantee=models.F("requested_by")), name="grant_request_not_self"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | (~Q(decided_by=models.F("requested_by")) & ~Q(decided_by=models.F("grantee"))),
                name="grant_request_other_approver",
            ),
        ]

    def __str__(self) -> str:
        return f"grant-request:{self.pk}:{self.status}"


class OutsideOwner(BaseModel):
    """An owner (业主) of a unit in the community who is not on the resident roster,
    e.g. a landlord whose flat is let to tenants. Identified by ID number when known,
    so the same person owning several units is one owner."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=40)
    # Sensitive like a resident's: masked in lists.
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    # A double-submitted registration (without an ID number to recognise the person
    # by) creates nothing twice.
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["community_id", "id"]
        verbose_name = _("非住户业主")
        verbose_name_plural = _("非住户业主")
        constraints = [
            idempotency.unique_per_community("outsideowner_idempotency_unique"),
            models.UniqueConstraint(
                fields=["community", "id_number"],
                condition=~Q(id_number=""),
                name="outsideowner_unique_id_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Ownership(BaseModel):
    """Who owns an exclusive unit (专有部分, a ``Household``), with share and period.

    The owner is exactly one of: a resident on the roster, an outside owner, or the
    developer (an ``Organisation`` of kind developer). A unit may have several
    co-owners; their active shares add up to 1 — checked by the service that sets a
    unit's owners (it replaces them all at once, so no half-written state exists),
    while the database holds what can be held per row: one active row per owner and
    unit, 0 < share ≤ 1, at most one representative per unit.

    "Active" means ``until`` is empty: ending an ownership sets ``until``, the row
    stays as history.
    """

    class DeveloperStatus(models.TextChoices):
        NONE = "", _("—")
        UNSOLD = "unsold", _("未出售")
        UNDELIVERED = "undelivered", _("已出售未交付")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="ownerships")
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="ownerships"
    )
    outside_owner = models.ForeignKey(
        OutsideOwner, null=True, blank=True, on_delete=models.PROTECT, related_name="ownerships"
    )
    developer = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="ownerships"
    )
    share = models.DecimalField(_("产权份额"), max_digits=5, decimal_places=4, default=1)
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("终止日期"), null=True, blank=True)
    # The co-owners' agreed representative for votes (共有人推选的代表).
    is_representative = models.BooleanField(_("共有人代表"), default=False)
    # Developer's units only: unsold or sold but not delivered (they count as one).
    developer_status = models.CharField(
        _("建设单位房屋状态"),
        max_length=12,
        choices=DeveloperStatus.choices,
        blank=True,
        default="",
    )

    class Meta:
        ordering = ["community_id", "household_id", "id"]
        verbose_name = _("产权")
        verbose_name_plural = _("产权")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(resident__isnull=False)
                    & Q(outside_owner__isnull=True)
                    & Q(developer__isnull=True)
                )
                | (
                    Q(resident__isnull=True)
                    & Q(outside_owner__isnull=False)
                    & Q(developer__isnull=True)
                )
                | (
                    Q(resident__isnull=True)
                    & Q(outside_owner__isnull=True)
                    & Q(developer__isnull=False)
                ),
                name="ownership_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(share__gt=0) & Q(share__lte=1), name="ownership_share_range"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("since")),
                name="ownership_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(developer_status="") | Q(developer__isnull=False),
                name="ownership_developer_status_only_developer",
            ),
            models.UniqueConstraint(
                fields=["household", "resident"],
                condition=Q(until__isnull=True, resident__isnull=False),
                name="ownership_unique_active_resident",
            ),
            models.UniqueConstraint(
                fields=["household", "outside_owner"],
                condition=Q(until__isnull=True, outside_owner__isnull=False),
                name="ownership_unique_active_outside",
            ),
            models.UniqueConstraint(
                fields=["household", "developer"],
                condition=Q(until__isnull=True, developer__isnull=False),
                name="ownership_unique_active_developer",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(until__isnull=True, is_representative=True),
                name="ownership_one_representative",
            ),
        ]
        indexes = [models.Index(fields=["community", "household"])]

    def __str__(self) -> str:
        return f"ownership:{self.household_id}:{self.owner_key}"

    @property
    def owner_key(self) -> str:
        """One owner across units: ``r<resident>``, ``o<outside owner>``, ``d<org>``."""
        if self.resident_id is not None:
            return f"r{self.resident_id}"
        if self.outside_owner_id is not None:
            return f"o{self.outside_owner_id}"
        return f"d{self.developer_id}"

    @property
    def developer_held(self) -> bool:
        return self.developer_id is not None and self.developer_status != ""
