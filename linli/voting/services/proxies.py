"""Written proxies (书面委托): grant and revoke."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AnonymousUser
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
from linli.core.writes import governed_write, lock_row, lock_rows
from linli.voting import permissions as perms
from linli.voting.models import Ballot, BallotCaster, BallotVoter, ProxyGrant, Vote
from linli.voting.services._common import (
    HOUSEHOLD_ELIGIBILITY,
    _not_eligible,
    _recheck_open,
    _require_voting_window,
    _signed_in,
    co_owner_refusal,
    voter_for,
    voter_tag,
)


def proxy_grant(
    *,
    actor: Actor,
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
    if ballot.uses_owner_roll:
        # Only who may cast the entry's vote can hand it on (a co-owned unit's
        # representative under the representative rule); a co-owner who may cast it
        # directly needs no proxy. Tenants and family members may hold one.
        refusal = co_owner_refusal(
            ballot,
            owner_count=voter.owner_count,
            representative_id=voter.representative_id,
            resident_id=principal.pk,
        )
        if refusal is not None:
            raise refusal
        agent_casts = BallotCaster.objects.filter(
            community_id=ballot.community_id, ballot=ballot, voter=voter, resident=agent
        ).exists()
        if agent_casts and (
            co_owner_refusal(
                ballot,
                owner_count=voter.owner_count,
                representative_id=voter.representative_id,
                resident_id=agent.pk,
            )
            is None
        ):
            raise ValidationFailed(
                _("受托人本身可以为该房屋投票，无需委托。"), code="self_proxy", field="agent"
            )
    elif (
        ballot.eligibility in HOUSEHOLD_ELIGIBILITY and agent.household_id == principal.household_id
    ):
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
            recorded_by=_signed_in(actor),
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


def proxy_revoke(*, actor: Actor, proxy: ProxyGrant, reason: str = "") -> ProxyGrant:
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
        proxy.revoked_by = _signed_in(actor)
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
        _recheck_open(ballot.pk, ballot.community_id)
    return proxy
