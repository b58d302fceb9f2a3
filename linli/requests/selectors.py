"""Reads that depend on who is looking. "Not found" and "not allowed" look the same."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from linli.accounts.models import ORG_ROLES, Role
from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit
from linli.core.errors import NotFound
from linli.requests import stats
from linli.requests.models import (
    OPEN_STATUSES,
    Category,
    DueState,
    RequestEvent,
    ServiceRequest,
    Status,
)
from linli.requests.permissions import MANAGER_ROLES, can_view, can_view_staff
from linli.requests.similarity import (
    MIN_SIMILARITY,
    degree_box,
    haversine_m,
    text_similarities,
)

DUPLICATE_WINDOW = timedelta(days=14)
DUPLICATE_RADIUS_M = 100.0
DUPLICATE_MIN_SIMILARITY = MIN_SIMILARITY


def _base() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "category",
        "category__parent",
        "community",
        "grid",
        "building",
        "assignee_org",
        "assignee_unit",
        "owner_org",
        "owner_unit",
    )


def request_get_for(*, viewer: Any, pk: int) -> ServiceRequest:
    req = _base().filter(pk=pk).first()
    if req is None or not can_view(viewer, req):
        raise NotFound()
    return req


def request_list_mine(*, viewer: Any) -> QuerySet[ServiceRequest]:
    if not getattr(viewer, "is_authenticated", False):
        return ServiceRequest.objects.none()
    return (
        _base()
        .filter(Q(reporter=viewer) | Q(supports__user=viewer))
        .distinct()
        .order_by("-created_at")
    )


def staff_visibility_q(viewer: Any) -> Q | None:
    """The requests a staff member may see as a Q; None means everything (admin)."""
    scope = scope_of(viewer)
    if scope.is_platform_admin:
        return None
    q = Q(pk__in=[])
    grid_ids = [uid for uid, _p, kind in scope.units.get(Role.GRID_WORKER, []) if kind == "grid"]
    if grid_ids:
        q |= Q(grid_id__in=grid_ids)
    wide_roles = [r for r in MANAGER_ROLES if r != Role.GRID_WORKER] + [Role.SUPERVISOR]
    community_ids = scope.community_ids_for(*wide_roles)
    # A grid worker whose membership sits on a community (not a grid) sees it all.
    community_ids |= {
        uid for uid, _p, kind in scope.units.get(Role.GRID_WORKER, []) if kind == "community"
    }
    if community_ids:
        q |= Q(community_id__in=community_ids)
    orgs: set[int] = set()
    for role in ORG_ROLES:
        orgs |= scope.organisation_ids.get(role, set())
    if orgs:
        q |= Q(assignee_org_id__in=orgs) | Q(owner_org_id__in=orgs)
    return q


def due_today_q(now: datetime | None = None) -> Q:
    """Open and not yet late, with the next time limit before midnight (Asia/Shanghai)
    today: what staff must finish today. The same test feeds the workbench strip
    (今日到期) and the queue filter ``?due=today``, so their numbers agree."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return Q(
        status__in=list(OPEN_STATUSES),
        next_due_at__gte=local,
        next_due_at__lt=midnight,
    )


@dataclass
class QueueFilters:
    status: str = "open"  # "open", "all" or a Status value
    category: int | None = None
    due: str = ""  # "today", "soon", "overdue", "escalated"
    grid: int | None = None
    community: int | None = None
    channel: str = ""
    mine: bool = False  # assigned to or owned by one of my organisations/units


def request_queue_for(
    *, viewer: Any, filters: QueueFilters | None = None
) -> QuerySet[ServiceRequest]:
    f = filters or QueueFilters()
    scope = scope_of(viewer)
    if not scope.is_staff:
        return ServiceRequest.objects.none()
    qs = _base()
    vis = staff_visibility_q(viewer)
    if vis is not None:
        qs = qs.filter(vis)
    if f.status == "open":
        qs = qs.filter(status__in=list(OPEN_STATUSES))
    elif f.status in Status.values:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.due == "overdue":
        qs = qs.filter(due_state=DueState.OVERDUE)
    elif f.due == "today":
        qs = qs.filter(due_today_q())
    elif f.due == "soon":
        qs = qs.filter(due_state=DueState.SOON)
    elif f.due == "escalated":
        qs = qs.filter(escalation_level__gt=0)
    if f.grid:
        qs = qs.filter(grid_id=f.grid)
    if f.community:
        qs = qs.filter(community_id=f.community)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.mine:
        orgs: set[int] = set()
        for role in ORG_ROLES:
            orgs |= scope.organisation_ids.get(role, set())
        units = {uid for r in MANAGER_ROLES for uid, _p, _k in scope.units.get(r, [])}
        qs = qs.filter(
            Q(assignee_org_id__in=orgs)
            | Q(owner_org_id__in=orgs)
            | Q(assignee_unit_id__in=units)
            | Q(owner_unit_id__in=units)
        )
    if f.status == "open":
        return qs.order_by(Coalesce("next_due_at", "created_at").asc(), "id")
    return qs.order_by("-created_at", "-id")


def timeline_for(*, viewer: Any, req: ServiceRequest) -> list[RequestEvent]:
    qs = (
        RequestEvent.objects.filter(community_id=req.community_id, request=req)
        .select_related("actor")
        .order_by("at", "id")
    )
    if not can_view_staff(viewer, req):
        qs = qs.filter(public=True)
    return list(qs)


def categories_tree() -> list[tuple[Category, list[Category]]]:
    cats = list(
        Category.objects.filter(is_active=True).select_related("parent").order_by("order", "code")
    )
    tops = [c for c in cats if c.parent_id is None]
    return [(t, [c for c in cats if c.parent_id == t.pk]) for t in tops]


def leaf_categories() -> QuerySet[Category]:
    return (
        Category.objects.filter(is_active=True)
        .exclude(children__is_active=True)
        .select_related("parent")
        .order_by("parent__order", "order", "code")
    )


def staff_communities(*, viewer: Any) -> QuerySet[OrgUnit]:
    scope = scope_of(viewer)
    ids = scope.community_ids_for(*MANAGER_ROLES, Role.SUPERVISOR)
    return OrgUnit.objects.filter(kind="community", pk__in=ids).order_by("path")


def metrics_communities(*, viewer: Any, among: list[OrgUnit] | None = None) -> list[OrgUnit]:
    """Communities whose request metrics the viewer may read: a role held at the
    community or above (a grid worker's view is their grid queue, not the metrics).
    ``among``: the viewer's :func:`staff_communities` when the caller has them."""
    scope = scope_of(viewer)
    pool = among if among is not None else staff_communities(viewer=viewer)
    return [c for c in pool if scope.covers(c.path, *MANAGER_ROLES, Role.SUPERVISOR)]


def buildings_in(community_id: int) -> QuerySet[Building]:
    return Building.objects.filter(community_id=community_id).select_related("grid").order_by("id")


# ---------------------------------------------------------------- duplicates


MERGE_CANDIDATES_MAX = 20


def merge_candidates_for(
    *, req: ServiceRequest, into: int | None = None
) -> QuerySet[ServiceRequest]:
    """Requests staff may merge ``req`` into: open requests of the same community with
    the same category or in the same building — never an unrelated one. ``into``
    narrows to that one request (the check before a merge). The caller has already
    checked that the viewer may manage ``req``."""
    related = Q(category_id=req.category_id)
    if req.building_id:
        related |= Q(building_id=req.building_id)
    qs = (
        ServiceRequest.objects.filter(related, community_id=req.community_id)
        .filter(status__in=list(OPEN_STATUSES))
        .exclude(pk=req.pk)
        .select_related("category", "building")
    )
    if into is not None:
        qs = qs.filter(pk=into)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class DuplicateCandidate:
    request: ServiceRequest
    similarity: float
    distance_m: float | None
    same_building: bool


def find_duplicates(
    *,
    community_id: int,
    description: str,
    building_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
    limit: int = 5,
) -> list[DuplicateCandidate]:
    """Open requests of the last 14 days in the same building or within 100 m whose
    text is similar. Public fields only: callers show them to other residents."""
    now = now or timezone.now()
    qs = ServiceRequest.objects.filter(
        community_id=community_id,
        status__in=list(OPEN_STATUSES),
        created_at__gte=now - DUPLICATE_WINDOW,
    ).select_related("category", "building")
    near = Q(pk__in=[])
    if building_id:
        near |= Q(building_id=building_id)
    if lat is not None and lng is not None:
        dlat, dlng = degree_box(lat, DUPLICATE_RADIUS_M)
        near |= Q(
            lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng
        )
    placed: list[tuple[ServiceRequest, float | None, bool]] = []
    for req in qs.filter(near).order_by("-created_at")[:200]:
        same = building_id is not None and req.building_id == building_id
        dist = None
        if lat is not None and lng is not None and req.lat is not None and req.lng is not None:
            dist = haversine_m(lat, lng, float(req.lat), float(req.lng))
        if not same and (dist is None or dist > DUPLICATE_RADIUS_M):
            continue
        placed.append((req, dist, same))
    sims = text_similarities(description, [r.description for r, _d, _s in placed])
    out = [
        DuplicateCandidate(req, sim, dist, same)
        for (req, dist, same), sim in zip(placed, sims, strict=True)
        if sim >= DUPLICATE_MIN_SIMILARITY
    ]
    out.sort(key=lambda c: -c.similarity)
    return out[:limit]


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class RequestMetrics:
    """12345-style indicators for one community and period (requests created in
    [start, end)); merged duplicates are not counted. Rates are 0–1, None when there
    is nothing to divide by."""

    community_id: int
    start: datetime
    end: datetime
    total: int
    responded: int
    response_rate: float | None  # responded within the response limit / total
    resolved: int
    resolution_rate: float | None  # resolved or closed after resolution / total
    on_time_rate: float | None  # resolved within the feedback limit / resolved
    rated: int
    satisfaction_mean: float | None
    satisfaction_share_4_5: float | None
    avg_cycle_hours: float | None
    p90_cycle_hours: float | None
    open: int
    overdue: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def request_metrics(
    *, viewer: Any, community: OrgUnit, start: datetime, end: datetime
) -> RequestMetrics:
    scope = scope_of(viewer)
    if not scope.covers(community.path, *MANAGER_ROLES, Role.SUPERVISOR):
        raise NotFound()
    # History (counts, ratings, cycle times) from the daily aggregates plus the rows
    # they do not cover; current states (open, overdue) from the open items' index.
    counts, _days = stats.metrics_counts(community.pk, start, end)
    current = (
        ServiceRequest.objects.filter(
            community_id=community.pk,
            created_at__gte=start,
            created_at__lt=end,
            status__in=list(OPEN_STATUSES),
        )
    ).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_state=DueState.OVERDUE)),
    )
    p90: float | None = None
    if counts.resolved:
        # Nearest rank over the exact cycle times.
        idx = max(0, math.ceil(0.9 * counts.resolved) - 1)
        if idx < len(counts.cycles):
            p90 = round(counts.cycles[idx] / 3600, 2)
    group_of = {
        pk: parent or name
        for pk, name, parent in Category.objects.filter(
            pk__in=list(counts.by_category)
        ).values_list("pk", "name", "parent__name")
    }
    by_cat: dict[str, int] = {}
    for pk, n in counts.by_category.items():
        by_cat[group_of.get(pk, "")] = by_cat.get(group_of.get(pk, ""), 0) + n
    by_cat = dict(sorted(by_cat.items(), key=lambda kv: -kv[1]))
    by_channel = dict(sorted(counts.by_channel.items(), key=lambda kv: -kv[1]))
    total = counts.total
    mean = counts.rating_sum / counts.rated if counts.rated else None
    avg_cycle = counts.cycle_sum / counts.cycle_n if counts.cycle_n else None
    return RequestMetrics(
        community_id=community.pk,
        start=start,
        end=end,
        total=total,
        responded=counts.responded,
        response_rate=_rate(counts.responded, total),
        resolved=counts.resolved,
        resolution_rate=_rate(counts.resolved, total),
        on_time_rate=_rate(counts.on_time, counts.resolved),
        rated=counts.rated,
        satisfaction_mean=round(mean, 2) if mean is not None else None,
        satisfaction_share_4_5=_rate(counts.good, counts.rated),
        avg_cycle_hours=round(avg_cycle / 3600, 2) if avg_cycle is not None else None,
        p90_cycle_hours=p90,
        open=current["open"],
        overdue=current["overdue"],
        by_category=by_cat,
        by_channel=by_channel,
    )
