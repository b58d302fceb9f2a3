"""/api/v1/insight/: the category suggestion for a text, a request's suggestion panel
(staff), and staff corrections — the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from linli.accounts.scope import scope_of
from linli.insight import services
from linli.insight.selectors import triage_for
from linli.requests.selectors import request_get_for

router = Router(tags=["insight"])


class ClassifyIn(Schema):
    text: str


class PredictionOut(Schema):
    category: str | None
    unit_kind: str | None
    confidence: float
    alternatives: list[str]
    needs_human: bool
    reason: str
    message: str


class SimilarOut(Schema):
    id: int
    similarity: float
    same_building: bool


class TriageOut(Schema):
    request_id: int
    category: str
    unit_kind: str | None
    confidence: float
    alternatives: list[str]
    needs_human: bool
    reason: str
    current_category: str
    corrected_to: str | None
    similar: list[SimilarOut]


class CorrectionIn(Schema):
    category: str
    channel: str = "api"
    # With a reason the request is moved to that category too (改类), in one transaction.
    reason: str = ""


class CorrectionOut(Schema):
    request_id: int
    suggested: str
    category: str


@router.post("/classify", response=PredictionOut)
def classify(request: HttpRequest, data: ClassifyIn) -> dict[str, Any]:
    """Suggest a leaf category and unit kind for a text (the report form's helper)."""
    p = services.classify_for_user(
        actor=request.user,
        text=data.text[:10_000],
        community_id=scope_of(request.user).community_id,
    )
    return {
        "category": p.category,
        "unit_kind": p.unit_kind,
        "confidence": round(p.confidence, 4),
        "alternatives": p.alternatives,
        "needs_human": p.needs_human,
        "reason": p.reason,
        "message": p.message,
    }


@router.get("/requests/{int:pk}/suggestion", response=TriageOut)
def suggestion(request: HttpRequest, pk: int) -> dict[str, Any]:
    req = request_get_for(viewer=request.user, pk=pk)
    t = triage_for(viewer=request.user, req=req)
    s = t.suggestion
    return {
        "request_id": req.pk,
        "category": s.category_code,
        "unit_kind": t.top.unit_kind if t.top else None,
        "confidence": round(s.confidence, 4),
        "alternatives": list(s.alternatives),
        "needs_human": s.needs_human,
        "reason": s.reason,
        "current_category": req.category.code,
        "corrected_to": t.correction.category.code if t.correction else None,
        "similar": [
            {
                "id": c.request.pk,
                "similarity": round(c.similarity, 3),
                "same_building": c.same_building,
            }
            for c in t.similar
        ],
    }


@router.post("/requests/{int:pk}/correction", response={201: CorrectionOut})
def correction(request: HttpRequest, pk: int, data: CorrectionIn) -> Status:
    """Record the right leaf for a request's text (staff who manage it). Repeating it
    with the same category leaves the same state (one correction per request). With a
    ``reason`` the request is re-categorised as well (改类)."""
    req = request_get_for(viewer=request.user, pk=pk)
    row = services.correction_record(
        actor=request.user,
        request=req,
        category_code=data.category,
        channel=data.channel[:20],
        recategorise_reason=data.reason[:600],
    )
    return Status(
        201, {"request_id": req.pk, "suggested": row.suggested_code, "category": data.category}
    )
