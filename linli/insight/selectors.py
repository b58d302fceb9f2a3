"""Reads of insight, each taking the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q

from linli.core.errors import NotFound
from linli.insight import semantic
from linli.insight.classifier import REASONS
from linli.insight.models import CommunityModel, Correction, Suggestion
from linli.insight.services import suggestion_for
from linli.requests import catalog
from linli.requests.models import OPEN_STATUSES, Category, ServiceRequest
from linli.requests.permissions import can_manage, can_view_staff
from linli.requests.similarity import degree_box, haversine_m
from linli.requests.states import flags


@dataclass(frozen=True)
class Choice:
    code: str
    name: str
    confidence: float | None
    unit_kind: str


@dataclass(frozen=True)
class SimilarRequest:
    request: ServiceRequest
    similarity: float
    same_building: bool
    mergeable: bool  # same category or building: the merge step accepts it


@dataclass(frozen=True)
class Triage:
    suggestion: Suggestion
    top: Choice | None
    alternatives: list[Choice]
    agrees: bool  # the request's category is the suggestion
    why_human: str  # why the suggestion is marked for a human ("" when it is not)
    correction: Correction | None
    can_correct: bool
    can_recategorise: bool  # the correction form may also move the request (改类)
    leaves: list[Category]
    similar: list[SimilarRequest]
    community_model: CommunityModel | None


def _choice(code: str, conf: float | None) -> Choice | None:
    cat = catalog.active_by_code(code)
    if cat is None:
        return None
    return Choice(code, cat.name, conf, cat.get_responsible_kind_display())


def similar_open_requests(req: ServiceRequest, *, limit: int = 5) -> list[SimilarRequest]:
    """Open requests that look like the same problem as ``req``: same building or
    within 100 m, created within 14 days of it, similar in meaning."""
    near = Q(pk__in=[])
    if req.building_id:
        near |= Q(building_id=req.building_id)
    if req.lat is not None and req.lng is not None:
        lat, lng = float(req.lat), float(req.lng)
        dlat, dlng = degree_box(lat, semantic.RADIUS_M)
        near |= Q(
            lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng
        )
    window = timedelta(days=semantic.WINDOW_DAYS)
    qs = (
        ServiceRequest.objects.filter(near, community_id=req.community_id)
        .filter(status__in=list(OPEN_STATUSES))
        .filter(created_at__gte=req.created_at - window, created_at__lte=req.created_at + window)
        .exclude(pk=req.pk)
        .select_related("category", "building")
        .order_by("-created_at")[:100]
    )
    cands = []
    for o in qs:
        same = bool(req.building_id) and o.building_id == req.building_id
        if not same:
            if None in (req.lat, req.lng, o.lat, o.lng):
                continue
            d = haversine_m(float(req.lat), float(req.lng), float(o.lat), float(o.lng))  # type: ignore[arg-type]
            if d > semantic.RADIUS_M:
                continue
        cands.append((o, same))
    sims = semantic.meaning_to_many(req.description, [o.description for o, _s in cands])
    out = [
        SimilarRequest(o, s, same, same or o.category_id == req.category_id)
        for (o, same), s in zip(cands, sims, strict=True)
        if s >= semantic.THRESHOLD
    ]
    out.sort(key=lambda c: -c.similarity)
    return out[:limit]


def triage_for(*, viewer: Any, req: ServiceRequest) -> Triage:
    """The suggestion panel of the staff request page."""
    if not can_view_staff(viewer, req):
        raise NotFound()
    sug = suggestion_for(req)
    top = _choice(sug.category_code, sug.confidence) if sug.category_code else None
    alts = [c for c in (_choice(code, None) for code in sug.alternatives) if c is not None]
    leaves = [
        c
        for c in Category.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("parent__order", "order", "code")
        if not catalog.has_active_children(c.pk)
    ]
    return Triage(
        suggestion=sug,
        top=top,
        alternatives=alts,
        agrees=top is not None and top.code == req.category.code,
        why_human=str(REASONS.get(sug.reason, "")) if sug.needs_human else "",
        correction=Correction.objects.filter(request=req).select_related("category").first(),
        can_correct=bool(can_manage(viewer, req)),
        can_recategorise=bool(flags(viewer, req)["can_recategorise"]),
        leaves=leaves,
        similar=similar_open_requests(req),
        community_model=CommunityModel.objects.filter(community_id=req.community_id, is_active=True)
        .only("id", "corrections", "accuracy", "baseline_accuracy", "created_at")
        .first(),
    )
