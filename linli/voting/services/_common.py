"""Shared pieces of the voting services: receipts, eligibility rules, the vote write
skeleton (governed_write + the ballot recheck as the last statement)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.communities.models import Resident
from linli.core.errors import (
    Conflict,
    DomainError,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, share_lock
from linli.voting.models import Ballot, BallotVoter, Vote

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
    unchanged: bool = False  # a change to the same choices: nothing written, same receipt


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


def voters_for(ballot: Ballot, resident: Resident) -> list[BallotVoter]:
    """Every owners' roll entry ``resident`` may cast (usually one: a person's own
    units are one entry; units co-owned with others are further entries)."""
    if not resident.is_active or resident.community_id != ballot.community_id:
        return []
    return list(
        BallotVoter.objects.filter(
            community_id=ballot.community_id,
            ballot=ballot,
            casters__resident=resident,
            casters__community_id=ballot.community_id,
        ).order_by("pk")
    )


def voter_for(
    ballot: Ballot, resident: Resident, *, voter_id: int | None = None
) -> BallotVoter | None:
    """The roll entry ``resident`` votes for (their household's on household ballots,
    on owners' ballots the entry of the units they own — ``voter_id`` picks one when
    they are in several)."""
    if not resident.is_active or resident.community_id != ballot.community_id:
        return None
    if ballot.uses_owner_roll:
        entries = voters_for(ballot, resident)
        if voter_id is not None:
            return next((v for v in entries if v.pk == voter_id), None)
        return entries[0] if entries else None
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
    if ballot.uses_owner_roll:
        return PermissionDenied(
            _(
                "本次为业主投票，您不是登记的产权人，不能投业主票；"
                "如持有业主的书面委托，请以受托人身份代为投票。"
            ),
            code="not_owner",
        )
    if ballot.eligibility in HOUSEHOLD_ELIGIBILITY and not _is_adult(resident, timezone.now()):
        return PermissionDenied(_("未满 18 周岁不能代表本户投票。"), code="not_eligible")
    return PermissionDenied(_("您不在本次投票的选民名册中。"), code="not_eligible")


def co_owner_refusal(
    ballot: Ballot, *, owner_count: int, representative_id: int | None, resident_id: int
) -> DomainError | None:
    """The ballot's co-owner rule for one owners' roll entry: under "representative"
    a co-owned unit's vote is cast only by the representative the co-owners recorded;
    under "first" any co-owner may cast it and the first vote stands (enforced where
    the vote is written)."""
    if not ballot.uses_owner_roll or owner_count <= 1:
        return None
    if ballot.co_owner_rule != Ballot.CoOwnerRule.REPRESENTATIVE:
        return None
    if representative_id is None:
        return PermissionDenied(
            _("该房屋为共有房屋，共有人尚未登记投票代表；请先由社区登记共有人推选的代表。"),
            code="no_representative",
        )
    if representative_id != resident_id:
        return PermissionDenied(
            _("该房屋为共有房屋，由共有人推选的代表投票，您不是登记的代表。"),
            code="not_representative",
        )
    return None


def co_owner_voted() -> Conflict:
    return Conflict(
        _("该房屋的票已由另一位共有人投出（以先投者为准），不能覆盖他人的投票。"),
        code="co_owner_voted",
    )


def _signed_in(actor: Actor) -> User:
    """The actor as a signed-in user. Precondition: the service's permission check
    passed (only signed-in users pass one); anything else is refused."""
    if not isinstance(actor, User):
        raise PermissionDenied(_("请先登录。"))
    return actor


def _require_voting_window(ballot: Ballot, now: datetime) -> None:
    if ballot.status != Ballot.Status.OPEN:
        if ballot.status == Ballot.Status.CLOSED:
            raise Conflict(_("投票已结束，不能再投票。"), code="ballot_closed")
        raise Conflict(_("投票尚未开始。"), code="ballot_not_open")
    if now < ballot.opens_at:
        raise Conflict(_("投票尚未开始。"), code="ballot_not_open")
    if now >= ballot.closes_at:
        raise Conflict(_("投票已截止，不能再投票。"), code="ballot_closed")


def _recheck_open(ballot_id: int, community_id: int) -> None:
    """Last step of every vote write: hold FOR KEY SHARE on the ballot row until
    commit (many votes at once; a close's FOR UPDATE waits for them) and see the
    latest status — a close that committed first wins."""
    row = share_lock(Ballot, ballot_id, ["status"], community_id=community_id)
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


def _finish_vote(w: Write, ballot: Ballot, action: str, payload: dict[str, Any]) -> None:
    """The end of every vote write: its audit event, then the ballot recheck as the
    last statement (FOR KEY SHARE until commit, see :func:`_recheck_open`)."""
    w.also(action=action, target=ballot, payload=payload)
    _recheck_open(ballot.pk, ballot.community_id)


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


def _insert_vote(vote: Vote) -> bool:
    """One INSERT that skips on a unique key (``vote_one_per_voter`` or a reused
    idempotency key) instead of savepoint + INSERT + release; see
    :func:`linli.core.writes.insert_or_skip`."""
    return insert_or_skip(vote)
