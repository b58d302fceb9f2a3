"""Ballots, the voter roll snapshotted at opening, votes, proxies (书面委托).

The invariants that matter for a fair vote are held by the database, not only by
Python: one vote per voter (a unique key on the roll entry, so two concurrent
submissions cannot both commit), paper votes carry two different staff members, at
most one live proxy per principal, weights are exact decimals.

Tenancy: the roll, votes and proxies carry their ballot's ``community`` (copied when
the row is written); the unique keys lead with it and the hot paths filter by it, so
the tables can be distributed by community.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Household, OrgUnit, Resident
from linli.core.models import BaseModel


class Ballot(BaseModel):
    class Kind(models.TextChoices):
        YES_NO_ABSTAIN = "yes_no_abstain", _("同意/反对/弃权")
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        OPEN = "open", _("投票中")
        CLOSED = "closed", _("已结束")
        CANCELLED = "cancelled", _("已取消")

    class Eligibility(models.TextChoices):
        ALL_RESIDENTS = "all_residents", _("全体居民（18 周岁以上）")
        HOUSEHOLDS = "households", _("每户一票")
        OWNERS = "owners", _("业主（每套专有部分一票）")
        COUNCIL = "council", _("议事会/委员会成员")
        CUSTOM = "custom", _("指定名单")

    class Weighting(models.TextChoices):
        HEAD = "head", _("按人数")
        AREA = "area", _("按面积")

    class Rule(models.TextChoices):
        PARTICIPATION_20 = "participation_20", _("线上参与率不低于 20%（杭州规则）")
        MEMBERS_TWO_THIRDS = "members_two_thirds", _("三分之二以上成员参加（重大事项）")
        HOUSEHOLDS_75 = "households_75", _("75% 以上住户参加（庭院改造出资）")
        ART278 = "art278", _("业主共同决定（民法典第二百七十八条）")

    class MatterClass(models.TextChoices):
        ORDINARY = "ordinary", _("一般事项（过半数通过）")
        SPECIAL = "special", _("特别事项（四分之三以上通过）")

    class CoOwnerRule(models.TextChoices):
        REPRESENTATIVE = "representative", _("共有房屋由共有人推选的代表投票")
        FIRST = "first", _("任一共有人均可投票，以先投者为准")

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="ballots")
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    options = models.JSONField(_("选项"), default=list)
    # Multiple choice only: how many options a voter may tick (0 = any number).
    max_choices = models.PositiveSmallIntegerField(_("最多可选"), default=0)
    secret = models.BooleanField(_("不记名投票"), default=False)
    allow_change = models.BooleanField(_("截止前可改票"), default=False)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    eligibility = models.CharField(_("投票资格"), max_length=16, choices=Eligibility.choices)
    weighting = models.CharField(
        _("计票权重"), max_length=4, choices=Weighting.choices, default=Weighting.HEAD
    )
    validity_rule = models.CharField(_("有效规则"), max_length=20, choices=Rule.choices)
    matter_class = models.CharField(
        _("事项类别"), max_length=10, choices=MatterClass.choices, blank=True
    )
    # Owners who did not vote may ratify the decision (事后追认) until this many days
    # after closing; 0 disables ratification.
    ratification_days = models.PositiveSmallIntegerField(_("事后追认期（天）"), default=0)
    # Custom/council roll as chosen at creation; the real roll is snapshotted at opening.
    voter_resident_ids = models.JSONField(default=list, blank=True)
    # Link to what the vote decides, e.g. ("deliberation.topic", "42").
    source_type = models.CharField(max_length=60, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Owners' ballots: who casts a co-owned unit's one vote.
    co_owner_rule = models.CharField(
        _("共有房屋投票方式"),
        max_length=16,
        choices=CoOwnerRule.choices,
        default=CoOwnerRule.REPRESENTATIVE,
    )
    # Totals of the roll at opening (the denominators of every rule). On owners'
    # ballots ``eligible_count`` is the owners counted as the interpretation says and
    # ``eligible_units`` the exclusive units behind them.
    eligible_count = models.PositiveIntegerField(default=0)
    eligible_area = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    eligible_units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opens_at", "-id"]
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="ballot_closes_after_opens"
            ),
            models.CheckConstraint(
                condition=~Q(validity_rule="art278") | Q(matter_class__in=["ordinary", "special"]),
                name="ballot_art278_has_matter_class",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["yes_no_abstain", "single", "multiple"]),
                name="ballot_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed", "cancelled"]),
                name="ballot_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def uses_owner_roll(self) -> bool:
        """Owners' ballots count owners as the interpretation says (linli/voting/
        owners.py). A ballot opened before that (its roll has no units recorded)
        keeps its one-entry-per-household roll to the end."""
        return self.eligibility == self.Eligibility.OWNERS and not (
            self.opened_at is not None and self.eligible_units == 0
        )

    @property
    def phase(self) -> str:
        """What a voter sees now: ``upcoming`` (opened by staff but before
        ``opens_at`` — votes are refused until then), ``open``, ``ended`` (past
        ``closes_at``, not yet closed by staff), else the status itself."""
        if self.status != self.Status.OPEN:
            return str(self.status)
        now = timezone.now()
        if now < self.opens_at:
            return "upcoming"
        if now >= self.closes_at:
            return "ended"
        return "open"


class BallotVoter(models.Model):
    """One entry of the voter roll, frozen when the ballot opens.

    A voter is a household (households ballots: any adult member may cast the
    household's vote), a resident (all residents, council, custom list), or on owners'
    ballots an owner as the interpretation counts them (``owner_key``): one person
    with all their units, the co-owners of a unit, or the developer's unsold units
    together — its units are :class:`BallotVoterUnit` rows, who may cast its vote
    :class:`BallotCaster` rows (see linli/voting/owners.py).
    """

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="roll")
    # The ballot's community (tenant key, copied on create): every lookup of the roll
    # filters by it, and it leads the unique keys (ready to distribute by community).
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area_m2 = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    owner_key = models.CharField(max_length=120, blank=True, default="")
    # Owners' entries: how many co-owners hold it (>1: a co-owned unit), the
    # representative they recorded (a resident; null: none, or not a resident), and
    # whether it is the developer's unsold/undelivered units.
    owner_count = models.PositiveSmallIntegerField(default=1)
    representative = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    developer_held = models.BooleanField(default=False)
    units = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("选民名册")
        verbose_name_plural = _("选民名册")
        constraints = [
            models.CheckConstraint(
                condition=(Q(household__isnull=True) & Q(resident__isnull=False) & Q(owner_key=""))
                | (Q(household__isnull=False) & Q(resident__isnull=True) & Q(owner_key=""))
                | (Q(household__isnull=True) & Q(resident__isnull=True) & ~Q(owner_key="")),
                name="ballotvoter_one_kind",
            ),
            models.UniqueConstraint(
                fields=["community", "ballot", "owner_key"],
                condition=~Q(owner_key=""),
                name="ballotvoter_unique_owner",
            ),
            models.UniqueConstraint(
                fields=["community", "ballot", "household"],
                condition=Q(household__isnull=False),
                name="ballotvoter_unique_household",
            ),
            models.UniqueConstraint(
                fields=["community", "ballot", "resident"],
                condition=Q(resident__isnull=False),
                name="ballotvoter_unique_resident",
            ),
            models.CheckConstraint(condition=Q(area_m2__gte=0), name="ballotvoter_area_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.ballot_id}:{self.household_id or ''}{self.resident_id or ''}{self.owner_key}"


class BallotVoterUnit(models.Model):
    """An exclusive unit behind an owners' roll entry. A unit is on the roll once
    (unique per ballot), so its one vote cannot be cast twice through two entries."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(BallotVoter, on_delete=models.CASCADE, related_name="unit_rows")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_m2 = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("名册房屋")
        verbose_name_plural = _("名册房屋")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "ballot", "household"], name="ballotvoterunit_unique_unit"
            ),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="ballotvoterunit_area_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id}:{self.household_id}"


class BallotCaster(models.Model):
    """Who may cast an owners' roll entry's vote online: its owners who are residents,
    frozen at opening (tenants and family members are not here; they vote only
    under a written proxy). The co-owner rule of the ballot decides between several."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(BallotVoter, on_delete=models.CASCADE, related_name="casters")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("可投票业主")
        verbose_name_plural = _("可投票业主")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "ballot", "resident", "voter"],
                name="ballotcaster_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id}:{self.resident_id}"


class Vote(BaseModel):
    class Channel(models.TextChoices):
        ONLINE = "online", _("线上")
        PAPER = "paper", _("纸质（两名工作人员录入）")
        RATIFICATION = "ratification", _("事后追认")

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="votes")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(BallotVoter, on_delete=models.PROTECT, related_name="votes")
    choices = models.JSONField(default=list)  # option indexes, sorted
    channel = models.CharField(max_length=12, choices=Channel.choices)
    # Who actually cast it: the voter, a household member, or the proxy holder.
    cast_by = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proxy = models.ForeignKey(
        "ProxyGrant", null=True, blank=True, on_delete=models.PROTECT, related_name="votes"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area_m2 = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    # The receipt is derived from this nonce (HMAC with the site key) so the voter can
    # see it again; only its SHA-256 is published in the counted list.
    receipt_nonce = models.CharField(max_length=32)
    receipt_hash = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        constraints = [
            # One voter, one vote — whatever the channel. Concurrent submissions race
            # on this key and exactly one commits.
            models.UniqueConstraint(fields=["community", "voter"], name="vote_one_per_voter"),
            models.UniqueConstraint(
                fields=["community", "receipt_hash"], name="vote_receipt_hash_unique"
            ),
            models.UniqueConstraint(
                fields=["community", "ballot", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="vote_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=~Q(channel="paper")
                | (
                    Q(entered_by__isnull=False)
                    & Q(second_staff__isnull=False)
                    & ~Q(entered_by=F("second_staff"))
                ),
                name="vote_paper_two_staff",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["online", "paper", "ratification"]),
                name="vote_channel_valid",
            ),
        ]
        indexes = [models.Index(fields=["community", "ballot", "channel"])]

    def __str__(self) -> str:
        return f"vote:{self.ballot_id}:{self.voter_id}"


class ProxyGrant(BaseModel):
    """书面委托: ``principal`` authorises ``agent`` to vote for them on one ballot."""

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="proxies")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(BallotVoter, on_delete=models.PROTECT, related_name="proxies")
    principal = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    mandate_text = models.TextField(_("委托书内容"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("投票委托")
        verbose_name_plural = _("投票委托")
        constraints = [
            models.CheckConstraint(condition=~Q(principal=F("agent")), name="proxy_not_self"),
            models.UniqueConstraint(
                fields=["community", "voter"],
                condition=Q(revoked_at__isnull=True),
                name="proxy_one_live_per_voter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal_id}→{self.agent_id}@{self.ballot_id}"
