"""Ballots: create (draft), and the status changes through the state machine
(linli/voting/states.py)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Household, OrgUnit, Resident
from linli.communities.ownership import unit_owners
from linli.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotCaster, BallotVoter, BallotVoterUnit
from linli.voting.owners import RollEntry, group_units
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
    co_owner_rule: str = Ballot.CoOwnerRule.REPRESENTATIVE,
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
    if co_owner_rule not in Ballot.CoOwnerRule.values:
        raise ValidationFailed(_("未知的共有房屋投票方式。"), field="co_owner_rule")
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
            co_owner_rule=co_owner_rule,
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
                "co_owner_rule": co_owner_rule,
                "opens_at": opens_at.isoformat(),
                "closes_at": closes_at.isoformat(),
                "source": [source_type, str(source_id)],
            }
        )
    return ballot


def _roll_query(ballot: Ballot) -> QuerySet[Any]:
    """Who would be on the roll if the ballot opened now (households or residents);
    owners' ballots use :func:`owners_roll` instead."""
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


def owners_roll(ballot: Ballot) -> list[RollEntry]:
    """The owners' roll as :func:`ballot_open` would freeze it now (three reads)."""
    units = unit_owners(ballot.community_id)
    legacy_units = {u.household_id for u in units if not u.owners and u.owner_occupied}
    legacy: dict[int, list[int]] = defaultdict(list)
    if legacy_units:
        adult_year = timezone.localtime().year - ADULT_AGE
        for hid, rid in Resident.objects.filter(
            community_id=ballot.community_id,
            is_active=True,
            birth_year__lte=adult_year,
            household__tenure=Household.Tenure.OWNER,
        ).values_list("household_id", "pk"):
            if hid in legacy_units:
                legacy[hid].append(rid)
    return group_units(units, legacy)


@dataclass(frozen=True)
class RollPreview:
    """What the confirmation page before 开始投票 shows."""

    count: int
    units: int = 0
    area: Decimal = Decimal("0")
    multi_unit_owners: int = 0  # owners with several units, each counted once
    developer_units: int = 0  # the developer's unsold/undelivered units (count as one)
    co_owned: int = 0  # entries with several co-owners (one vote each)
    no_representative: int = 0  # co-owned entries without a resident representative
    legacy_units: int = 0  # owner-occupied units without a recorded owner


def roll_preview(ballot: Ballot) -> RollPreview:
    """Read only: the roll :func:`ballot_open` would freeze now."""
    if not ballot.uses_owner_roll:
        return RollPreview(count=_roll_query(ballot).count())
    roll = owners_roll(ballot)
    return RollPreview(
        count=len(roll),
        units=sum(len(e.units) for e in roll),
        area=sum((e.area for e in roll), Decimal("0")),
        multi_unit_owners=sum(1 for e in roll if len(e.units) > 1 and not e.developer_held),
        developer_units=sum(len(e.units) for e in roll if e.developer_held),
        co_owned=sum(1 for e in roll if e.owner_count > 1),
        no_representative=sum(
            1
            for e in roll
            if e.owner_count > 1
            and (e.representative_resident is None or e.representative_resident not in e.casters)
        ),
        legacy_units=sum(1 for e in roll if e.legacy),
    )


def roll_preview_count(ballot: Ballot) -> int:
    """How many voters :func:`ballot_open` would freeze now (for the confirmation
    page before 开始投票; read only)."""
    return roll_preview(ballot).count


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


def _freeze_owners_roll(ballot: Ballot) -> tuple[list[BallotVoter], list[RollEntry]]:
    """Write the owners' roll: entries, their units, and who may cast each."""
    roll = owners_roll(ballot)
    cid = ballot.community_id
    voters = [
        BallotVoter(
            ballot=ballot,
            community_id=cid,
            owner_key=e.key,
            area_m2=e.area,
            owner_count=e.owner_count,
            units=len(e.units),
            developer_held=e.developer_held,
            # Only a representative who can vote online is recorded here; one who is
            # not a resident (an outside owner) votes on paper.
            representative_id=(
                e.representative_resident if e.representative_resident in e.casters else None
            ),
        )
        for e in roll
    ]
    if not voters:
        return [], []
    voters = BallotVoter.objects.bulk_create(voters, batch_size=5000)
    area_of = dict(
        Household.objects.filter(community_id=cid).values_list("pk", "area_m2").order_by()
    )
    BallotVoterUnit.objects.bulk_create(
        [
            BallotVoterUnit(
                ballot=ballot, community_id=cid, voter=v, household_id=h, area_m2=area_of[h]
            )
            for v, e in zip(voters, roll, strict=True)
            for h in e.units
        ],
        batch_size=5000,
    )
    BallotCaster.objects.bulk_create(
        [
            BallotCaster(ballot=ballot, community_id=cid, voter=v, resident_id=r)
            for v, e in zip(voters, roll, strict=True)
            for r in e.casters
        ],
        batch_size=5000,
    )
    return voters, roll


def ballot_open(*, actor: Actor, ballot: Ballot) -> Ballot:
    """Open voting and freeze the voter roll (later moves do not change who votes).
    Owners' ballots freeze owners as the interpretation counts them, with their units
    and who may cast each vote (linli/voting/owners.py)."""

    def effects(b: Ballot, w: Write) -> None:
        w.action = AUDIT_ACTIONS["open"]
        entries: list[RollEntry | None] = []
        if b.uses_owner_roll:
            roll, frozen = _freeze_owners_roll(b)
            entries = list(frozen)
        else:
            roll = _snapshot_roll(b)
            if roll:
                BallotVoter.objects.bulk_create(roll, batch_size=5000)
        if not roll:
            raise ValidationFailed(_("没有符合资格的选民，不能开始投票。"))
        total_area = sum((Decimal(str(v.area_m2)) for v in roll), Decimal("0"))
        b.eligible_count = len(roll)
        b.eligible_area = total_area
        b.eligible_units = sum(len(e.units) for e in entries if e is not None)
        b.opened_at = timezone.now()
        roll_digest = hashlib.sha256(
            "\n".join(
                f"{v.household_id or ''}|{v.resident_id or ''}|{v.area_m2}"
                + (f"|{e.key}|{','.join(map(str, e.units))}" if e else "")
                for v, e in zip(roll, entries or [None for _v in roll], strict=True)
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
        if entries:
            w.payload["eligible_units"] = b.eligible_units
            w.payload["co_owner_rule"] = b.co_owner_rule

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
