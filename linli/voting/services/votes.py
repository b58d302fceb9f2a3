"""Online votes: cast, change, idempotent replay — within the statement budget."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.voting.models import Ballot, BallotCaster, BallotVoter, ProxyGrant, Vote
from linli.voting.services._common import (
    ADULT_AGE,
    HOUSEHOLD_ELIGIBILITY,
    CastResult,
    _clean_choices,
    _finish_vote,
    _insert_vote,
    _new_receipt,
    _not_eligible,
    _require_voting_window,
    _vote_payload,
    _vote_write,
    co_owner_refusal,
    co_owner_voted,
    receipt_for,
    receipt_hash,
)


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
    # The existing vote's choices and receipt nonce: a "change" to the same choices
    # keeps the receipt and writes nothing.
    vote_choices: list[int] | None
    vote_nonce: str
    keyed: tuple[int, int, str, str, list[int]] | None  # vote with this idempotency key
    # The resident's own row (direct votes): is_active, community_id, birth_year
    resident: tuple[bool, int, int] | None
    # Owners' entries: co-owners, their representative, who cast the existing vote,
    # and how many entries the resident may cast (several: ``voter_id`` must pick).
    owner_count: int = 1
    representative_id: int | None = None
    vote_cast_by: int | None = None
    entries: int = 1


_Q2 = Decimal("0.01")


def _as_decimal(value: Any) -> Decimal:
    # SQLite hands a NUMERIC column back as int/float; the roll stores 2 decimals.
    return Decimal(str(value if value is not None else 0)).quantize(_Q2)


def _as_choices(value: Any) -> list[int]:
    return list(json.loads(value) if isinstance(value, str | bytes) else value)


def _eligibility(
    ballot: Ballot, me_id: int, key: str, on_behalf_of: Resident | None, voter_id: int | None
) -> _Seen:
    """One SELECT for the whole eligibility of a vote: the roll entry (or the live
    proxy naming the actor), whether it is delegated, the voter's existing vote and
    the vote already made with this idempotency key. LEFT JOINs, so a missing piece
    is a NULL, not a second query. On owners' ballots the entry is found through
    the casters frozen at opening (one row per entry the resident may cast)."""
    t = {
        "r": Resident._meta.db_table,
        "bv": BallotVoter._meta.db_table,
        "v": Vote._meta.db_table,
        "p": ProxyGrant._meta.db_table,
        "c": BallotCaster._meta.db_table,
    }
    qn = connection.ops.quote_name
    r, bv, v, p, c = (qn(t[k]) for k in ("r", "bv", "v", "p", "c"))
    vote_cols = (
        "v.id, v.channel, v.choices, v.receipt_nonce, "
        "k.id, k.voter_id, k.receipt_nonce, k.channel, k.choices, "
        "bv.owner_count, bv.representative_id, v.cast_by_id"
    )
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
    elif ballot.uses_owner_roll:
        pick = ""
        if voter_id is not None:
            params["voter"] = voter_id
            pick = "AND c.voter_id = %(voter)s "
        sql = (
            "SELECT r.is_active, r.community_id, r.birth_year, bv.id, bv.area_m2, "  # noqa: S608
            f"EXISTS (SELECT 1 FROM {p} p WHERE p.voter_id = bv.id "
            "AND p.community_id = %(c)s AND p.revoked_at IS NULL), "
            f"{vote_cols} FROM {r} r "
            f"LEFT JOIN {c} c ON c.resident_id = r.id AND c.ballot_id = %(b)s "
            f"AND c.community_id = %(c)s {pick}"
            f"LEFT JOIN {bv} bv ON bv.id = c.voter_id AND bv.community_id = %(c)s "
            f"{vote_joins}"
            "WHERE r.id = %(me)s ORDER BY bv.id"
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
        rows = cur.fetchall()
    if not rows:
        return _Seen(False, None, Decimal("0"), False, None, None, "", None, "", None, None)
    row = rows[0]
    if on_behalf_of is not None:
        proxy_id, voter_id, area, *rest = row
        resident = None
        delegated = False
    else:
        active, community_id, birth_year, voter_id, area, delegated, *rest = row
        proxy_id = None
        resident = (bool(active), int(community_id), int(birth_year))
    (
        vote_id,
        vote_channel,
        v_choices,
        v_nonce,
        k_id,
        k_voter,
        k_nonce,
        k_channel,
        k_choices,
        owner_count,
        representative_id,
        vote_cast_by,
    ) = rest
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
        vote_choices=_as_choices(v_choices) if v_choices is not None else None,
        vote_nonce=str(v_nonce or ""),
        keyed=keyed,
        resident=resident,
        owner_count=int(owner_count or 1),
        representative_id=representative_id,
        vote_cast_by=vote_cast_by,
        entries=len(rows),
    )


def vote_cast(
    *,
    actor: Actor,
    ballot: Ballot,
    choices: Any,
    idempotency_key: str | None = None,
    on_behalf_of: Resident | None = None,
    voter_id: int | None = None,
) -> CastResult:
    """Cast (or, where the ballot allows, change) the actor's vote — or the vote of
    ``on_behalf_of`` under a live written proxy held by the actor.

    Owners' ballots: the actor casts the entry of the units they own (all their sole
    units at once, area summed); ``voter_id`` picks the entry when they are in several
    (e.g. a unit co-owned with others as well). A co-owned unit follows the ballot's
    co-owner rule, and a vote one co-owner cast is never changed by another.

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
    seen = _eligibility(ballot, me_id, key, on_behalf_of, voter_id)
    if on_behalf_of is not None:
        if not seen.found or seen.voter_id is None:
            raise PermissionDenied(_("您没有该居民本次投票的有效委托。"), code="no_proxy")
    else:
        if not _on_roll(ballot, seen, now):
            me = Resident.objects.select_related("household").get(pk=me_id)
            raise _not_eligible(ballot, me)
        if seen.entries > 1:
            raise ValidationFailed(
                _("您是多套房屋的产权人，其中有与他人共有的房屋：请选择为哪一项投票。"),
                code="pick_entry",
                field="voter",
            )
        refusal = co_owner_refusal(
            ballot,
            owner_count=seen.owner_count,
            representative_id=seen.representative_id,
            resident_id=me_id,
        )
        if refusal is not None:
            raise refusal
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
            # Another submission for the same voter committed first (on an owners'
            # ballot possibly another co-owner: the first vote stands).
            if ballot.uses_owner_roll and seen.owner_count > 1:
                raise co_owner_voted()
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
    # Owners' ballots: another co-owner's vote stands, even where changes are allowed
    # (a change is the voter's own, not a second co-owner's overwrite).
    owners = ballot.uses_owner_roll
    if owners and seen.vote_cast_by != me_id:
        raise co_owner_voted()
    if not ballot.allow_change:
        raise Conflict(_("您已经投过票了，本次投票不允许改票。"), code="already_voted")
    assert seen.vote_id is not None and seen.voter_id is not None
    if seen.vote_choices is not None and sorted(seen.vote_choices) == picked:
        # Nothing changed (修改投票 pressed without a new choice): keep the vote and
        # its receipt — a new receipt would silently invalidate the one the voter
        # saved. No write, no audit event.
        same = Vote(
            pk=seen.vote_id,
            ballot=ballot,
            community_id=ballot.community_id,
            voter_id=seen.voter_id,
            choices=picked,
            channel=Vote.Channel.ONLINE,
            area_m2=seen.area,
            receipt_nonce=seen.vote_nonce,
            receipt_hash=receipt_hash(receipt_for(seen.vote_nonce)),
        )
        same._state.adding = False
        return CastResult(same, receipt_for(seen.vote_nonce), unchanged=True)
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
        mine = Vote.objects.filter(
            pk=seen.vote_id, community_id=ballot.community_id, channel=Vote.Channel.ONLINE
        )
        if owners:
            # Held by the statement itself: the row changes only if this person cast
            # it, so a co-owner's concurrent write cannot slip between read and update.
            mine = mine.filter(cast_by_id=me_id)
        updated = mine.update(**changes)
        if not updated:
            # Withdrawn (proxy revoked) between the read and the write.
            raise Conflict(_("您的选票刚刚发生变化，请刷新后重试。"), code="vote_changed")
        _finish_vote(w, ballot, "voting.vote_changed", _vote_payload(ballot, vote, seen.voter_id))
    return CastResult(vote, code, changed=True)
