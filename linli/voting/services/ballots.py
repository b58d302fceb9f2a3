"""Ballots: create (draft), and the status changes through the state machine
(linli/voting/states.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Household, OrgUnit, Resident
from linli.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotVoter
from linli.voting.services._common import (
    ADULT_AGE,
    HOUSEHOLD_ELIGIBILITY,
    _clean_options,
    _signed_in,
)
from linli.voting.states import AUDIT_ACTIONS, ballot_machine


def ballot_create(
    *,
    actor: Actor,
    community: OrgUnit,
    title: str,
    kind: str,
    options: list[str],
    eligibility: str,
    validity_rule: str,
    opens_at: datetime,
    closes_at: datetime,
    secret: bool = False,
    allow_change: bool = False,
    description: str = "",
    voter_resident_ids: list[int] | None = None,
    matter_class: str | None = None,
    source_type: str = "",
    source_id: str = "",
    weighting: str | None = None,
    max_choices: int = 0,
    ratification_days: int = 0,
) -> Ballot:
    """Create a draft ballot. ``voter_resident_ids`` is the list for council/custom
    eligibility; the roll itself is snapshotted by :func:`ballot_open`."""
    if not perms.can_create_ballot(actor, community):
        raise PermissionDenied(_("您不能在该社区发起投票。"))
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("请填写投票标题。"), field="title")
    if len(title) > 120:
        raise ValidationFailed(_("标题不超过 120 个字。"), field="title")
    if kind not in Ballot.Kind.values:
        raise ValidationFailed(_("未知的投票类型。"), field="kind")
    if eligibility not in Ballot.Eligibility.values:
        raise ValidationFailed(_("未知的投票资格。"), field="eligibility")
    if validity_rule not in Ballot.Rule.values:
        raise ValidationFailed(_("未知的有效规则。"), field="validity_rule")
    clean_options = _clean_options(kind, options)
    if opens_at is None or closes_at is None:
        raise ValidationFailed(_("请填写开始和截止时间。"), field="closes_at")
    if closes_at <= opens_at:
        raise ValidationFailed(_("截止时间必须晚于开始时间。"), field="closes_at")
    if closes_at <= timezone.now():
        raise ValidationFailed(_("截止时间已过。"), field="closes_at")
    ids: list[int] = []
    if eligibility in (Ballot.Eligibility.COUNCIL, Ballot.Eligibility.CUSTOM):
        ids = sorted({int(i) for i in (voter_resident_ids or [])})
        if not ids:
            raise ValidationFailed(_("请指定参加投票的成员名单。"), field="voter_resident_ids")
        found = Resident.objects.filter(pk__in=ids, community=community, is_active=True).count()
        if found != len(ids):
            raise ValidationFailed(
                _("名单中有 %(n)d 人不是本社区在册居民。") % {"n": len(ids) - found},
                field="voter_resident_ids",
            )
    mc = ""
    if validity_rule == Ballot.Rule.ART278:
        if eligibility != Ballot.Eligibility.OWNERS:
            raise ValidationFailed(
                _("民法典第二百七十八条的表决只能由业主参加，请选择“业主”资格。"),
                field="eligibility",
            )
        if matter_class not in Ballot.MatterClass.values:
            raise ValidationFailed(
                _("请选择事项类别（一般事项或特别事项）。"), field="matter_class"
            )
        mc = str(matter_class)
        weighting = Ballot.Weighting.AREA
    elif validity_rule == Ballot.Rule.HOUSEHOLDS_75 and eligibility not in HOUSEHOLD_ELIGIBILITY:
        raise ValidationFailed(_("75% 住户规则需要按户投票。"), field="eligibility")
    elif validity_rule == Ballot.Rule.MEMBERS_TWO_THIRDS and eligibility not in (
        Ballot.Eligibility.COUNCIL,
        Ballot.Eligibility.CUSTOM,
    ):
        raise ValidationFailed(_("三分之二成员规则需要指定成员名单。"), field="eligibility")
    weighting = weighting or Ballot.Weighting.HEAD
    if weighting not in Ballot.Weighting.values:
        raise ValidationFailed(_("未知的计票权重。"), field="weighting")
    if weighting == Ballot.Weighting.AREA and eligibility not in HOUSEHOLD_ELIGIBILITY:
        raise ValidationFailed(_("按面积计票只适用于按户或业主投票。"), field="weighting")
    if max_choices < 0 or max_choices > len(clean_options):
        raise ValidationFailed(_("最多可选项数无效。"), field="max_choices")
    if not 0 <= ratification_days <= 90:
        raise ValidationFailed(_("事后追认期为 0–90 天。"), field="ratification_days")
    with governed_write(
        actor=actor, action="voting.ballot_created", community_id=community.pk
    ) as w:
        ballot = Ballot.objects.create(
            community=community,
            title=title,
            description=(description or "").strip(),
            kind=kind,
            options=clean_options,
            max_choices=max_choices if kind == Ballot.Kind.MULTIPLE else 0,
            secret=secret,
            allow_change=allow_change,
            opens_at=opens_at,
            closes_at=closes_at,
            eligibility=eligibility,
            weighting=weighting,
            validity_rule=validity_rule,
            matter_class=mc,
            ratification_days=ratification_days,
            voter_resident_ids=ids,
            source_type=source_type[:60],
            source_id=str(source_id)[:64],
            created_by=_signed_in(actor),
        )
        w.target = ballot
        w.payload.update(
            {
                "title": title,
                "kind": kind,
                "options": clean_options,
                "eligibility": eligibility,
                "weighting": weighting,
                "rule": validity_rule,
                "matter_class": mc,
                "secret": secret,
                "allow_change": allow_change,
                "opens_at": opens_at.isoformat(),
                "closes_at": closes_at.isoformat(),
                "source": [source_type, str(source_id)],
            }
        )
    return ballot


def _roll_query(ballot: Ballot) -> QuerySet[Any]:
    """Who would be on the roll if the ballot opened now (households or residents)."""
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY:
        hh = Household.objects.filter(community_id=ballot.community_id)
        if ballot.eligibility == Ballot.Eligibility.OWNERS:
            hh = hh.filter(tenure=Household.Tenure.OWNER)
        return hh
    residents = Resident.objects.filter(community_id=ballot.community_id, is_active=True)
    if ballot.eligibility == Ballot.Eligibility.ALL_RESIDENTS:
        adult_year = timezone.localtime().year - ADULT_AGE
        return residents.filter(birth_year__lte=adult_year)
    return residents.filter(pk__in=ballot.voter_resident_ids)


def roll_preview_count(ballot: Ballot) -> int:
    """How many voters :func:`ballot_open` would freeze now (for the confirmation
    page before 开始投票; read only)."""
    return _roll_query(ballot).count()


def _snapshot_roll(ballot: Ballot) -> list[BallotVoter]:
    qs = _roll_query(ballot)
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY:
        return [
            BallotVoter(
                ballot=ballot, community_id=ballot.community_id, household_id=pk, area_m2=area
            )
            for pk, area in qs.order_by("pk").values_list("pk", "area_m2")
        ]
    return [
        BallotVoter(ballot=ballot, community_id=ballot.community_id, resident_id=pk)
        for pk in qs.order_by("pk").values_list("pk", flat=True)
    ]


def ballot_open(*, actor: Actor, ballot: Ballot) -> Ballot:
    """Open voting and freeze the voter roll (later moves do not change who votes)."""

    def effects(b: Ballot, w: Write) -> None:
        w.action = AUDIT_ACTIONS["open"]
        roll = _snapshot_roll(b)
        if not roll:
            raise ValidationFailed(_("没有符合资格的选民，不能开始投票。"))
        BallotVoter.objects.bulk_create(roll, batch_size=5000)
        total_area = BallotVoter.objects.filter(community_id=b.community_id, ballot=b).aggregate(
            a=Sum("area_m2")
        )["a"]
        b.eligible_count = len(roll)
        b.eligible_area = total_area or Decimal("0")
        b.opened_at = timezone.now()
        roll_digest = hashlib.sha256(
            "\n".join(
                f"{v.household_id or ''}|{v.resident_id or ''}|{v.area_m2}" for v in roll
            ).encode()
        ).hexdigest()
        w.payload.update(
            {
                "eligible_count": b.eligible_count,
                "eligible_area": str(b.eligible_area),
                "roll_sha256": roll_digest,
                "rule": b.validity_rule,
                "matter_class": b.matter_class,
                "weighting": b.weighting,
                "kind": b.kind,
                "options": b.options,
            }
        )

    return ballot_machine.apply(actor=actor, obj=ballot, action="open", effects=effects)


def ballot_close(*, actor: Actor, ballot: Ballot) -> Ballot:
    """Close voting. Before the closing time only if every voter has voted (the
    machine's guard, re-checked on the locked row)."""

    def effects(b: Ballot, w: Write) -> None:
        # The FOR UPDATE taken by apply() waited for every vote in flight (each holds
        # FOR KEY SHARE on this row, see _recheck_open); votes after this commit see
        # "closed".
        w.action = AUDIT_ACTIONS["close"]
        b.closed_at = timezone.now()
        w.payload["closed_at"] = b.closed_at.isoformat()

    return ballot_machine.apply(actor=actor, obj=ballot, action="close", effects=effects)


def ballot_cancel(*, actor: Actor, ballot: Ballot, reason: str) -> Ballot:
    reason = (reason or "").strip()

    def effects(b: Ballot, w: Write) -> None:
        w.action = AUDIT_ACTIONS["cancel"]
        b.cancel_reason = reason[:200]

    return ballot_machine.apply(
        actor=actor, obj=ballot, action="cancel", reason=reason, effects=effects
    )


def ballot_get(pk: int) -> Ballot:
    ballot = Ballot.objects.select_related("community").filter(pk=pk).first()
    if ballot is None:
        raise NotFound()
    return ballot
