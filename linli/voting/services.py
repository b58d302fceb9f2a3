"""Every write of the voting station.

Concurrency: one vote per voter is the unique key ``vote_one_per_voter``; a second
concurrent insert fails and is reported as "已投过票". Closing vs. a late vote: each vote
re-reads the ballot's status *after* appending its audit event, and appending takes the
community's audit-chain lock, which ``ballot_close`` also takes before it commits — so a
vote either commits before the close (and is counted) or sees the ballot closed and
rolls back. Nothing is counted that the chain does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Household, OrgUnit, Resident
from linli.core import audit
from linli.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row, lock_rows, share_lock
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotVoter, ProxyGrant, Vote
from linli.voting.states import AUDIT_ACTIONS, ballot_machine

YES_NO_OPTIONS = ["同意", "反对", "弃权"]
ADULT_AGE = 18
HOUSEHOLD_ELIGIBILITY = ("households", "owners")

# --------------------------------------------------------------------------- receipts


def receipt_for(nonce: str) -> str:
    """The voter's receipt code: an HMAC of the vote's random nonce under the site key,
    so the voter can be shown it again but nobody can forge one for another vote."""
    digest = (
        hmac.new(settings.SECRET_KEY.encode(), f"voting-receipt:{nonce}".encode(), hashlib.sha256)
        .hexdigest()[:16]
        .upper()
    )
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def normalise_receipt(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()


def voter_tag(ballot: Ballot, voter_id: int) -> str:
    """How the audit chain names a voter. Open ballots: the roll entry; secret ballots:
    a keyed pseudonym, unique per voter (so the chain still proves one vote each and
    replays changes) but not linkable to a person without the site key."""
    if not ballot.secret:
        return f"v{voter_id}"
    return hmac.new(
        settings.SECRET_KEY.encode(),
        f"voting-voter:{ballot.pk}:{voter_id}".encode(),
        hashlib.sha256,
    ).hexdigest()[:24]


def _new_receipt() -> tuple[str, str, str]:
    nonce = secrets.token_hex(16)
    code = receipt_for(nonce)
    return nonce, code, receipt_hash(code)


@dataclass(frozen=True)
class CastResult:
    vote: Vote
    receipt: str
    changed: bool = False
    replayed: bool = False  # same idempotency key seen before: nothing was written


# --------------------------------------------------------------------------- helpers


def _clean_options(kind: str, options: Sequence[str]) -> list[str]:
    if kind == Ballot.Kind.YES_NO_ABSTAIN:
        return list(YES_NO_OPTIONS)
    cleaned = [str(o).strip() for o in options if str(o).strip()]
    if len(cleaned) < 2:
        raise ValidationFailed(_("单选/多选投票至少需要两个选项。"), field="options")
    if len(cleaned) > 30:
        raise ValidationFailed(_("选项不能超过 30 个。"), field="options")
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed(_("选项不能重复。"), field="options")
    if any(len(o) > 100 for o in cleaned):
        raise ValidationFailed(_("每个选项不超过 100 个字。"), field="options")
    return cleaned


def _clean_choices(ballot: Ballot, choices: Any) -> list[int]:
    if isinstance(choices, int | str):
        choices = [choices]
    try:
        picked = sorted({int(c) for c in choices})
    except (TypeError, ValueError):
        raise ValidationFailed(_("选项无效。"), field="choices") from None
    n = len(ballot.options)
    if not picked:
        raise ValidationFailed(_("请至少选择一项。"), field="choices")
    if any(c < 0 or c >= n for c in picked):
        raise ValidationFailed(_("选项无效。"), field="choices")
    if ballot.kind != Ballot.Kind.MULTIPLE and len(picked) != 1:
        raise ValidationFailed(_("本次投票只能选择一项。"), field="choices")
    if (
        ballot.kind == Ballot.Kind.MULTIPLE
        and ballot.max_choices
        and len(picked) > ballot.max_choices
    ):
        raise ValidationFailed(
            _("最多可选 %(n)d 项。") % {"n": ballot.max_choices}, field="choices"
        )
    return picked


def _is_adult(resident: Resident, now: datetime) -> bool:
    return resident.birth_year <= timezone.localtime(now).year - ADULT_AGE


def voter_for(ballot: Ballot, resident: Resident) -> BallotVoter | None:
    """The roll entry ``resident`` votes for (their household's on household ballots)."""
    if not resident.is_active or resident.community_id != ballot.community_id:
        return None
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY:
        if not _is_adult(resident, timezone.now()):
            return None
        return BallotVoter.objects.filter(
            community_id=ballot.community_id, ballot=ballot, household_id=resident.household_id
        ).first()
    return BallotVoter.objects.filter(
        community_id=ballot.community_id, ballot=ballot, resident=resident
    ).first()


def _not_eligible(ballot: Ballot, resident: Resident) -> PermissionDenied:
    if ballot.eligibility == Ballot.Eligibility.OWNERS and resident.household.tenure == "tenant":
        return PermissionDenied(_("本次投票仅限业主参加，租户不能投票。"), code="not_eligible")
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY and not _is_adult(resident, timezone.now()):
        return PermissionDenied(_("未满 18 周岁不能代表本户投票。"), code="not_eligible")
    return PermissionDenied(_("您不在本次投票的选民名册中。"), code="not_eligible")


def _actor_resident(actor: Any) -> Resident:
    rid = scope_of(actor).resident_id
    if rid is None:
        raise PermissionDenied(_("只有登记在册的居民才能投票。"), code="not_eligible")
    return Resident.objects.select_related("household").get(pk=rid)


def _require_voting_window(ballot: Ballot, now: datetime) -> None:
    if ballot.status != Ballot.Status.OPEN:
        if ballot.status == Ballot.Status.CLOSED:
            raise Conflict(_("投票已结束，不能再投票。"), code="ballot_closed")
        raise Conflict(_("投票尚未开始。"), code="ballot_not_open")
    if now < ballot.opens_at:
        raise Conflict(_("投票尚未开始。"), code="ballot_not_open")
    if now >= ballot.closes_at:
        raise Conflict(_("投票已截止，不能再投票。"), code="ballot_closed")


def _recheck_open(ballot_id: int) -> None:
    """Last step of every vote write: hold FOR KEY SHARE on the ballot row until
    commit (many votes at once; a close's FOR UPDATE waits for them) and see the
    latest status — a close that committed first wins."""
    row = share_lock(Ballot, ballot_id, ["status"])
    if row is None or row[0] != Ballot.Status.OPEN:
        raise Conflict(_("投票已结束，不能再投票。"), code="ballot_closed")


def _vote_payload(ballot: Ballot, vote: Vote, voter_id: int) -> dict[str, Any]:
    return {
        "voter": voter_tag(ballot, voter_id),
        "choices": vote.choices,
        "area": str(vote.area_m2),
        "channel": vote.channel,
        "receipt_hash": vote.receipt_hash,
        "proxy": vote.proxy_id is not None,
    }


def _audit_actor(ballot: Ballot, actor: Any) -> Any:
    # On a secret ballot the voter is not written next to the choice.
    return None if ballot.secret else actor


# --------------------------------------------------------------------------- ballots


def ballot_create(
    *,
    actor: Any,
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
    with transaction.atomic():
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
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="voting.ballot_created",
            target=ballot,
            community_id=community.pk,
            payload={
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
            },
        )
    return ballot


def _snapshot_roll(ballot: Ballot) -> list[BallotVoter]:
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY:
        hh = Household.objects.filter(community_id=ballot.community_id)
        if ballot.eligibility == Ballot.Eligibility.OWNERS:
            hh = hh.filter(tenure=Household.Tenure.OWNER)
        return [
            BallotVoter(
                ballot=ballot, community_id=ballot.community_id, household_id=pk, area_m2=area
            )
            for pk, area in hh.order_by("pk").values_list("pk", "area_m2")
        ]
    residents = Resident.objects.filter(community_id=ballot.community_id, is_active=True)
    if ballot.eligibility == Ballot.Eligibility.ALL_RESIDENTS:
        adult_year = timezone.localtime().year - ADULT_AGE
        residents = residents.filter(birth_year__lte=adult_year)
    else:
        residents = residents.filter(pk__in=ballot.voter_resident_ids)
    return [
        BallotVoter(ballot=ballot, community_id=ballot.community_id, resident_id=pk)
        for pk in residents.order_by("pk").values_list("pk", flat=True)
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


# --------------------------------------------------------------------------- votes


@dataclass(frozen=True)
class _Seen:
    """Everything a vote needs to know, read with one statement (see _eligibility)."""

    found: bool  # the resident (direct) or the live proxy (on behalf) exists
    voter_id: int | None
    area: Decimal
    delegated: bool  # direct votes: the voter has handed their vote to a proxy
    proxy_id: int | None
    vote_id: int | None  # the voter's existing vote
    vote_channel: str
    keyed: tuple[int, int, str, str, list[int]] | None  # vote with this idempotency key
    # The resident's own row (direct votes): is_active, community_id, birth_year
    resident: tuple[bool, int, int] | None


_Q2 = Decimal("0.01")


def _as_decimal(value: Any) -> Decimal:
    # SQLite hands a NUMERIC column back as int/float; the roll stores 2 decimals.
    return Decimal(str(value if value is not None else 0)).quantize(_Q2)


def _as_choices(value: Any) -> list[int]:
    return list(json.loads(value) if isinstance(value, str | bytes) else value)


def _eligibility(ballot: Ballot, me_id: int, key: str, on_behalf_of: Resident | None) -> _Seen:
    """One SELECT for the whole eligibility of a vote: the roll entry (or the live
    proxy naming the actor), whether it is delegated, the voter's existing vote and
    the vote already made with this idempotency key. LEFT JOINs, so a missing piece
    is a NULL, not a second query."""
    t = {
        "r": Resident._meta.db_table,
        "bv": BallotVoter._meta.db_table,
        "v": Vote._meta.db_table,
        "p": ProxyGrant._meta.db_table,
    }
    qn = connection.ops.quote_name
    r, bv, v, p = (qn(t[k]) for k in ("r", "bv", "v", "p"))
    vote_cols = "v.id, v.channel, k.id, k.voter_id, k.receipt_nonce, k.channel, k.choices"
    vote_joins = (
        f"LEFT JOIN {v} v ON v.voter_id = bv.id AND v.community_id = %(c)s "
        f"LEFT JOIN {v} k ON k.ballot_id = %(b)s AND k.community_id = %(c)s "
        "AND k.idempotency_key = %(key)s AND k.idempotency_key <> '' "
    )
    params: dict[str, Any] = {"b": ballot.pk, "c": ballot.community_id, "key": key, "me": me_id}
    if on_behalf_of is not None:
        params["principal"] = on_behalf_of.pk
        sql = (
            f"SELECT p.id, bv.id, bv.area_m2, {vote_cols} FROM {p} p "  # noqa: S608 (table names from model meta, values bound)
            f"JOIN {bv} bv ON bv.id = p.voter_id AND bv.community_id = %(c)s "
            f"{vote_joins}"
            "WHERE p.ballot_id = %(b)s AND p.community_id = %(c)s "
            "AND p.principal_id = %(principal)s AND p.agent_id = %(me)s "
            "AND p.revoked_at IS NULL"
        )
    else:
        roll = (
            "bv.household_id = r.household_id"
            if ballot.eligibility in HOUSEHOLD_ELIGIBILITY
            else "bv.resident_id = r.id"
        )
        sql = (
            "SELECT r.is_active, r.community_id, r.birth_year, bv.id, bv.area_m2, "  # noqa: S608
            f"EXISTS (SELECT 1 FROM {p} p WHERE p.voter_id = bv.id "
            "AND p.community_id = %(c)s AND p.revoked_at IS NULL), "
            f"{vote_cols} FROM {r} r "
            f"LEFT JOIN {bv} bv ON bv.ballot_id = %(b)s AND bv.community_id = %(c)s AND {roll} "
            f"{vote_joins}"
            "WHERE r.id = %(me)s"
        )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    if row is None:
        return _Seen(False, None, Decimal("0"), False, None, None, "", None, None)
    if on_behalf_of is not None:
        proxy_id, voter_id, area, *rest = row
        resident = None
        delegated = False
    else:
        active, community_id, birth_year, voter_id, area, delegated, *rest = row
        proxy_id = None
        resident = (bool(active), int(community_id), int(birth_year))
    vote_id, vote_channel, k_id, k_voter, k_nonce, k_channel, k_choices = rest
    keyed = (
        (int(k_id), int(k_voter), str(k_nonce), str(k_channel), _as_choices(k_choices))
        if k_id is not None
        else None
    )
    return _Seen(
        found=True,
        voter_id=voter_id,
        area=_as_decimal(area),
        delegated=bool(delegated),
        proxy_id=proxy_id,
        vote_id=vote_id,
        vote_channel=vote_channel or "",
        keyed=keyed,
        resident=resident,
    )


def _finish_vote(w: Write, ballot: Ballot, action: str, payload: dict[str, Any]) -> None:
    """The end of every vote write: its audit event, then the ballot recheck as the
    last statement (FOR KEY SHARE until commit, see :func:`_recheck_open`)."""
    w.also(action=action, target=ballot, payload=payload)
    _recheck_open(ballot.pk)


@contextmanager
def _vote_write(
    actor: Actor, ballot: Ballot, action: str, *, anonymous: bool | None = None
) -> Iterator[Write]:
    """``governed_write`` for a vote. The event is written by :func:`_finish_vote`
    (``w.also``) so that the ballot recheck stays the last statement; on a secret
    ballot the voter is not written next to the choice (``audit_actor=None`` means
    "the actor", so an anonymous user stands for "no one")."""
    with governed_write(actor=actor, action=action, community_id=ballot.community_id) as w:
        w.record = False
        if ballot.secret if anonymous is None else anonymous:
            w.audit_actor = AnonymousUser()
        yield w


def vote_cast(
    *,
    actor: Actor,
    ballot: Ballot,
    choices: Any,
    idempotency_key: str | None = None,
    on_behalf_of: Resident | None = None,
) -> CastResult:
    """Cast (or, where the ballot allows, change) the actor's vote — or the vote of
    ``on_behalf_of`` under a live written proxy held by the actor.

    Statements (first vote and a changed vote alike): one SELECT for eligibility,
    one INSERT … ON CONFLICT DO NOTHING RETURNING (or one UPDATE), the audit INSERT,
    the ballot recheck — plus the transaction. The actor's scope is the request's
    (computed once, cached on the user)."""
    me_id = scope_of(actor).resident_id
    if me_id is None:
        raise PermissionDenied(_("只有登记在册的居民才能投票。"), code="not_eligible")
    now = timezone.now()
    _require_voting_window(ballot, now)
    picked = _clean_choices(ballot, choices)
    key = (idempotency_key or "").strip()[:64]
    seen = _eligibility(ballot, me_id, key, on_behalf_of)
    if on_behalf_of is not None:
        if not seen.found or seen.voter_id is None:
            raise PermissionDenied(_("您没有该居民本次投票的有效委托。"), code="no_proxy")
    else:
        if not _on_roll(ballot, seen, now):
            me = Resident.objects.select_related("household").get(pk=me_id)
            raise _not_eligible(ballot, me)
        if seen.delegated:
            raise Conflict(
                _("您（或您户）已委托他人代为投票；如需亲自投票，请先撤销委托。"),
                code="delegated",
            )
    voter_id = seen.voter_id
    assert voter_id is not None
    if seen.keyed is not None:
        k_id, k_voter, k_nonce, k_channel, k_choices = seen.keyed
        if k_voter != voter_id:
            raise Conflict(_("请求编号已被使用。"), code="idempotency_conflict")
        earlier = Vote(
            pk=k_id,
            ballot=ballot,
            voter_id=k_voter,
            choices=k_choices,
            channel=k_channel,
            receipt_nonce=k_nonce,
            receipt_hash=receipt_hash(receipt_for(k_nonce)),
            idempotency_key=key,
            community_id=ballot.community_id,
        )
        return CastResult(earlier, receipt_for(k_nonce), replayed=True)
    if seen.vote_id is not None:
        return _change_vote(actor, ballot, seen, picked, key, me_id, now)
    nonce, code, rhash = _new_receipt()
    vote = Vote(
        ballot=ballot,
        community_id=ballot.community_id,
        voter_id=voter_id,
        choices=picked,
        channel=Vote.Channel.ONLINE,
        cast_by_id=me_id,
        proxy_id=seen.proxy_id,
        area_m2=seen.area,
        receipt_nonce=nonce,
        receipt_hash=rhash,
        idempotency_key=key,
    )
    with _vote_write(actor, ballot, "voting.vote_cast") as w:
        if not _insert_vote(vote):
            # Another submission for the same voter committed first.
            raise Conflict(_("您已经投过票了。"), code="already_voted")
        _finish_vote(w, ballot, "voting.vote_cast", _vote_payload(ballot, vote, voter_id))
    return CastResult(vote, code)


def _on_roll(ballot: Ballot, seen: _Seen, now: datetime) -> bool:
    """What :func:`voter_for` decides, from the row :func:`_eligibility` read."""
    if not seen.found or seen.resident is None or seen.voter_id is None:
        return False
    active, community_id, birth_year = seen.resident
    if not active or community_id != ballot.community_id:
        return False
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY:
        return birth_year <= timezone.localtime(now).year - ADULT_AGE
    return True


_VOTE_INSERT_FIELDS = [f for f in Vote._meta.concrete_fields if not f.primary_key]


def _insert_vote(vote: Vote) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (SQLite ≥ 3.35 and
    PostgreSQL): one statement instead of savepoint + INSERT + release, and a
    concurrent vote for the same voter (``vote_one_per_voter``) or a reused
    idempotency key leaves no row instead of an error. Sets ``vote.pk``; False when
    the row was not inserted. (``bulk_create(ignore_conflicts=True)`` does not
    return the id; this is the same InsertQuery with RETURNING kept.)"""
    rows = Vote._default_manager._insert(  # type: ignore[attr-defined]
        [vote],
        fields=_VOTE_INSERT_FIELDS,
        returning_fields=[Vote._meta.pk],
        on_conflict=OnConflict.IGNORE,
    )
    if not rows:
        return False
    vote.pk = rows[0][0]
    vote._state.adding = False
    return True


def _change_vote(
    actor: Actor,
    ballot: Ballot,
    seen: _Seen,
    picked: list[int],
    key: str,
    me_id: int,
    now: datetime,
) -> CastResult:
    if seen.vote_channel == Vote.Channel.PAPER:
        raise Conflict(_("已登记纸质投票，不能再在线投票。"), code="already_voted_paper")
    if not ballot.allow_change:
        raise Conflict(_("您已经投过票了，本次投票不允许改票。"), code="already_voted")
    assert seen.vote_id is not None and seen.voter_id is not None
    nonce, code, rhash = _new_receipt()
    changes: dict[str, Any] = {
        "choices": picked,
        "cast_by_id": me_id,
        "proxy_id": seen.proxy_id,
        "receipt_nonce": nonce,
        "receipt_hash": rhash,
        "updated_at": now,
    }
    if key:
        changes["idempotency_key"] = key
    vote = Vote(
        pk=seen.vote_id,
        ballot=ballot,
        community_id=ballot.community_id,
        voter_id=seen.voter_id,
        channel=Vote.Channel.ONLINE,
        area_m2=seen.area,
        **changes,
    )
    vote._state.adding = False
    with _vote_write(actor, ballot, "voting.vote_changed") as w:
        # The UPDATE takes the vote's row lock before the event is written, so two
        # changes of one vote commit in the order of their events.
        updated = Vote.objects.filter(
            pk=seen.vote_id, community_id=ballot.community_id, channel=Vote.Channel.ONLINE
        ).update(**changes)
        if not updated:
            # Withdrawn (proxy revoked) between the read and the write.
            raise Conflict(_("您的选票刚刚发生变化，请刷新后重试。"), code="vote_changed")
        _finish_vote(w, ballot, "voting.vote_changed", _vote_payload(ballot, vote, seen.voter_id))
    return CastResult(vote, code, changed=True)


def paper_vote_record(
    *,
    actor: Any,
    second_staff: Any,
    ballot: Ballot,
    resident: Resident,
    choices: Any,
    note: str = "",
) -> CastResult:
    """Enter a paper ballot. Two different staff members of the community both sign
    for it; it has the same weight as an online vote and excludes one."""
    if not perms.can_enter_paper_vote(actor, ballot):
        raise PermissionDenied(_("您不能为这次投票录入纸质票。"))
    if second_staff is None or getattr(second_staff, "pk", None) == getattr(actor, "pk", None):
        raise ValidationFailed(_("纸质票须由两名不同的工作人员共同录入。"), field="second_staff")
    if not perms.manages_ballot(second_staff, ballot):
        raise PermissionDenied(_("第二位录入人不是本社区的工作人员。"), field="second_staff")
    _require_voting_window(ballot, timezone.now())
    picked = _clean_choices(ballot, choices)
    voter = voter_for(ballot, resident)
    if voter is None:
        raise _not_eligible(ballot, resident)
    existing = Vote.objects.filter(community_id=ballot.community_id, voter=voter).first()
    if existing is not None:
        raise Conflict(
            _("该选民已%(ch)s投票，线上与纸质只能二选一。")
            % {"ch": Vote.Channel(existing.channel).label},
            code="already_voted",
        )
    # The staff member who entered it is named in the log, secret ballot or not.
    with _vote_write(actor, ballot, "voting.vote_cast", anonymous=False) as w:
        nonce, code, rhash = _new_receipt()
        vote = Vote(
            ballot=ballot,
            community_id=ballot.community_id,
            voter=voter,
            choices=picked,
            channel=Vote.Channel.PAPER,
            cast_by=resident,
            entered_by=actor,
            second_staff=second_staff,
            area_m2=voter.area_m2,
            receipt_nonce=nonce,
            receipt_hash=rhash,
            note=(note or "")[:200],
        )
        if not _insert_vote(vote):
            raise Conflict(_("该选民已经投过票了。"), code="already_voted")
        payload = _vote_payload(ballot, vote, voter.pk)
        payload["entered_by"] = actor.pk
        payload["second_staff"] = second_staff.pk
        _finish_vote(w, ballot, "voting.vote_cast", payload)
    return CastResult(vote, code)


# --------------------------------------------------------------------------- proxies


def proxy_grant(
    *,
    actor: Any,
    ballot: Ballot,
    principal: Resident,
    agent: Resident,
    mandate_text: str,
) -> ProxyGrant:
    """Record a written proxy (书面委托). Recorded by the principal online or by staff
    from the paper mandate. No chains: an agent who has delegated their own vote, or a
    principal who holds someone else's proxy, is refused."""
    scope = scope_of(actor)
    if not (scope.resident_id == principal.pk or perms.manages_ballot(actor, ballot)):
        raise PermissionDenied(_("只有委托人本人或社区工作人员可以登记委托。"))
    _require_voting_window(ballot, timezone.now())
    mandate = (mandate_text or "").strip()
    if not mandate:
        raise ValidationFailed(_("请填写委托书内容。"), field="mandate_text")
    if len(mandate) > 2000:
        raise ValidationFailed(_("委托书内容不超过 2000 字。"), field="mandate_text")
    if principal.pk == agent.pk:
        raise ValidationFailed(_("不能委托给自己。"), code="self_proxy", field="agent")
    if agent.community_id != ballot.community_id or not agent.is_active:
        raise ValidationFailed(_("受托人须为本社区在册居民。"), field="agent")
    voter = voter_for(ballot, principal)
    if voter is None:
        raise _not_eligible(ballot, principal)
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY and agent.household_id == principal.household_id:
        raise ValidationFailed(
            _("同户成员可以直接代表本户投票，无需委托。"), code="self_proxy", field="agent"
        )
    agent_voter = voter_for(ballot, agent)
    cid = ballot.community_id
    with governed_write(actor=actor, action="voting.proxy_granted", community_id=cid) as w:
        # Lock both roll entries (in id order, to avoid deadlocks) so two grants that
        # together would form a chain cannot both pass the checks below.
        lock_rows(
            BallotVoter.objects.filter(community_id=cid),
            {voter.pk} | ({agent_voter.pk} if agent_voter else set()),
        )
        if Vote.objects.filter(community_id=cid, voter=voter).exists():
            raise Conflict(_("委托人已经投票，不能再委托。"), code="already_voted")
        live = ProxyGrant.objects.filter(community_id=cid, revoked_at__isnull=True)
        if live.filter(voter=voter).exists():
            raise Conflict(_("该选民已有有效委托，请先撤销原委托。"), code="proxy_exists")
        if live.filter(ballot=ballot, agent=principal).exists():
            raise ValidationFailed(
                _("委托人本身是他人的受托人，受托的投票权不能再转委托。"), code="proxy_chain"
            )
        if agent_voter is not None and live.filter(voter=agent_voter).exists():
            raise ValidationFailed(
                _("受托人已将自己的投票委托他人，不能形成委托链。"), code="proxy_chain"
            )
        if agent_voter is not None and agent_voter.pk == voter.pk:
            raise ValidationFailed(_("不能委托给自己。"), code="self_proxy", field="agent")
        grant = ProxyGrant.objects.create(
            ballot=ballot,
            community_id=cid,
            voter=voter,
            principal=principal,
            agent=agent,
            mandate_text=mandate,
            recorded_by=actor,
        )
        w.target = ballot
        w.payload = {
            "proxy": grant.pk,
            "voter": voter_tag(ballot, voter.pk),
            "principal": principal.pk,
            "agent": agent.pk,
            "mandate_sha256": hashlib.sha256(mandate.encode()).hexdigest(),
        }
    return grant


def proxy_revoke(*, actor: Any, proxy: ProxyGrant, reason: str = "") -> ProxyGrant:
    """Revoke before close. A vote the agent already cast under it is withdrawn, so the
    principal can vote in person."""
    ballot = proxy.ballot
    scope = scope_of(actor)
    if not (scope.resident_id == proxy.principal_id or perms.manages_ballot(actor, ballot)):
        raise PermissionDenied(_("只有委托人本人或社区工作人员可以撤销委托。"))
    if proxy.revoked_at is not None:
        raise Conflict(_("该委托已撤销。"), code="proxy_revoked")
    _require_voting_window(ballot, timezone.now())
    cid = ballot.community_id
    with governed_write(actor=actor, action="voting.proxy_revoked", community_id=cid) as w:
        w.record = False  # two events, in this order, then the recheck
        proxy = lock_row(ProxyGrant.objects.all(), proxy.pk, community_id=cid)
        if proxy.revoked_at is not None:
            raise Conflict(_("该委托已撤销。"), code="proxy_revoked")
        proxy.revoked_at = timezone.now()
        proxy.revoked_by = actor
        proxy.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        w.also(
            action="voting.proxy_revoked",
            target=ballot,
            payload={"proxy": proxy.pk, "reason": (reason or "")[:200]},
        )
        withdrawn = Vote.objects.filter(community_id=cid, proxy=proxy).first()
        if withdrawn is not None:
            withdrawn.delete()
            if ballot.secret:
                w.audit_actor = AnonymousUser()  # the withdrawn vote names no one
            w.also(
                action="voting.vote_withdrawn",
                target=ballot,
                payload={"voter": voter_tag(ballot, proxy.voter_id), "reason": "proxy_revoked"},
            )
        _recheck_open(ballot.pk)
    return proxy


# --------------------------------------------------------------------------- 事后追认


def ratification_deadline(ballot: Ballot) -> datetime | None:
    if not ballot.ratification_days or ballot.closed_at is None:
        return None
    return ballot.closed_at + timedelta(days=ballot.ratification_days)


def ratification_record(
    *,
    actor: Any,
    ballot: Ballot,
    resident: Resident,
    choices: Any,
    mandate_text: str = "",
) -> CastResult:
    """事后追认: an eligible voter who did not vote states their position after close,
    within the ballot's window. Entered by the voter online or by staff from a signed
    written statement (``mandate_text``)."""
    scope = scope_of(actor)
    is_self = scope.resident_id == resident.pk
    if not (is_self or perms.manages_ballot(actor, ballot)):
        raise PermissionDenied(_("只有本人或社区工作人员可以登记事后追认。"))
    if ballot.status != Ballot.Status.CLOSED:
        raise Conflict(_("投票结束后才能进行事后追认。"), code="ballot_not_closed")
    deadline = ratification_deadline(ballot)
    if deadline is None:
        raise Conflict(_("本次投票不接受事后追认。"), code="no_ratification")
    if timezone.now() > deadline:
        raise Conflict(
            _("事后追认已于 %(at)s 截止。")
            % {"at": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
            code="ratification_over",
        )
    if not is_self and not (mandate_text or "").strip():
        raise ValidationFailed(_("请填写书面追认材料的内容。"), field="mandate_text")
    picked = _clean_choices(ballot, choices)
    voter = voter_for(ballot, resident)
    if voter is None:
        raise _not_eligible(ballot, resident)
    with _vote_write(actor, ballot, "voting.vote_ratified") as w:
        nonce, code, rhash = _new_receipt()
        vote = Vote(
            ballot=ballot,
            community_id=ballot.community_id,
            voter=voter,
            choices=picked,
            channel=Vote.Channel.RATIFICATION,
            cast_by=resident,
            entered_by=None if is_self else actor,
            area_m2=voter.area_m2,
            receipt_nonce=nonce,
            receipt_hash=rhash,
            note=(mandate_text or "").strip()[:200],
        )
        if not _insert_vote(vote):
            raise Conflict(_("该选民已参加投票，不需要事后追认。"), code="already_voted")
        # No recheck: ratification happens after the close, on a closed ballot.
        w.also(
            action="voting.vote_ratified",
            target=ballot,
            payload=_vote_payload(ballot, vote, voter.pk),
        )
    return CastResult(vote, code)


# The brief names this service "ratification"; both names work.
ratification = ratification_record


def ballot_get(pk: int) -> Ballot:
    ballot = Ballot.objects.select_related("community").filter(pk=pk).first()
    if ballot is None:
        raise NotFound()
    return ballot
