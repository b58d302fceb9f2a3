"""Users, scoped role memberships, API tokens and sensitive-data access grants."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Organisation, OrgUnit
from linli.core.models import BaseModel


class User(AbstractUser):
    # Residents log in with their phone number; staff may use either.
    phone = models.CharField(_("手机号"), max_length=11, unique=True, null=True, blank=True)
    display_name = models.CharField(_("显示名称"), max_length=40, blank=True)
    elderly_mode = models.BooleanField(_("长辈模式"), default=False)
    language = models.CharField(_("界面语言"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    BUILDING_LIAISON = "building_liaison", _("楼栋联络员")
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    SECRETARY = "secretary", _("社区书记")
    STREET_OFFICER = "street_officer", _("街道干部")
    DEPARTMENT_HANDLER = "department_handler", _("职能部门经办人")
    PROPERTY_STAFF = "property_staff", _("物业人员")
    SOCIAL_ORG = "social_org", _("社会组织")
    SUPERVISOR = "supervisor", _("监督员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


# Roles whose membership is anchored on an administrative unit and who see residents
# under it (grid → its grid, secretary → community, street officer → street).
ROSTER_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.COMMUNITY_WORKER,
        Role.SECRETARY,
        Role.STREET_OFFICER,
        Role.PLATFORM_ADMIN,
    }
)
STAFF_ROLES = frozenset(set(Role) - {Role.RESIDENT})
# Organisation-based roles: their work comes through the organisation, not a unit.
ORG_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.PROPERTY_STAFF, Role.SOCIAL_ORG})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        today = timezone.localdate()
        return self.filter(is_active=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


class Membership(BaseModel):
    """A role held in an org unit (role × unit). Staff may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, db_index=True)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    # Building liaisons speak for one building.
    building = models.ForeignKey(
        "communities.Building",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="liaisons",
    )
    is_active = models.BooleanField(default=True)
    ends_on = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色任职")
        verbose_name_plural = _("角色任职")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=Q(is_active=True),
                name="membership_unique_active",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["department_handler", "property_staff", "social_org"])
                | Q(organisation__isnull=False),
                name="membership_org_role_has_org",
            ),
            models.CheckConstraint(
                condition=~Q(role="building_liaison") | Q(building__isnull=False),
                name="membership_liaison_has_building",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


TOKEN_DEFAULT_DAYS = 90


def token_default_expiry() -> datetime:
    return timezone.now() + timedelta(days=TOKEN_DEFAULT_DAYS)


class ApiToken(BaseModel):
    """Bearer token for API clients. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Checked on the row the authenticating query already reads (no extra statement).
    expires_at = models.DateTimeField(_("有效期至"), default=token_default_expiry)
    # Space-separated: "read" and "write:<app label>" (see linli.accounts.tokens).
    scopes = models.CharField(_("权限范围"), max_length=400, default="read")

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def is_current(self) -> bool:
        return self.revoked_at is None and timezone.now() < self.expires_at


class SensitiveScope(models.TextChoices):
    CONTACT = "contact", _("联系方式（手机号）")
    IDENTITY = "identity", _("身份证号")
    MEDICAL = "medical", _("健康/残疾信息")
    FINANCIAL = "financial", _("经济/低保信息")


class SensitiveAccessGrant(BaseModel):
    """A time-limited approval by the community secretary to read sensitive fields."""

    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sensitive_grants"
    )
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="sensitive_grants"
    )
    scope = models.CharField(_("范围"), max_length=10, choices=SensitiveScope.choices)
    reason = models.CharField(_("用途说明"), max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="granted_sensitive"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("敏感数据授权")
        verbose_name_plural = _("敏感数据授权")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("starts_at")), name="grant_expiry_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grantee} {self.scope} → {self.expires_at:%Y-%m-%d}"

    def is_current(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and self.starts_at <= now < self.expires_at


class PasswordResetCode(BaseModel):
    """A one-time SMS code for resetting a password. Only an HMAC of the code is kept;
    it expires after 10 minutes, allows 10 attempts and is spent by its first use."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reset_codes"
    )

    class Purpose(models.TextChoices):
        RESET = "reset", _("重置密码")
        LOGIN = "login", _("验证码登录")

    phone = models.CharField(max_length=11, db_index=True)
    # A login code can never reset a password, nor a reset code sign anyone in.
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.RESET)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("密码重置验证码")
        verbose_name_plural = _("密码重置验证码")

    def __str__(self) -> str:
        return f"{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class ActivationCode(BaseModel):
    """A one-time code that community staff hand a resident at the service window (代办),
    so a resident without a phone or an account can get in. Only an HMAC of the code is
    kept (looked up by it: the resident types nothing else); valid for 7 days, spent by
    its first use; a new code for the same resident replaces the earlier one."""

    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="activation_codes"
    )
    resident = models.ForeignKey(
        "communities.Resident", on_delete=models.CASCADE, related_name="activation_codes"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="issued_activations"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("账号激活码")
        verbose_name_plural = _("账号激活码")

    def __str__(self) -> str:
        return f"{self.resident_id} → {self.expires_at:%Y-%m-%d}"
