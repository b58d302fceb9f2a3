"""/api/v1/assessment/: the same reads and writes as the pages — a unit's board for a
period, the integrity list, the definitions and weights, expert scores, recomputation
and the public result card."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from linli.assessment import indicators, selectors, services
from linli.assessment.periods import parse
from linli.assessment.scoring import Score
from linli.assessment.selectors import Row
from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.errors import NotFound

router = Router(tags=["assessment"])


class IndicatorOut(Schema):
    key: str
    name: str
    group: str
    numerator: int
    denominator: int
    value: float | None


class ScoreOut(Schema):
    score: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    sample: int
    missing: list[str]
    expert_missing: bool
    indicators: list[IndicatorOut]


class RowOut(Schema):
    id: int
    name: str
    kind: str
    rank: int | None
    flag: str
    not_ranked_because: str
    score: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    sample: int
    requests: int


class BoardOut(Schema):
    unit_id: int
    unit_name: str
    unit_kind: str
    period: str
    score: ScoreOut | None
    weights: list[str]
    months_missing: list[str]
    children: list[RowOut]
    ranking: list[RowOut]
    trend: list[tuple[str, str | None]]
    categories: list[tuple[str, int]]
    sla: list[tuple[str, int]]
    funnel: list[tuple[str, int]]
    integrity_changes: int
    integrity_base: int


def _score(s: Score | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "score": s.score,
        "ci_low": s.ci_low,
        "ci_high": s.ci_high,
        "sample": s.sample,
        "missing": s.missing,
        "expert_missing": s.expert_missing,
        "indicators": [
            {
                "key": d.key,
                "name": str(d.name),
                "group": d.group,
                "numerator": s.values[d.key].num,
                "denominator": s.values[d.key].den,
                "value": s.values[d.key].value,
            }
            for d in indicators.DEFINITIONS
        ],
    }


def _row(r: Row) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "kind": r.kind,
        "rank": r.rank,
        "flag": r.flag,
        "not_ranked_because": r.reason,
        "score": r.score.score,
        "ci_low": r.score.ci_low,
        "ci_high": r.score.ci_high,
        "sample": r.score.sample,
        "requests": r.requests,
    }


@router.get("/units/{int:pk}", response=BoardOut)
def unit_board(request: HttpRequest, pk: int, period: str = "") -> dict[str, Any]:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    p = parse(period)
    b = selectors.board_for(viewer=request.user, unit=u, period=p)
    return {
        "unit_id": u.pk,
        "unit_name": u.name,
        "unit_kind": u.kind,
        "period": p.key,
        "score": _score(b.score),
        "weights": [f"v{w.version}" for w in b.weights],
        "months_missing": b.months_missing,
        "children": [_row(r) for r in b.children],
        "ranking": [_row(r) for r in b.ranking],
        "trend": b.trend,
        "categories": b.categories,
        "sla": b.sla,
        "funnel": b.funnel,
        "integrity_changes": b.integrity[0],
        "integrity_base": b.integrity[1],
    }


class IntegrityItemOut(Schema):
    kind: str
    community_id: int
    at: Any
    ref: str
    note: str


class IntegrityOut(Schema):
    changes: int
    base: int
    per_community: list[dict[str, Any]]
    items: list[IntegrityItemOut]


@router.get("/units/{int:pk}/integrity", response=IntegrityOut)
def unit_integrity(request: HttpRequest, pk: int, period: str = "") -> dict[str, Any]:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    page = selectors.integrity_for(viewer=request.user, unit=u, period=parse(period))
    return {
        "changes": page.n,
        "base": page.base,
        "per_community": [
            {"community_id": pk, "name": name, "kinds": kinds, "changes": n, "base": base}
            for pk, name, kinds, n, base in page.per_community
        ],
        "items": [
            {
                "kind": i.kind,
                "community_id": i.community_id,
                "at": i.at,
                "ref": i.ref,
                "note": i.note,
            }
            for i in page.items
        ],
    }


class DefinitionOut(Schema):
    key: str
    group: str
    name: str
    numerator: str
    denominator: str
    source: str


@router.get("/definitions", response=list[DefinitionOut], auth=None)
def definitions(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "key": d.key,
            "group": d.group,
            "name": str(d.name),
            "numerator": str(d.numerator),
            "denominator": str(d.denominator),
            "source": str(d.source),
        }
        for d in indicators.DEFINITIONS
    ]


class WeightsIn(Schema):
    district_id: int | None = None
    w_satisfaction: int = 40
    w_participation: int = 30
    w_conflict: int = 30
    w_awareness: int = 40
    w_normativity: int = 30
    w_openness: int = 30
    outcome_share: int = 70
    resident_share: int = 60
    min_sample: int = 30
    note: str = ""


class WeightsOut(Schema):
    id: int
    district_id: int | None
    version: int
    w_satisfaction: int
    w_participation: int
    w_conflict: int
    w_awareness: int
    w_normativity: int
    w_openness: int
    outcome_share: int
    resident_share: int
    min_sample: int
    note: str


@router.post("/weights", response={201: WeightsOut})
def weights_create(request: HttpRequest, data: WeightsIn) -> Status:
    district = None
    if data.district_id is not None:
        district = OrgUnit.objects.filter(pk=data.district_id, kind="district").first()
        if district is None:
            raise NotFound()
    ws = services.weights_create(
        actor=request.user,
        district=district,
        values={k: getattr(data, k) for k in services.WEIGHT_FIELDS},
        note=data.note,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, ws)


@router.get("/weights", response=WeightsOut)
def weights_current(request: HttpRequest, district_id: int | None = None) -> Any:
    return services.weights_for(district_id)


class ExpertIn(Schema):
    community_id: int
    month: date
    kind: str
    score: int
    basis: str


class ExpertOut(Schema):
    id: int
    community_id: int
    month: date
    kind: str
    score: int


@router.post("/expert-scores", response={201: ExpertOut})
def expert_score(request: HttpRequest, data: ExpertIn) -> Status:
    community = selectors.unit_get_for(viewer=request.user, pk=data.community_id)
    row = services.expert_score_record(
        actor=request.user,
        community=community,
        month=data.month,
        kind=data.kind,
        score=data.score,
        basis=data.basis,
    )
    return Status(201, row)


class RecomputeIn(Schema):
    period: str
    reason: str


class SnapshotOut(Schema):
    id: int
    community_id: int
    month: date
    revision: int
    score: Decimal | None
    reason: str


@router.post("/units/{int:pk}/recompute", response={201: SnapshotOut})
def recompute(request: HttpRequest, pk: int, data: RecomputeIn) -> Status:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    snap = services.snapshot_recompute(
        actor=request.user, community=u, period=parse(data.period), reason=data.reason
    )
    return Status(201, snap)


class PublicCardOut(Schema):
    community_id: int
    community_name: str
    period: str
    score: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    sample: int
    rank_in_street: int | None
    ranked_in_street: int
    flag: str
    indicators: list[IndicatorOut]


@router.get("/public/{int:pk}", response=PublicCardOut, auth=None)
def public_card(request: HttpRequest, pk: int, period: str = "") -> dict[str, Any]:
    """Anyone: a community's published result (no personal data)."""
    community = OrgUnit.objects.filter(pk=pk, kind="community").first()
    if community is None:
        raise NotFound()
    p = parse(period)
    card = selectors.public_card_for(community=community, period=p)
    if card is None:
        raise NotFound()
    s = _score(card["score"])
    assert s is not None
    row = card["row"]
    return {
        "community_id": community.pk,
        "community_name": community.name,
        "period": p.key,
        "score": s["score"],
        "ci_low": s["ci_low"],
        "ci_high": s["ci_high"],
        "sample": s["sample"],
        "rank_in_street": row.rank if row else None,
        "ranked_in_street": card["ranked_n"],
        "flag": row.flag if row else "",
        "indicators": s["indicators"],
    }
