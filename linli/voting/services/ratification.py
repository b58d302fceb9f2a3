"""事后追认: ratification after close."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
from linli.voting import permissions as perms
from linli.voting.models import Ballot, Vote
from linli.voting.services._common import (
    CastResult,
    _clean_choices,
    _insert_vote,
    _new_receipt,
    _not_eligible,
    _signed_in,
    _vote_payload,
    _vote_write,
    co_owner_refusal,
    voter_for,
)


def ratification_deadline(ballot: Ballot) -> datetime | None:
    if not ballot.ratification_days or ballot.closed_at is None:
        return None
    return ballot.closed_at + timedelta(days=ballot.ratification_days)


def ratification_record(
    *,
    actor: Actor,
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
    refusal = co_owner_refusal(
        ballot,
        owner_count=voter.owner_count,
        representative_id=voter.representative_id,
        resident_id=resident.pk,
    )
    if refusal is not None:
        raise refusal
    with _vote_write(actor, ballot, "voting.vote_ratified") as w:
        nonce, code, rhash = _new_receipt()
        vote = Vote(
            ballot=ballot,
            community_id=ballot.community_id,
            voter=voter,
            choices=picked,
            channel=Vote.Channel.RATIFICATION,
            cast_by=resident,
            entered_by=None if is_self else _signed_in(actor),
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
