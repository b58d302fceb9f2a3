"""/api/v1/requests/: the same operations as Open311 with our richer model (states,
deadlines, escalation, ratings), for the caller's own permissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import NotFound, ValidationFailed
from linli.requests import catalog
from linli.requests import services as svc
from linli.requests.models import Channel, ServiceRequest
from linli.requests.permissions import can_view_staff
from linli.requests.selectors import (
    QueueFilters,
    RequestMetrics,
    find_duplicates,
    leaf_categories,
    request_get_for,
    request_list_mine,
    request_metrics,
    request_queue_for,
    timeline_for,
)

router = Router(tags=["requests"])


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    group: str
    responsible_kind: str
    response_hours: int
    plan_working_days: int
    feedback_working_days: int


class RequestIn(Schema):
    category: str  # category code
    description: str
    building_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    # 代办 (staff only): channel hotline/box/visit, community and optional resident.
    channel: str = "app"
    community_id: int | None = None
    resident_id: int | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    # The resident's opt-in to show the text and photos to neighbours and the public.
    public: bool = False


class EventOut(Schema):
    at: datetime
    kind: str
    from_status: str
    to_status: str
    note: str


class RequestOut(Schema):
    id: int
    community_id: int
    grid_id: int | None
    building_id: int | None
    category: str
    description: str
    channel: str
    status: str
    assignee: str
    owner: str
    due_state: str
    next_due_at: datetime | None
    next_due_kind: str
    response_due: datetime | None
    feedback_due: datetime | None
    escalation_level: int
    support_count: int
    urge_count: int
    rating: int | None
    created_at: datetime
    resolved_at: datetime | None
    reporter_name: str | None = None  # staff only


class RequestDetailOut(RequestOut):
    timeline: list[EventOut]


class ActionIn(Schema):
    note: str = ""
    reason: str = ""
    resolution: str = ""
    target: str = ""
    is_complex: bool = False
    into: int | None = None
    rating: int | None = None
    comment: str = ""
    text: str = ""
    plan: str = ""
    category: str = ""


class BulkIn(Schema):
    ids: list[int]
    target: str
    reason: str


class QueueQuery(Schema):
    status: str = "open"
    category: int | None = None
    due: str = ""
    grid: int | None = None
    community: int | None = None
    channel: str = ""
    mine: bool = False
    limit: int = 50
    offset: int = 0


class DuplicateOut(Schema):
    id: int
    category: str
    description: str
    status: str
    similarity: float
    distance_m: float | None
    same_building: bool


class DuplicateQuery(Schema):
    description: str
    building_id: int | None = None
    lat: float | None = None
    lng: float | None = None


class MetricsQuery(Schema):
    community: int
    start: datetime
    end: datetime


def _out(request: HttpRequest, r: ServiceRequest) -> dict[str, Any]:
    staff = can_view_staff(request.user, r)
    return {
        "id": r.pk,
        "community_id": r.community_id,
        "grid_id": r.grid_id,
        "building_id": r.building_id,
        "category": r.category.code,
        "description": r.description,
        "channel": r.channel,
        "status": r.status,
        "assignee": r.assignee_label,
        "owner": r.owner_label,
        "due_state": r.due_state,
        "next_due_at": r.next_due_at,
        "next_due_kind": r.next_due_kind,
        "response_due": r.response_due,
        "feedback_due": r.feedback_due,
        "escalation_level": r.escalation_level,
        "support_count": r.support_count,
        "urge_count": r.urge_count,
        "rating": r.rating,
        "created_at": r.created_at,
        "resolved_at": r.resolved_at,
        "reporter_name": (
            (r.reporter_resident.name if r.reporter_resident else r.reporter_name)
            if staff
            else None
        ),
    }


@router.get("/categories", response=list[CategoryOut])
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "group": c.parent.name if c.parent else "",
            "responsible_kind": c.responsible_kind,
            "response_hours": c.response_hours,
            "plan_working_days": c.plan_working_days,
            "feedback_working_days": c.feedback_working_days,
        }
        for c in leaf_categories()
    ]


@router.post("/", response={201: RequestOut})
def create(request: HttpRequest, data: RequestIn) -> Status:
    cat = catalog.active_by_code(data.category)
    channel = Channel.API if data.channel == "app" else data.channel
    # The tenant is known before the building is read: the resident's own community
    # (from the scope the token lookup loaded), or the one staff record for.
    tenant = scope_of(request.user).community_id if channel == Channel.API else data.community_id
    where = {"community_id": tenant} if tenant is not None else {}
    building = None
    if data.building_id is not None:
        building = (
            Building.objects.select_related("grid", "community", "property_company")
            .filter(pk=data.building_id, **where)
            .first()
        )
        if building is None:
            raise ValidationFailed(_("所选楼栋不属于本社区。"), field="building_id")
    community = (
        OrgUnit.objects.filter(pk=data.community_id, kind="community").first()
        if (data.community_id)
        else None
    )
    resident = None
    if data.resident_id:
        resident = Resident.objects.filter(pk=data.resident_id, **where).first()
        if resident is None:
            raise ValidationFailed(_("所选居民不属于该社区。"), field="resident")
    req = svc.request_submit(
        actor=request.user,
        category=cat,
        description=data.description,
        building=building,
        lat=data.lat,
        lng=data.lng,
        address=data.address,
        channel=channel,
        community=community,
        resident=resident,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        idempotency_key=idempotency.from_request(request),
        public=data.public,
    )
    # Built from what was written (the service returns the row with its relations).
    return Status(201, _out(request, req))


@router.get("/mine", response=list[RequestOut])
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(request, r) for r in request_list_mine(viewer=request.user)[:200]]


@router.get("/queue", response=list[RequestOut])
def queue(request: HttpRequest, q: Query[QueueQuery]) -> list[dict[str, Any]]:
    f = QueueFilters(
        status=q.status,
        category=q.category,
        due=q.due,
        grid=q.grid,
        community=q.community,
        channel=q.channel,
        mine=q.mine,
    )
    limit = max(1, min(q.limit, 200))
    offset = max(0, q.offset)  # a negative offset is not a page; treat it as the first
    qs = request_queue_for(viewer=request.user, filters=f)[offset : offset + limit]
    return [_out(request, r) for r in qs]


@router.get("/duplicates", response=list[DuplicateOut])
def duplicates(request: HttpRequest, q: Query[DuplicateQuery]) -> list[dict[str, Any]]:
    community_id = scope_of(request.user).community_id
    if community_id is None:
        raise NotFound()
    return [
        {
            "id": c.request.pk,
            "category": c.request.category.code,
            "description": c.request.description,
            "status": c.request.status,
            "similarity": round(c.similarity, 3),
            "distance_m": round(c.distance_m, 1) if c.distance_m is not None else None,
            "same_building": c.same_building,
        }
        for c in find_duplicates(
            community_id=community_id,
            description=q.description,
            building_id=q.building_id,
            lat=q.lat,
            lng=q.lng,
        )
    ]


@router.get("/metrics", response=dict[str, Any])
def metrics(request: HttpRequest, q: Query[MetricsQuery]) -> dict[str, Any]:
    community = OrgUnit.objects.filter(pk=q.community, kind="community").first()
    if community is None:
        raise NotFound()
    m: RequestMetrics = request_metrics(
        viewer=request.user, community=community, start=q.start, end=q.end
    )
    from dataclasses import asdict

    return asdict(m)


@router.get("/{int:pk}", response=RequestDetailOut)
def detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    req = request_get_for(viewer=request.user, pk=pk)
    out = _out(request, req)
    out["timeline"] = [
        {
            "at": e.at,
            "kind": e.kind,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in timeline_for(viewer=request.user, req=req)
    ]
    return out


@router.post("/{int:pk}/{action}", response=RequestOut)
def act(request: HttpRequest, pk: int, action: str, data: ActionIn) -> dict[str, Any]:
    req = request_get_for(viewer=request.user, pk=pk)
    u = request.user
    if action == "merge":
        into = ServiceRequest.objects.filter(
            pk=data.into or -1, community_id=req.community_id
        ).first()
        if into is None:
            raise ValidationFailed(_("请指定要合并到的诉求。"), field="into")
    calls: dict[str, Any] = {
        "accept": lambda: svc.request_accept(
            actor=u, request=req, is_complex=data.is_complex, note=data.note
        ),
        "dispatch": lambda: svc.request_dispatch(
            actor=u, request=req, target=data.target, note=data.note
        ),
        "start": lambda: svc.request_start(actor=u, request=req, note=data.note),
        "resolve": lambda: svc.request_resolve(actor=u, request=req, resolution=data.resolution),
        "reject": lambda: svc.request_reject(actor=u, request=req, reason=data.reason),
        "merge": lambda: svc.request_merge(actor=u, request=req, into=into),  # type: ignore[arg-type]
        "reroute": lambda: svc.request_reroute(
            actor=u, request=req, target=data.target, reason=data.reason
        ),
        "recategorise": lambda: svc.request_recategorise(
            actor=u, request=req, category_code=data.category, reason=data.reason
        ),
        "plan": lambda: svc.request_plan(actor=u, request=req, plan=data.plan),
        "feedback": lambda: svc.request_feedback(actor=u, request=req, note=data.note),
        "onsite": lambda: svc.request_onsite(actor=u, request=req, note=data.note),
        "urge": lambda: svc.request_urge(actor=u, request=req),
        "complain": lambda: svc.request_complain(actor=u, request=req, text=data.text),
        "rate": lambda: svc.request_rate(
            actor=u, request=req, rating=data.rating, comment=data.comment
        ),
        "reopen": lambda: svc.request_reopen(actor=u, request=req, reason=data.reason),
        "support": lambda: svc.request_support(actor=u, request=req),
    }
    if action not in calls:
        raise NotFound()
    out = calls[action]()
    # The services return the row as written, with the relations the answer shows.
    return _out(request, out)


@router.post("/bulk-assign", response=dict[str, int])
def bulk_assign(request: HttpRequest, data: BulkIn) -> dict[str, int]:
    n = svc.request_bulk_assign(
        actor=request.user, request_ids=data.ids, target=data.target, reason=data.reason
    )
    return {"assigned": n}
