"""/api/v1/mutualaid/: needs, offers, ranked suggestions, matches (propose, accept,
decline, cancel, settle), the staff queue and time-to-match, partners, offerings and
contributions. Creates take an ``idempotency_key`` (or the ``Idempotency-Key``
header); refusals come back as the DomainError JSON (code, message)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from linli.accounts.scope import scope_of
from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import NotFound, ValidationFailed
from linli.mutualaid import matching, selectors, services
from linli.mutualaid.models import Channel, Contribution, Match, Need, Offer, Partner, SettleIn
from linli.mutualaid.permissions import aid_staff_community_ids, partner_staff_community_ids
from linli.mutualaid.states import CONTRIBUTION, MATCH, NEED

router = Router(tags=["mutualaid"])


def _key(request: HttpRequest, body_key: str) -> str:
    return body_key or request.headers.get(idempotency.HEADER, "")


def _resident(request: HttpRequest, resident_id: int | None) -> Resident:
    """Oneself, or (staff 代办) a resident of the staff member's communities."""
    if resident_id is not None:
        r = Resident.objects.filter(
            pk=resident_id, community_id__in=aid_staff_community_ids(request.user)
        ).first()
        if r is None:
            raise NotFound()
        return r
    rid = scope_of(request.user).resident_id
    if rid is None:
        raise ValidationFailed("请指定居民（resident_id）。", field="resident_id")
    return Resident.objects.get(pk=rid)


class NeedIn(Schema):
    category: str
    title: str
    detail: str = ""
    wanted_from: datetime | None = None
    wanted_until: datetime | None = None
    minutes: Any = 60
    settle_in: str = SettleIn.MINUTES
    # 代办: staff name the resident and the channel.
    resident_id: int | None = None
    channel: str = Channel.SELF
    idempotency_key: str = ""


class NeedOut(Schema):
    id: int
    category: str
    title: str
    status: str
    settle_in: str
    minutes: int
    channel: str
    created_at: datetime
    matched_at: datetime | None
    actions: list[str] = []


def _need(n: Need, viewer: Any) -> NeedOut:
    return NeedOut(
        id=n.pk,
        category=n.category,
        title=n.title,
        status=n.status,
        settle_in=n.settle_in,
        minutes=n.minutes,
        channel=n.channel,
        created_at=n.created_at,
        matched_at=n.matched_at,
        actions=NEED.available(viewer, n),
    )


class ReasonOut(Schema):
    code: str
    points: float
    text: str


class SuggestionOut(Schema):
    kind: str
    candidate_id: int
    title: str
    score: float
    metres: int | None
    reasons: list[ReasonOut]


class ProposeIn(Schema):
    kind: str
    candidate_id: int


class MatchOut(Schema):
    id: int
    need_id: int
    kind: str
    candidate_id: int
    title: str
    score: float
    status: str
    reasons: list[ReasonOut]
    settled_in: str
    settled_amount: int
    rating: int | None
    actions: list[str] = []


def _reasons(rs: list[dict[str, Any]]) -> list[ReasonOut]:
    return [
        ReasonOut(
            code=str(r.get("code")), points=float(r.get("points", 0)), text=matching.reason_text(r)
        )
        for r in rs
    ]


def _match(m: Match, viewer: Any) -> MatchOut:
    return MatchOut(
        id=m.pk,
        need_id=m.need_id,
        kind=m.kind,
        candidate_id=m.candidate_id,
        title=m.title,
        score=m.score,
        status=m.status,
        reasons=_reasons(m.reasons),
        settled_in=m.settled_in,
        settled_amount=m.settled_amount,
        rating=m.rating,
        actions=MATCH.available(viewer, m),
    )


class CancelIn(Schema):
    reason: str = ""


class SettleIn_(Schema):
    rating: int | None = None
    minutes: Any = None
    points: Any = None


class OfferIn(Schema):
    category: str
    title: str
    detail: str = ""
    slots: list[str] = []
    resident_id: int | None = None
    channel: str = Channel.SELF
    idempotency_key: str = ""


class OfferOut(Schema):
    id: int
    category: str
    title: str
    status: str
    slots: list[str]


def _offer(o: Offer) -> OfferOut:
    return OfferOut(id=o.pk, category=o.category, title=o.title, status=o.status, slots=o.slots)


class WaitingOut(Schema):
    need_id: int
    community_id: int
    category: str
    title: str
    waiting_hours: float
    pending_proposals: int


class TimeToMatchOut(Schema):
    community_id: int
    matched: int
    still_open: int
    median_hours: float | None
    p90_hours: float | None


class PartnerIn(Schema):
    community_id: int
    organisation_id: int
    intro: str = ""
    address: str = ""
    public: bool = True


class PartnerOut(Schema):
    id: int
    community_id: int
    organisation_id: int
    name: str
    intro: str
    public: bool
    status: str
    balance: int


def _partner(p: Partner) -> PartnerOut:
    return PartnerOut(
        id=p.pk,
        community_id=p.community_id,
        organisation_id=p.organisation_id,
        name=p.organisation.name,
        intro=p.intro,
        public=p.public,
        status=p.status,
        balance=selectors.partner_balance(p),
    )


class OfferingIn(Schema):
    kind: str
    category: str
    title: str
    description: str = ""
    is_active: bool = True


class OfferingOut(Schema):
    id: int
    kind: str
    category: str
    title: str
    is_active: bool


class ContributionIn(Schema):
    title: str
    served_on: date
    people_served: Any = 1
    points: Any = 10
    idempotency_key: str = ""


class ContributionOut(Schema):
    id: int
    partner_id: int
    title: str
    served_on: date
    people_served: int
    points: int
    status: str
    ledger_tx_id: int | None
    actions: list[str] = []


def _contribution(c: Contribution, viewer: Any) -> ContributionOut:
    return ContributionOut(
        id=c.pk,
        partner_id=c.partner_id,
        title=c.title,
        served_on=c.served_on,
        people_served=c.people_served,
        points=c.points,
        status=c.status,
        ledger_tx_id=c.ledger_tx_id,
        actions=CONTRIBUTION.available(viewer, c),
    )


class ConfirmIn(Schema):
    points: Any = None


class RejectIn(Schema):
    reason: str


class PublicPartnerOut(Schema):
    name: str
    kind: str
    intro: str
    address: str
    offerings: list[str]
    services: int
    people_served: int
    points: int


# --------------------------------------------------------------------------- needs


@router.get("/needs", response=list[NeedOut])
def needs_mine(request: HttpRequest) -> list[NeedOut]:
    return [_need(n, request.user) for n in selectors.my_needs(viewer=request.user)[:100]]


@router.post("/needs", response={201: NeedOut})
def need_post(request: HttpRequest, body: NeedIn) -> Status[NeedOut]:
    need = services.need_post(
        actor=request.user,
        resident=_resident(request, body.resident_id),
        category=body.category,
        title=body.title,
        detail=body.detail,
        wanted_from=body.wanted_from,
        wanted_until=body.wanted_until,
        minutes=body.minutes,
        settle_in=body.settle_in,
        channel=body.channel,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _need(need, request.user))


@router.get("/needs/{need_id}", response=NeedOut)
def need_get(request: HttpRequest, need_id: int) -> NeedOut:
    return _need(selectors.need_get_for(viewer=request.user, pk=need_id), request.user)


@router.post("/needs/{need_id}/cancel", response=NeedOut)
def need_cancel(request: HttpRequest, need_id: int, body: CancelIn) -> NeedOut:
    need = selectors.need_get_for(viewer=request.user, pk=need_id)
    return _need(
        services.need_cancel(actor=request.user, need=need, reason=body.reason), request.user
    )


@router.get("/needs/{need_id}/suggestions", response=list[SuggestionOut])
def need_suggestions(request: HttpRequest, need_id: int, limit: int = 5) -> list[SuggestionOut]:
    need = selectors.need_get_for(viewer=request.user, pk=need_id)
    return [
        SuggestionOut(
            kind=s.candidate.kind,
            candidate_id=s.candidate.id,
            title=s.candidate.title,
            score=s.score,
            metres=s.metres,
            reasons=_reasons(s.reasons),
        )
        for s in selectors.suggestions_for(
            viewer=request.user, need=need, limit=max(1, min(limit, 20))
        )
    ]


@router.get("/needs/{need_id}/matches", response=list[MatchOut])
def need_matches(request: HttpRequest, need_id: int) -> list[MatchOut]:
    need = selectors.need_get_for(viewer=request.user, pk=need_id)
    return [
        _match(m, request.user) for m in selectors.matches_of_need(viewer=request.user, need=need)
    ]


@router.post("/needs/{need_id}/matches", response={201: MatchOut})
def match_propose(request: HttpRequest, need_id: int, body: ProposeIn) -> Status[MatchOut]:
    need = selectors.need_get_for(viewer=request.user, pk=need_id)
    m = services.match_propose(
        actor=request.user,
        need=need,
        kind=body.kind,
        candidate_id=body.candidate_id,
        accept=scope_of(request.user).resident_id == need.requester_id,
    )
    return Status(201, _match(m, request.user))


# --------------------------------------------------------------------------- matches


@router.get("/matches/helping", response=list[MatchOut])
def matches_helping(request: HttpRequest) -> list[MatchOut]:
    return [
        _match(m, request.user) for m in selectors.matches_for_helper(viewer=request.user)[:100]
    ]


@router.post("/matches/{match_id}/accept", response=MatchOut)
def match_accept(request: HttpRequest, match_id: int) -> MatchOut:
    m = selectors.match_get_for(viewer=request.user, pk=match_id)
    return _match(services.match_accept(actor=request.user, match=m), request.user)


@router.post("/matches/{match_id}/decline", response=MatchOut)
def match_decline(request: HttpRequest, match_id: int) -> MatchOut:
    m = selectors.match_get_for(viewer=request.user, pk=match_id)
    return _match(services.match_decline(actor=request.user, match=m), request.user)


@router.post("/matches/{match_id}/cancel", response=MatchOut)
def match_cancel(request: HttpRequest, match_id: int, body: CancelIn) -> MatchOut:
    m = selectors.match_get_for(viewer=request.user, pk=match_id)
    return _match(
        services.match_cancel(actor=request.user, match=m, reason=body.reason), request.user
    )


@router.post("/matches/{match_id}/settle", response=MatchOut)
def match_settle(request: HttpRequest, match_id: int, body: SettleIn_) -> MatchOut:
    m = selectors.match_get_for(viewer=request.user, pk=match_id)
    out = services.match_settle(
        actor=request.user, match=m, rating=body.rating, minutes=body.minutes, points=body.points
    )
    return _match(out, request.user)


# --------------------------------------------------------------------------- offers


@router.get("/offers", response=list[OfferOut])
def offers_mine(request: HttpRequest) -> list[OfferOut]:
    return [_offer(o) for o in selectors.my_offers(viewer=request.user)[:100]]


@router.post("/offers", response={201: OfferOut})
def offer_post(request: HttpRequest, body: OfferIn) -> Status[OfferOut]:
    o = services.offer_post(
        actor=request.user,
        resident=_resident(request, body.resident_id),
        category=body.category,
        title=body.title,
        detail=body.detail,
        slots=body.slots,
        channel=body.channel,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _offer(o))


@router.post("/offers/{offer_id}/withdraw", response=OfferOut)
def offer_withdraw(request: HttpRequest, offer_id: int) -> OfferOut:
    scope = scope_of(request.user)
    o = Offer.objects.filter(pk=offer_id).first()
    if o is None or (
        o.resident_id != scope.resident_id
        and o.community_id not in aid_staff_community_ids(request.user)
    ):
        raise NotFound()
    return _offer(services.offer_withdraw(actor=request.user, offer=o))


# --------------------------------------------------------------------------- staff


@router.get("/queue", response=list[WaitingOut])
def queue(request: HttpRequest) -> list[WaitingOut]:
    return [
        WaitingOut(
            need_id=w.need.pk,
            community_id=w.need.community_id,
            category=w.need.category,
            title=w.need.title,
            waiting_hours=round(w.age.total_seconds() / 3600, 1),
            pending_proposals=w.proposals,
        )
        for w in selectors.unmatched_for(viewer=request.user)
    ]


@router.get("/time-to-match", response=list[TimeToMatchOut])
def time_to_match(request: HttpRequest) -> list[TimeToMatchOut]:
    return [
        TimeToMatchOut(
            community_id=t.community_id,
            matched=t.matched,
            still_open=t.still_open,
            median_hours=t.median_hours,
            p90_hours=t.p90_hours,
        )
        for t in selectors.time_to_match(viewer=request.user)
    ]


# --------------------------------------------------------------------------- partners


@router.get("/partners/public", response=list[PublicPartnerOut], auth=None)
def partners_public(
    request: HttpRequest, community_id: int | None = None
) -> list[PublicPartnerOut]:
    return [
        PublicPartnerOut(
            name=p.name,
            kind=p.kind,
            intro=p.intro,
            address=p.address,
            offerings=[o.title for o in p.offerings],
            services=p.services,
            people_served=p.people_served,
            points=p.points,
        )
        for p in selectors.public_partners(community_id=community_id)
    ]


@router.get("/partners", response=list[PartnerOut])
def partners(request: HttpRequest) -> list[PartnerOut]:
    return [_partner(p) for p in selectors.partners_for(viewer=request.user)[:200]]


@router.post("/partners", response={201: PartnerOut})
def partner_create(request: HttpRequest, body: PartnerIn) -> Status[PartnerOut]:
    community = OrgUnit.objects.filter(
        pk=body.community_id, pk__in=partner_staff_community_ids(request.user)
    ).first()
    org = Organisation.objects.filter(pk=body.organisation_id).first()
    if community is None or org is None:
        raise NotFound()
    p = services.partner_save(
        actor=request.user,
        community=community,
        organisation=org,
        intro=body.intro,
        address=body.address,
        public=body.public,
    )
    return Status(201, _partner(p))


@router.post("/partners/{partner_id}/offerings", response={201: OfferingOut})
def offering_create(request: HttpRequest, partner_id: int, body: OfferingIn) -> Status[OfferingOut]:
    p = selectors.partner_get_for(viewer=request.user, pk=partner_id)
    o = services.offering_save(
        actor=request.user,
        partner=p,
        kind=body.kind,
        category=body.category,
        title=body.title,
        description=body.description,
        is_active=body.is_active,
    )
    return Status(
        201,
        OfferingOut(
            id=o.pk, kind=o.kind, category=o.category, title=o.title, is_active=o.is_active
        ),
    )


@router.get("/partners/{partner_id}/contributions", response=list[ContributionOut])
def contributions(request: HttpRequest, partner_id: int) -> list[ContributionOut]:
    p = selectors.partner_get_for(viewer=request.user, pk=partner_id)
    return [
        _contribution(c, request.user)
        for c in selectors.contributions_of(viewer=request.user, partner=p)
    ]


@router.post("/partners/{partner_id}/contributions", response={201: ContributionOut})
def contribution_report(
    request: HttpRequest, partner_id: int, body: ContributionIn
) -> Status[ContributionOut]:
    p = selectors.partner_get_for(viewer=request.user, pk=partner_id)
    c = services.contribution_report(
        actor=request.user,
        partner=p,
        title=body.title,
        served_on=body.served_on,
        people_served=body.people_served,
        points=body.points,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _contribution(c, request.user))


@router.post("/contributions/{contribution_id}/confirm", response=ContributionOut)
def contribution_confirm(
    request: HttpRequest, contribution_id: int, body: ConfirmIn
) -> ContributionOut:
    c = selectors.contribution_get_for(viewer=request.user, pk=contribution_id)
    out = services.contribution_confirm(actor=request.user, contribution=c, points=body.points)
    return _contribution(out, request.user)


@router.post("/contributions/{contribution_id}/reject", response=ContributionOut)
def contribution_reject(
    request: HttpRequest, contribution_id: int, body: RejectIn
) -> ContributionOut:
    c = selectors.contribution_get_for(viewer=request.user, pk=contribution_id)
    out = services.contribution_reject(actor=request.user, contribution=c, reason=body.reason)
    return _contribution(out, request.user)
