"""/api/v1/propertyco/: the same services as the pages — the criteria (read, publish),
quarter boards (public read, compute, publish, detail), a score's evidence,
inspections (list, record) and the register (public read, appeal, decide)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency
from linli.core.errors import NotFound
from linli.propertyco import selectors, services
from linli.propertyco.models import Criteria, Inspection, RegisterEntry, Score
from linli.propertyco.permissions import inspector_community_ids
from linli.propertyco.states import BOARD, ENTRY

router = Router(tags=["propertyco"])


class CriteriaOut(Schema):
    version: int
    weights: dict[str, int]
    min_sample: int
    red_percent: int
    red_min_score: Decimal
    black_percent: int
    black_below: Decimal
    note: str
    published_at: datetime


class CriteriaIn(Schema):
    weights: dict[str, int]
    min_sample: int = 10
    red_percent: int = 20
    red_min_score: Decimal = Decimal(85)
    black_percent: int = 10
    black_below: Decimal = Decimal(70)
    note: str = ""


class BoardRowOut(Schema):
    score_id: int
    company_id: int
    company: str
    community_id: int
    community: str
    street: str
    score: Decimal | None
    rank: int | None
    list: str | None
    criteria_version: int
    published: bool


class ComputeIn(Schema):
    street_id: int
    quarter: str


class BoardOut(Schema):
    id: int
    street_id: int
    quarter: str
    status: str
    criteria_version: int
    computed_at: datetime | None
    published_at: datetime | None
    actions: list[str]


class ScoreOut(Schema):
    id: int
    company_id: int
    company: str
    community_id: int
    score: Decimal | None
    rank: int | None
    list: str | None
    rating_avg: Decimal | None
    rating_n: int
    survey_rate: Decimal | None
    survey_n: int
    ontime_rate: Decimal | None
    ontime_n: int
    resolution_rate: Decimal | None
    request_n: int
    inspection_rate: Decimal | None
    inspection_n: int


class BoardDetailOut(BoardOut):
    scores: list[ScoreOut]


class PublishOut(BoardOut):
    listed: list[int]


class EvidenceRequestOut(Schema):
    id: int
    category: str
    created_at: datetime
    status: str
    resolved_on_time: bool | None
    rating: int | None


class InspectionOut(Schema):
    id: int
    community_id: int
    building_id: int
    company_id: int
    inspected_on: date
    items: list[dict[str, Any]]
    passed: int
    total: int
    note: str
    has_photo: bool


class InspectionIn(Schema):
    building_id: int
    inspected_on: date
    items: list[dict[str, Any]]
    note: str = ""


class EvidenceOut(Schema):
    score: ScoreOut
    requests: list[EvidenceRequestOut]
    inspections: list[InspectionOut]


class EntryOut(Schema):
    id: int
    company_id: int
    company: str
    community_id: int
    community: str
    street_id: int
    quarters: list[str]
    listed_on: date
    bars_until: date
    status: str
    barred: bool


class EntryDetailOut(EntryOut):
    evidence: dict[str, Any] | None
    appeal_reason: str | None
    decision_reason: str | None
    actions: list[str]


class ReasonIn(Schema):
    reason: str = ""


class DecideIn(Schema):
    decision: str
    reason: str = ""


def _criteria(c: Criteria) -> dict[str, Any]:
    return {
        "version": c.version,
        "weights": c.weights,
        "min_sample": c.min_sample,
        "red_percent": c.red_percent,
        "red_min_score": c.red_min_score,
        "black_percent": c.black_percent,
        "black_below": c.black_below,
        "note": c.note,
        "published_at": c.created_at,
    }


def _board(b: Any, user: Any) -> dict[str, Any]:
    return {
        "id": b.pk,
        "street_id": b.street_id,
        "quarter": f"{b.year}Q{b.quarter}",
        "status": b.status,
        "criteria_version": b.criteria.version,
        "computed_at": b.computed_at,
        "published_at": b.published_at,
        "actions": BOARD.available(user, b),
    }


def _score(s: Score) -> dict[str, Any]:
    return {
        "id": s.pk,
        "company_id": s.company_id,
        "company": s.company.name,
        "community_id": s.community_id,
        "score": s.score,
        "rank": s.rank,
        "list": s.listing or None,
        "rating_avg": s.rating_avg,
        "rating_n": s.rating_n,
        "survey_rate": s.survey_rate,
        "survey_n": s.survey_n,
        "ontime_rate": s.ontime_rate,
        "ontime_n": s.ontime_n,
        "resolution_rate": s.resolution_rate,
        "request_n": s.request_n,
        "inspection_rate": s.inspection_rate,
        "inspection_n": s.inspection_n,
    }


def _inspection(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "community_id": i.community_id,
        "building_id": i.building_id,
        "company_id": i.company_id,
        "inspected_on": i.inspected_on,
        "items": i.items,
        "passed": i.passed,
        "total": i.total,
        "note": i.note,
        "has_photo": bool(i.photo),
    }


def _entry(e: RegisterEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "company_id": e.company_id,
        "company": e.company.name,
        "community_id": e.community_id,
        "community": e.community.name,
        "street_id": e.street_id,
        "quarters": [s["quarter"] for s in (e.evidence or {}).get("scores", [])],
        "listed_on": e.listed_on,
        "bars_until": e.bars_until,
        "status": e.status,
        "barred": e.is_active,
    }


def _unit(pk: int) -> OrgUnit:
    unit = OrgUnit.objects.filter(pk=pk).first()
    if unit is None:
        raise NotFound()
    return unit


# ------------------------------------------------------------------ public reads


@router.get("/criteria", response=list[CriteriaOut], auth=None)
def criteria_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every published version of the scoring rule, newest first (public)."""
    return [_criteria(c) for c in selectors.criteria_all()]


@router.get("/board", response=list[BoardRowOut], auth=None)
def board(request: HttpRequest, unit_id: int, quarter: str) -> list[Any]:
    """A quarter's published board for a street/community (public, no login). A
    street officer signed in also sees their street's unpublished quarter."""
    return list(selectors.quarter_board(viewer=request.user, unit=_unit(unit_id), quarter=quarter))


@router.get("/register", response=list[EntryOut], auth=None)
def register_list(request: HttpRequest, active: bool = False) -> list[dict[str, Any]]:
    """The city-wide register (public)."""
    return [_entry(e) for e in selectors.register(active_only=active)]


@router.get("/register/{entry_id}", response=EntryDetailOut, auth=None)
def register_detail(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    """An entry; the evidence, the appeal and the decision only to who may see them."""
    from linli.propertyco.permissions import sees_entry_evidence

    e = selectors.entry_for(pk=entry_id)
    sees = sees_entry_evidence(request.user, e)
    return {
        **_entry(e),
        "evidence": e.evidence if sees else None,
        "appeal_reason": e.appeal_reason if sees else None,
        "decision_reason": e.decision_reason if sees else None,
        "actions": ENTRY.available(request.user, e) if sees else [],
    }


# ------------------------------------------------------------------ writes


@router.post("/criteria", response={201: CriteriaOut})
def criteria_publish(request: HttpRequest, payload: CriteriaIn) -> Status[dict[str, Any]]:
    """Publish a new version (platform admin). Weights must add up to 100."""
    c = services.criteria_publish(actor=request.user, **payload.dict())
    return Status(201, _criteria(c))


@router.post("/boards", response={201: BoardOut})
def board_compute(request: HttpRequest, payload: ComputeIn) -> Status[dict[str, Any]]:
    """Compute (or recompute, before publication) a street's ended quarter."""
    street = OrgUnit.objects.filter(pk=payload.street_id).first()
    b = services.board_compute(
        actor=request.user,
        street=street,  # type: ignore[arg-type]  # None is refused like a street not run
        quarter=payload.quarter,
    )
    return Status(201, _board(b, request.user))


@router.get("/boards", response=list[BoardOut])
def board_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_board(b, request.user) for b in selectors.boards_for(viewer=request.user)]


@router.get("/boards/{board_id}", response=BoardDetailOut)
def board_detail(request: HttpRequest, board_id: int) -> dict[str, Any]:
    b = selectors.board_for(viewer=request.user, pk=board_id)
    return {
        **_board(b, request.user),
        "scores": [_score(s) for s in selectors.scores_of(viewer=request.user, board=b)],
    }


@router.post("/boards/{board_id}/publish", response=PublishOut)
def board_publish(request: HttpRequest, board_id: int) -> dict[str, Any]:
    """Publish; companies black-listed in two consecutive quarters go on the register
    (their entry ids in ``listed``)."""
    b = selectors.board_for(viewer=request.user, pk=board_id)
    entries = services.board_publish(actor=request.user, board=b)
    b.refresh_from_db()
    return {**_board(b, request.user), "listed": [e.pk for e in entries]}


@router.get("/boards/{board_id}/export.xlsx", response={200: None})
def board_export(request: HttpRequest, board_id: int) -> HttpResponse:
    """The quarter as an Excel workbook (scores and the criteria; formulas escaped)."""
    from linli.propertyco.views import board_workbook

    return board_workbook(viewer=request.user, pk=board_id)


@router.get("/scores/{score_id}/evidence", response=EvidenceOut)
def score_evidence(request: HttpRequest, score_id: int) -> dict[str, Any]:
    ev = selectors.score_evidence(viewer=request.user, pk=score_id)
    return {
        "score": _score(ev.score),
        "requests": [
            {
                "id": r["pk"],
                "category": r["category__name"],
                "created_at": r["created_at"],
                "status": r["status"],
                "resolved_on_time": r["resolved_on_time"],
                "rating": r["rating"],
            }
            for r in ev.requests
        ],
        "inspections": [_inspection(i) for i in ev.inspections],
    }


@router.get("/inspections", response=list[InspectionOut])
def inspection_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_inspection(i) for i in selectors.inspections_for(viewer=request.user)]


@router.post("/inspections", response={201: InspectionOut})
def inspection_record(request: HttpRequest, payload: InspectionIn) -> Status[dict[str, Any]]:
    """Record an inspection (``Idempotency-Key`` header honoured). Items:
    ``[{"item": "楼道保洁", "passed": true}, ...]``."""
    building = Building.objects.filter(
        pk=payload.building_id, community_id__in=inspector_community_ids(request.user)
    ).first()
    if building is None:
        raise NotFound()
    ins = services.inspection_record(
        actor=request.user,
        building=building,
        inspected_on=payload.inspected_on,
        items=payload.items,
        note=payload.note,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _inspection(ins))


@router.post("/register/{entry_id}/appeal", response=EntryOut)
def entry_appeal(request: HttpRequest, entry_id: int, payload: ReasonIn) -> dict[str, Any]:
    e = selectors.entry_for(pk=entry_id)
    return _entry(services.entry_appeal(actor=request.user, entry=e, reason=payload.reason))


@router.post("/register/{entry_id}/decide", response=EntryOut)
def entry_decide(request: HttpRequest, entry_id: int, payload: DecideIn) -> dict[str, Any]:
    e = selectors.entry_for(pk=entry_id)
    row = services.entry_decide(
        actor=request.user, entry=e, decision=payload.decision, reason=payload.reason
    )
    return _entry(row)
