"""Paper votes entered by two staff members."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.core.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotVoter, Vote
from linli.voting.services._common import (
    CastResult,
    _clean_choices,
    _finish_vote,
    _insert_vote,
    _new_receipt,
    _not_eligible,
    _require_voting_window,
    _signed_in,
    _vote_payload,
    _vote_write,
    co_owner_refusal,
    voter_for,
)


def paper_vote_record(
    *,
    actor: Actor,
    second_staff: Actor,
    ballot: Ballot,
    resident: Resident | None = None,
    choices: Any,
    note: str = "",
    voter: BallotVoter | None = None,
) -> CastResult:
    """Enter a paper ballot. Two different staff members of the community both sign
    for it; it has the same weight as an online vote and excludes one.

    The voter is the signing ``resident``, or on an owners' ballot a roll entry
    (``voter``) whose owners cannot vote online — an outside owner or the developer,
    whose signed ballot the two staff members hold (the note names it)."""
    if not perms.can_enter_paper_vote(actor, ballot):
        raise PermissionDenied(_("您不能为这次投票录入纸质票。"))
    if second_staff is None or getattr(second_staff, "pk", None) == getattr(actor, "pk", None):
        raise ValidationFailed(_("纸质票须由两名不同的工作人员共同录入。"), field="second_staff")
    if not perms.manages_ballot(second_staff, ballot):
        raise PermissionDenied(_("第二位录入人不是本社区的工作人员。"), field="second_staff")
    _require_voting_window(ballot, timezone.now())
    picked = _clean_choices(ballot, choices)
    if resident is not None:
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
    elif voter is None or not ballot.uses_owner_roll or voter.ballot_id != ballot.pk:
        raise ValidationFailed(_("请指定选民。"), field="resident")
    elif not (note or "").strip():
        raise ValidationFailed(
            _("为非住户业主或建设单位录入纸质票时，请在备注中写明签署人和票据编号。"),
            field="note",
        )
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
            entered_by=_signed_in(actor),
            second_staff=_signed_in(second_staff),
            area_m2=voter.area_m2,
            receipt_nonce=nonce,
            receipt_hash=rhash,
            note=(note or "")[:200],
        )
        if not _insert_vote(vote):
            raise Conflict(_("该选民已经投过票了。"), code="already_voted")
        payload = _vote_payload(ballot, vote, voter.pk)
        payload["entered_by"] = vote.entered_by_id
        payload["second_staff"] = vote.second_staff_id
        _finish_vote(w, ballot, "voting.vote_cast", payload)
    return CastResult(vote, code)
