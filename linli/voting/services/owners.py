"""Owners' ballots: who casts a co-owned unit's vote (the co-owners' representative)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotCaster, BallotVoter, ProxyGrant, Vote
from linli.voting.services._common import _recheck_open, _require_voting_window, voter_tag


def representative_set(
    *, actor: Actor, ballot: Ballot, voter: BallotVoter, resident: Resident, note: str
) -> BallotVoter:
    """Record the representative the co-owners of a unit chose for this ballot
    (from their written agreement, named in ``note``). Staff only — a co-owner cannot
    appoint themself — and only until the unit's vote is cast or delegated: the
    entry row is locked, so a vote racing this change either comes first (and the
    change is refused) or is judged against the new representative."""
    if not perms.can_set_representative(actor, ballot):
        raise PermissionDenied(_("只有社区工作人员可以根据共有人的书面约定登记代表。"))
    _require_voting_window(ballot, timezone.now())
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("请填写共有人推选代表的书面约定（如协议编号、签署日期）。"))
    if len(note) > 200:
        raise ValidationFailed(_("说明不超过 200 字。"))
    cid = ballot.community_id
    if voter.ballot_id != ballot.pk or not voter.owner_key:
        raise NotFound()
    with governed_write(actor=actor, action="voting.representative_set", community_id=cid) as w:
        w.record = False  # the event, then the ballot recheck as the last statement
        entry = lock_row(BallotVoter.objects.all(), voter.pk, community_id=cid, ballot=ballot)
        if entry.owner_count <= 1:
            raise ValidationFailed(_("该房屋没有其他共有人，无需登记代表。"))
        if not BallotCaster.objects.filter(
            community_id=cid, ballot=ballot, voter=entry, resident=resident
        ).exists():
            raise ValidationFailed(_("代表须为该房屋登记的共有人（在册居民）。"))
        if Vote.objects.filter(community_id=cid, voter=entry).exists():
            raise Conflict(_("该房屋已经投票，不能再更换代表。"), code="already_voted")
        if ProxyGrant.objects.filter(
            community_id=cid, voter=entry, revoked_at__isnull=True
        ).exists():
            raise Conflict(_("该房屋的投票已委托他人，请先撤销委托。"), code="proxy_exists")
        before = entry.representative_id
        if before == resident.pk:
            return entry  # already recorded (a resubmitted form): nothing written
        entry.representative_id = resident.pk
        BallotVoter.objects.filter(pk=entry.pk, community_id=cid).update(
            representative_id=resident.pk
        )
        w.also(
            action="voting.representative_set",
            target=ballot,
            payload={
                "voter": voter_tag(ballot, entry.pk),
                "from": before,
                "to": resident.pk,
                "note": note,
            },
        )
        _recheck_open(ballot.pk, cid)
    return entry
