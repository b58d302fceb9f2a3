"""Reads of 邻里互助 and 社区合伙人; each takes the viewer and returns only what they may
see ("not found" and "not allowed" look the same)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.core.errors import NotFound
from linli.core.types import Viewer
from linli.ledger.models import Account, AccountKind, Currency
from linli.mutualaid import matching
from linli.mutualaid.models import (
    Contribution,
    ContributionStatus,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    Offer,
    OfferStatus,
    Partner,
    PartnerOffering,
    PartnerStatus,
)
from linli.mutualaid.permissions import (
    aid_staff_community_ids,
    organisation_ids,
    partner_staff_community_ids,
)
from linli.mutualaid.states import sees_contribution, sees_match, sees_need

OPEN_MATCH = (MatchStatus.PROPOSED, MatchStatus.NEED_ACCEPTED, MatchStatus.HELPER_ACCEPTED)


def my_needs(*, viewer: Viewer) -> QuerySet[Need]:
    rid = scope_of(viewer).resident_id
    if rid is None:
        return Need.objects.none()
    cid = scope_of(viewer).community_id
    return Need.objects.filter(community_id=cid, requester_id=rid).order_by("-created_at")


def my_offers(*, viewer: Viewer) -> QuerySet[Offer]:
    scope = scope_of(viewer)
    if scope.resident_id is None:
        return Offer.objects.none()
    return Offer.objects.filter(
        community_id=scope.community_id, resident_id=scope.resident_id, status=OfferStatus.ACTIVE
    )


def matches_for_helper(*, viewer: Viewer) -> QuerySet[Match]:
    """Matches where the viewer is asked to help (as a resident, partner member or owner)."""
    scope = scope_of(viewer)
    q = Q(owner_user_id=getattr(viewer, "pk", 0))
    if scope.resident_id is not None:
        q |= Q(community_id=scope.community_id, helper_id=scope.resident_id)
    orgs = organisation_ids(viewer)
    if orgs:
        q |= Q(partner__organisation_id__in=orgs)
    return (
        Match.objects.filter(q)
        .exclude(status__in=[MatchStatus.DECLINED, MatchStatus.CANCELLED])
        .select_related(
            "need",
            "need__building",
            "need__requester__privacy",
            "need__requester__household__building",
            "partner",
            "helper",
        )
        .order_by("-created_at")
    )


def need_get_for(*, viewer: Viewer, pk: int) -> Need:
    need = (
        Need.objects.select_related("requester", "requester__household__building", "building")
        .filter(pk=pk)
        .first()
    )
    if need is None:
        raise NotFound()
    if sees_need(viewer, need):
        return need
    # A helper asked about this need sees it too (through their match).
    if any(sees_match(viewer, m) for m in need.matches.select_related("partner")):
        return need
    raise NotFound()


def match_get_for(*, viewer: Viewer, pk: int) -> Match:
    m = (
        Match.objects.select_related("need", "need__requester", "partner", "helper")
        .filter(pk=pk)
        .first()
    )
    if m is None or not sees_match(viewer, m):
        raise NotFound()
    return m


def matches_of_need(*, viewer: Viewer, need: Need) -> list[Match]:
    rows = list(
        Match.objects.filter(community_id=need.community_id, need_id=need.pk)
        .select_related("partner", "helper", "helper__household__building", "helper__privacy")
        .order_by("-score", "id")
    )
    for m in rows:
        m.need = need
    return [m for m in rows if sees_match(viewer, m)]


def suggestions_for(*, viewer: Viewer, need: Need, limit: int = 5) -> list[matching.Suggestion]:
    """Ranked candidates for an open need (the need side and staff only)."""
    if need.status != NeedStatus.OPEN or not sees_need(viewer, need):
        return []
    return matching.suggest(need, limit=limit)


@dataclass
class Waiting:
    need: Need
    age: timedelta
    proposals: int


def unmatched_for(*, viewer: Viewer, community_id: int | None = None) -> list[Waiting]:
    """Staff queue: open needs of the viewer's communities, oldest first, with their
    age and how many proposals are pending."""
    ids = aid_staff_community_ids(viewer)
    if community_id is not None:
        ids &= {community_id}
    if not ids:
        return []
    now = timezone.now()
    rows = (
        Need.objects.filter(community_id__in=ids, status=NeedStatus.OPEN)
        .select_related("requester", "building")
        .annotate(pending=Count("matches", filter=Q(matches__status__in=OPEN_MATCH)))
        .order_by("created_at", "id")[:300]
    )
    return [Waiting(n, now - n.created_at, int(getattr(n, "pending", 0))) for n in rows]


@dataclass
class TimeToMatch:
    community_id: int
    matched: int
    still_open: int
    median_hours: float | None
    p90_hours: float | None


def time_to_match(
    *, viewer: Viewer | None, community_ids: set[int] | None = None, since: datetime | None = None
) -> list[TimeToMatch]:
    """Hours from posting to an agreed match, per community (for the §8 assessment).
    ``viewer=None`` is the system (assessment jobs); a viewer sees their communities."""
    ids = set(community_ids or ())
    if viewer is not None:
        mine = aid_staff_community_ids(viewer)
        ids = ids & mine if ids else mine
    if not ids:
        return []
    since = since or timezone.now() - timedelta(days=365)
    base = Need.objects.filter(community_id__in=ids, created_at__gte=since)
    spans: dict[int, list[float]] = {c: [] for c in ids}
    for cid, created, matched in base.filter(matched_at__isnull=False).values_list(
        "community_id", "created_at", "matched_at"
    ):
        if matched is not None:
            spans[cid].append((matched - created).total_seconds() / 3600)
    still = dict(
        base.filter(status=NeedStatus.OPEN)
        .values("community_id")
        .annotate(n=Count("id"))
        .values_list("community_id", "n")
    )
    out = []
    for cid in sorted(ids):
        xs = sorted(spans[cid])
        p90 = xs[min(len(xs) - 1, int(len(xs) * 0.9))] if xs else None
        out.append(
            TimeToMatch(
                community_id=cid,
                matched=len(xs),
                still_open=int(still.get(cid, 0)),
                median_hours=round(median(xs), 1) if xs else None,
                p90_hours=round(p90, 1) if p90 is not None else None,
            )
        )
    return out


# --------------------------------------------------------------------------- partners


@dataclass
class PublicPartner:
    """What anyone may see: no person, no free text a resident wrote."""

    pk: int
    name: str
    kind: str
    intro: str
    address: str
    offerings: list[PartnerOffering]
    services: int
    people_served: int
    points: int


def public_partners(*, community_id: int | None = None) -> list[PublicPartner]:
    qs = Partner.objects.filter(public=True, status=PartnerStatus.ACTIVE).select_related(
        "organisation"
    )
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    partners = list(qs.order_by("community_id", "id")[:200])
    ids = [p.pk for p in partners]
    totals = {
        r["partner_id"]: r
        for r in Contribution.objects.filter(
            partner_id__in=ids, status=ContributionStatus.CONFIRMED
        )
        .values("partner_id")
        .annotate(n=Count("id"), people=Sum("people_served"), pts=Sum("points"))
    }
    offerings: dict[int, list[PartnerOffering]] = {}
    for o in PartnerOffering.objects.filter(partner_id__in=ids, is_active=True):
        offerings.setdefault(o.partner_id, []).append(o)
    out = []
    for p in partners:
        t: dict[str, Any] = dict(totals.get(p.pk) or {})
        out.append(
            PublicPartner(
                pk=p.pk,
                name=p.organisation.name,
                kind=p.organisation.get_kind_display(),
                intro=p.intro,
                address=p.address,
                offerings=offerings.get(p.pk, []),
                services=int(t.get("n") or 0),
                people_served=int(t.get("people") or 0),
                points=int(t.get("pts") or 0),
            )
        )
    return out


def partners_for(*, viewer: Viewer) -> QuerySet[Partner]:
    """Partners the viewer manages (community staff) or belongs to."""
    q = Q(community_id__in=partner_staff_community_ids(viewer) | aid_staff_community_ids(viewer))
    orgs = organisation_ids(viewer)
    if orgs:
        q |= Q(organisation_id__in=orgs)
    return Partner.objects.filter(q).select_related("organisation").order_by("community_id", "id")


def partner_get_for(*, viewer: Viewer, pk: int) -> Partner:
    p = partners_for(viewer=viewer).filter(pk=pk).first()
    if p is None:
        raise NotFound()
    return p


def contributions_of(*, viewer: Viewer, partner: Partner) -> list[Contribution]:
    rows = list(
        Contribution.objects.filter(community_id=partner.community_id, partner_id=partner.pk)
        .select_related("partner")
        .order_by("-served_on", "-id")[:100]
    )
    return [c for c in rows if sees_contribution(viewer, c)]


def contribution_get_for(*, viewer: Viewer, pk: int) -> Contribution:
    c = Contribution.objects.select_related("partner").filter(pk=pk).first()
    if c is None or not sees_contribution(viewer, c):
        raise NotFound()
    return c


def partner_balance(partner: Partner) -> int:
    """The partner's social-responsibility points in this community."""
    acc = Account.objects.filter(
        community_id=partner.community_id,
        currency=Currency.POINTS,
        kind=AccountKind.PARTNER,
        organisation_id=partner.organisation_id,
    ).first()
    return int(acc.balance) if acc is not None else 0


def pending_contributions(*, viewer: Viewer) -> QuerySet[Contribution]:
    return (
        Contribution.objects.filter(
            community_id__in=partner_staff_community_ids(viewer),
            status=ContributionStatus.REPORTED,
        )
        .select_related("partner", "partner__organisation")
        .order_by("created_at")
    )
