"""人民调解 (People's Mediation, SPEC §7): cases between neighbours, their parties,
mediators, sessions, evidence and the written agreement the People's Mediation Law
(人民调解法, arts. 28–33) describes.

A case is opened at the lowest level that can settle it — 楼栋 (building), then 社区,
then 街道 ("小事不出楼栋、大事不出社区") — and escalated one level at a time. It is
closed only with an outcome. An agreement takes effect when the parties and the
mediator have signed and the committee's seal is on it; from that day the parties have
30 days to apply jointly for judicial confirmation (art. 33), and a follow-up visit
(回访) is due 30 days later.

Every table carries its tenant (``community``). Parties' names and phones are personal
data: they never go into audit payloads, and pages show them only to the people the
selectors allow (see :mod:`linli.mediation.permissions`).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.communities.models import Building, OrgUnit, Resident
from linli.core import idempotency
from linli.core.models import BaseModel

# Art. 33: the parties may apply jointly within 30 days of the agreement taking effect.
CONFIRMATION_WINDOW_DAYS = 30
# The follow-up visit (回访) after an agreement.
FOLLOWUP_AFTER_DAYS = 30


class Kind(models.TextChoices):
    NOISE = "noise", _("噪音扰民")
    LEAKAGE = "leakage", _("楼上楼下漏水")
    PARKING = "parking", _("停车纠纷")
    PROPERTY_FEES = "property_fees", _("物业费纠纷")
    FAMILY = "family", _("婚姻家庭纠纷")
    OTHER = "other", _("其他邻里纠纷")


class Level(models.TextChoices):
    BUILDING = "building", _("楼栋")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")


class Status(models.TextChoices):
    OPEN = "open", _("已受理")
    MEDIATING = "mediating", _("调解中")
    CLOSED = "closed", _("已结案")
    VISITED = "visited", _("已回访")


ACTIVE_STATUSES = (Status.OPEN, Status.MEDIATING)


class Outcome(models.TextChoices):
    AGREEMENT = "agreement", _("调解成功（达成协议）")
    NO_AGREEMENT = "no_agreement", _("调解不成")
    WITHDRAWN = "withdrawn", _("当事人撤回")
    REFERRED = "referred", _("转交处理")


class Referral(models.TextChoices):
    ASSESSMENT = "assessment", _("第三方评估/鉴定")
    COURT = "court", _("人民法院")
    ARBITRATION = "arbitration", _("仲裁机构")
    AUTHORITY = "authority", _("行政机关")


class Channel(models.TextChoices):
    """How the dispute reached the mediators (recorded for 代办 as well)."""

    VISIT = "visit", _("当事人来访申请")
    HOTLINE = "hotline", _("电话申请")
    REQUEST = "request", _("诉求转入")
    PATROL = "patrol", _("网格排查发现")
    REFERRED_IN = "referred_in", _("上级或部门移交")


class Mediator(BaseModel):
    """A person on the community's mediator roster (人民调解员名册): committee members
    and staff, or residents from the volunteers' skills pool (社区能人库) who agreed to
    mediate. Each acts through their own login (``user``)."""

    class Source(models.TextChoices):
        COMMITTEE = "committee", _("人民调解委员会")
        VOLUNTEER = "volunteer", _("社区能人库志愿者")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    volunteer = models.ForeignKey(
        "volunteers.VolunteerProfile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("姓名"), max_length=40)
    speciality = models.CharField(_("擅长"), max_length=100, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        ordering = ["community_id", "name", "id"]
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="mediator_once_per_community"
            ),
            models.CheckConstraint(
                condition=~Q(source="volunteer") | Q(volunteer__isnull=False),
                name="mediator_volunteer_has_profile",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Case(BaseModel):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("纠纷类型"), max_length=14, choices=Kind.choices)
    level = models.CharField(
        _("调解层级"), max_length=10, choices=Level.choices, default=Level.COMMUNITY
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    title = models.CharField(_("案由"), max_length=60)
    # 纠纷的主要事实 as told when the case was opened (the agreement restates it).
    facts = models.TextField(_("纠纷简要情况"), max_length=2000)
    channel = models.CharField(_("来源"), max_length=12, choices=Channel.choices)
    source_request = models.ForeignKey(
        "requests.ServiceRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("受理时间"))
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=14, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(_("结案说明"), max_length=500, blank=True)
    referral = models.CharField(_("转交至"), max_length=12, choices=Referral.choices, blank=True)
    referral_note = models.CharField(_("转交说明"), max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set when an agreement closes the case: the date the agreement took effect.
    agreement_effective_on = models.DateField(null=True, blank=True)
    followup_due = models.DateField(_("回访日期"), null=True, blank=True)
    followup_reminded_at = models.DateTimeField(null=True, blank=True)
    confirmation_reminded_at = models.DateTimeField(null=True, blank=True)
    followup_at = models.DateTimeField(null=True, blank=True)
    followup_note = models.CharField(_("回访情况"), max_length=1000, blank=True)
    followup_performed = models.BooleanField(_("协议已履行"), null=True, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("调解案件")
        verbose_name_plural = _("调解案件")
        indexes = [models.Index(fields=["community", "status"])]
        constraints = [
            idempotency.unique_per_community("mediation_case_idempotency"),
            # One case per dispute request: "turn into a case" twice is refused by the key.
            models.UniqueConstraint(
                fields=["community", "source_request"],
                condition=Q(source_request__isnull=False),
                name="mediation_case_once_per_request",
            ),
            # Closed (or visited) ⇔ an outcome and a closing time.
            models.CheckConstraint(
                condition=(
                    Q(status__in=["open", "mediating"], outcome="", closed_at__isnull=True)
                    | (
                        Q(status__in=["closed", "visited"], closed_at__isnull=False)
                        & ~Q(outcome="")
                    )
                ),
                name="mediation_case_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="referred") | ~Q(referral=""),
                name="mediation_case_referral_named",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="agreement") | Q(agreement_effective_on__isnull=False),
                name="mediation_case_agreement_dated",
            ),
            models.CheckConstraint(
                condition=~Q(status="visited") | Q(followup_at__isnull=False),
                name="mediation_case_visited_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The case number as written on the agreement: 调字第 N 号."""
        year = self.opened_at.year if self.opened_at else ""
        return f"（{year}）调字第{self.pk}号"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def confirmation_deadline(self) -> date | None:
        """Last day to apply jointly for judicial confirmation (art. 33)."""
        if self.agreement_effective_on is None:
            return None
        return self.agreement_effective_on + timedelta(days=CONFIRMATION_WINDOW_DAYS)


class Party(BaseModel):
    """A party to the dispute: a resident on the roster (name and phone read from
    the roster) or someone from outside (name and phone kept here, shown masked)."""

    class Role(models.TextChoices):
        # A context of their own: "申请人" means "requested by" elsewhere in the UI.
        APPLICANT = "applicant", pgettext_lazy("mediation party", "申请人")
        RESPONDENT = "respondent", pgettext_lazy("mediation party", "被申请人")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("身份"), max_length=10, choices=Role.choices)
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Outside parties only (a resident's come from the roster).
    name = models.CharField(_("姓名"), max_length=40, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Address or employer, as the agreement's "basic facts" of the party.
    address = models.CharField(_("住址或单位"), max_length=100, blank=True)
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["case_id", "role", "id"]
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        constraints = [
            idempotency.unique_per_community("mediation_party_idempotency"),
            models.UniqueConstraint(
                fields=["community", "case", "resident"],
                condition=Q(resident__isnull=False),
                name="mediation_party_resident_once",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | ~Q(name=""),
                name="mediation_party_named",
            ),
        ]

    def __str__(self) -> str:
        return f"party:{self.case_id}:{self.pk}"

    @property
    def real_name(self) -> str:
        return self.resident.name if self.resident_id and self.resident else self.name

    @property
    def real_phone(self) -> str:
        return self.resident.phone if self.resident_id and self.resident else self.phone

    @property
    def real_address(self) -> str:
        if self.address:
            return self.address
        if self.resident_id and self.resident is not None:
            return str(self.resident.household)
        return ""


class CaseMediator(models.Model):
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mediators")
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="+")
    # Denormalised from the mediator so visibility is one indexed lookup.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lead = models.BooleanField(_("主调解员"), default=False)
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["-lead", "id"]
        verbose_name = _("案件调解员")
        verbose_name_plural = _("案件调解员")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "case", "mediator"], name="mediation_mediator_once"
            ),
            models.UniqueConstraint(
                fields=["community", "case"], condition=Q(lead=True), name="mediation_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"case-mediator:{self.case_id}:{self.mediator_id}"


class Session(BaseModel):
    """One mediation session (调解笔录): when, where, who came, what was said."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("调解时间"))
    location = models.CharField(_("地点"), max_length=100)
    attendees = models.CharField(_("到场人员"), max_length=300)
    notes = models.TextField(_("调解记录"), max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        constraints = [idempotency.unique_per_community("mediation_session_idempotency")]

    def __str__(self) -> str:
        return f"session:{self.case_id}:{self.pk}"


class Evidence(BaseModel):
    """A file the mediators keep with the case (photos, receipts, a valuation report).
    Served only through the case page's permission check, under an unguessable name."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="mediation/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = idempotency.key_field()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("证据材料")
        verbose_name_plural = _("证据材料")
        constraints = [idempotency.unique_per_community("mediation_evidence_idempotency")]

    def __str__(self) -> str:
        return self.original_name


class Agreement(BaseModel):
    """人民调解协议书 (art. 29): the dispute's main facts, the disputed matters and each
    party's responsibility, what was agreed, how and by when it is performed. The
    parties' basic facts come from :class:`Party`. It takes effect on the day the
    parties sign (or put their fingerprint), the mediator signs and the committee's
    seal is affixed (``signed_on``); until then it is a draft and may be revised."""

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="agreement")
    facts = models.TextField(_("纠纷的主要事实"), max_length=2000)
    disputed_matters = models.TextField(_("争议事项"), max_length=1000)
    responsibilities = models.TextField(_("各方当事人的责任"), max_length=1000)
    terms = models.TextField(_("协议内容"), max_length=2000)
    performance_method = models.CharField(_("履行方式"), max_length=300)
    performance_deadline = models.DateField(_("履行期限"))
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_on = models.DateField(_("生效日期"), null=True, blank=True)
    parties_signed = models.BooleanField(_("各方当事人已签名或按指印"), default=False)
    mediator_signed = models.BooleanField(_("调解员已签名"), default=False)
    sealed = models.BooleanField(_("已加盖人民调解委员会印章"), default=False)
    signed_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("调解协议书")
        verbose_name_plural = _("调解协议书")
        constraints = [
            # In force only with every signature and the seal (art. 29).
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(parties_signed=True, mediator_signed=True, sealed=True),
                name="mediation_agreement_signed_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"agreement:{self.case_id}"

    @property
    def in_force(self) -> bool:
        return self.signed_on is not None
