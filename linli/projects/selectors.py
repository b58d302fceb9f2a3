"""Reads that depend on who looks. "Not found" and "not allowed" look the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from linli.accounts.scope import scope_of
from linli.core.errors import NotFound
from linli.projects.models import (
    Allocation,
    Criterion,
    MicroProject,
    Override,
    PBBallot,
    PBProject,
    Programme,
    Score,
)
from linli.projects.models import Conflict as ConflictRow
from linli.projects.permissions import VIEW_ROLES, community_ids
from linli.projects.states import WAITING
from linli.requests.siteplan import SitePlan, site_plan

S = MicroProject.Status


def _visible_q(viewer: Any) -> Q:
    scope = scope_of(viewer)
    ids = community_ids(viewer, VIEW_ROLES)
    if scope.community_id is not None:
        ids = ids | {scope.community_id}
    return Q(community_id__in=sorted(ids))


def micro_list_for(*, viewer: Any, status: str | None = None) -> QuerySet[MicroProject]:
    qs = (
        MicroProject.objects.filter(_visible_q(viewer))
        .select_related("community", "building")
        .annotate(households=Count("cosigners", distinct=True))
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def micro_get_for(*, viewer: Any, pk: int) -> MicroProject:
    p = (
        MicroProject.objects.filter(_visible_q(viewer), pk=pk)
        .select_related("community", "building", "proposer", "topic")
        .first()
    )
    if p is None:
        raise NotFound()
    return p


@dataclass(frozen=True)
class Due:
    """The step a project waits for, its deadline and whether it is overdue."""

    field: str
    at: datetime
    overdue: bool


def waiting_on(project: MicroProject, now: datetime | None = None) -> Due | None:
    field = WAITING.get(S(project.status)) if project.status in S.values else None
    if field is None:
        return None
    at = getattr(project, field)
    if at is None:
        return None
    return Due(field, at, (now or timezone.now()) > at)


def workbench_for(*, viewer: Any) -> list[tuple[MicroProject, Due | None]]:
    """Staff: the projects waiting on a step in the communities the viewer covers,
    overdue first, then soonest due."""
    ids = community_ids(viewer, VIEW_ROLES)
    rows = list(
        MicroProject.objects.filter(
            community_id__in=sorted(ids), status__in=[S.PROPOSED, S.REVIEWED]
        )
        .select_related("community")
        .annotate(households=Count("cosigners", distinct=True))
    )
    now = timezone.now()
    out: list[tuple[MicroProject, Due | None]] = [(p, waiting_on(p, now)) for p in rows]
    out.sort(key=lambda pd: (pd[1].at if pd[1] else now, pd[0].pk))
    return out


# --------------------------------------------------------------------------- PB

PUBLIC_PHASES = ("voting", "results", "implementation", "closed")


def programme_list_for(*, viewer: Any) -> QuerySet[Programme]:
    return Programme.objects.filter(_visible_q(viewer)).select_related("community")


def programme_get_for(*, viewer: Any, pk: int) -> Programme:
    p = Programme.objects.filter(_visible_q(viewer), pk=pk).select_related("community").first()
    if p is None:
        raise NotFound()
    return p


def programme_public(*, pk: int) -> Programme:
    """Anyone: a programme whose vote has opened (its shortlist and results are public)."""
    p = Programme.objects.filter(pk=pk, phase__in=PUBLIC_PHASES).select_related("community").first()
    if p is None:
        raise NotFound()
    return p


def ballot_projects(prog: Programme) -> list[PBProject]:
    return list(
        PBProject.objects.filter(
            community_id=prog.community_id,
            programme_id=prog.pk,
            status=PBProject.Status.SHORTLISTED,
        )
        .select_related("building")
        .order_by("pk")
    )


def my_ballot(*, viewer: Any, prog: Programme) -> PBBallot | None:
    scope = scope_of(viewer)
    if scope.resident_id is None:
        return None
    qs = PBBallot.objects.filter(community_id=prog.community_id, programme_id=prog.pk)
    if prog.unit == Programme.Unit.HOUSEHOLD:
        return qs.filter(household_id=scope.household_id or 0).first()
    return qs.filter(resident_id=scope.resident_id).first()


@dataclass
class ResultRow:
    project: PBProject
    by_method: dict[str, dict[str, Any]]


def results(prog: Programme) -> dict[str, Any]:
    """What the results page publishes: both methods, per-project explanations, the
    comparison and every override with its reason (no voter is named)."""
    allocs = {a.method: a for a in Allocation.objects.filter(programme=prog)}
    projects = list(
        PBProject.objects.filter(programme=prog)
        .exclude(status__in=[PBProject.Status.SUBMITTED, PBProject.Status.NOT_SHORTLISTED])
        .select_related("building")
        .order_by("-votes", "cost_fen", "pk")
    )
    rows = [
        ResultRow(p, {m: a.details.get(str(p.pk), {}) for m, a in allocs.items()}) for p in projects
    ]
    return {
        "allocs": allocs,
        "rows": rows,
        "overrides": list(Override.objects.filter(programme=prog).select_related("project")),
    }


def review_board(prog: Programme) -> list[dict[str, Any]]:
    """Published review: per project, each reviewer (by published title) with scores
    and comment, and declared conflicts."""
    crits = list(Criterion.objects.filter(programme=prog))
    scores: dict[tuple[int, int], dict[str, Any]] = {}
    for s in Score.objects.filter(
        community_id=prog.community_id, project__programme=prog
    ).select_related("reviewer"):
        entry = scores.setdefault(
            (s.project_id, s.reviewer_id),
            {"reviewer": s.reviewer.title, "values": {}, "comment": s.comment},
        )
        entry["values"][s.criterion_id] = s.value
    conflicts: dict[int, list[str]] = {}
    for c in ConflictRow.objects.filter(project__programme=prog).select_related("reviewer"):
        conflicts.setdefault(c.project_id, []).append(c.reviewer.title)
    out = []
    for p in PBProject.objects.filter(programme=prog).order_by("pk"):
        out.append(
            {
                "project": p,
                "reviews": [
                    {**v, "row": [v["values"].get(c.pk) for c in crits]}
                    for (pid, _r), v in sorted(scores.items())
                    if pid == p.pk
                ],
                "conflicts": conflicts.get(p.pk, []),
            }
        )
    return out


# --------------------------------------------------------------------------- delivery

DELIVERY_STATES = ("filed", "in_progress", "delivered")


def delivery_public(*, pk: int) -> MicroProject:
    """Anyone: a project the street has filed, through delivery."""
    p = (
        MicroProject.objects.filter(pk=pk, status__in=DELIVERY_STATES)
        .select_related("community", "building")
        .first()
    )
    if p is None:
        raise NotFound()
    return p


def delivery_view(project: MicroProject) -> dict[str, Any]:
    """Phases (late ones flagged), progress, photos, budget against posted spending per
    line (totals only: receipts stay with staff), ratings and evaluations."""
    from django.db.models import Avg, Sum

    from linli.projects.models import (
        DeliveryPhase,
        Evaluation,
        Feedback,
        FundMovement,
        ProjectPhoto,
    )
    from linli.projects.services.delivery import late

    phases = list(DeliveryPhase.objects.filter(community_id=project.community_id, project=project))
    today = timezone.localdate()
    spent = dict(
        FundMovement.objects.filter(
            community_id=project.community_id,
            budget_line__project=project,
            kind="expense",
            status="posted",
        )
        .values_list("budget_line_id")
        .annotate(s=Sum("amount_fen"))
        .values_list("budget_line_id", "s")
    )
    lines = [(b, int(spent.get(b.pk, 0) or 0)) for b in project.lines.all()]
    fb = Feedback.objects.filter(community_id=project.community_id, project=project)
    return {
        "phases": [(ph, late(ph, today)) for ph in phases],
        "progress": round(sum(ph.progress for ph in phases) / len(phases)) if phases else 0,
        "any_late": any(late(ph, today) for ph in phases),
        "before": list(project.photos.filter(kind=ProjectPhoto.Kind.BEFORE)),
        "after": list(project.photos.filter(kind=ProjectPhoto.Kind.AFTER)),
        "lines": lines,
        "spent": sum(s for _b, s in lines),
        "rating": fb.aggregate(a=Avg("rating"))["a"],
        "ratings": fb.count(),
        "comments": [f.comment for f in fb if f.comment][:50],
        "evaluations": list(
            Evaluation.objects.filter(community_id=project.community_id, project=project)
        ),
    }


def delivery_list() -> list[tuple[MicroProject, bool]]:
    """Anyone: filed, running and delivered projects, with whether one is late."""
    from linli.projects.models import DeliveryPhase

    rows = list(
        MicroProject.objects.filter(status__in=DELIVERY_STATES)
        .select_related("community", "building")
        .order_by("-filed_at", "-id")[:300]
    )
    today = timezone.localdate()
    late_ids = set(
        DeliveryPhase.objects.filter(
            project_id__in=[p.pk for p in rows], done_at__isnull=True, due_on__lt=today
        ).values_list("project_id", flat=True)
    )
    return [(p, p.pk in late_ids) for p in rows]


# --------------------------------------------------------------------------- the map

# A building's mark on the public map: the first that applies among its projects.
# Colour and a symbol in the box (and words in the legend): never colour alone.
MAP_STATUSES: list[tuple[str, str, Any]] = [
    ("cut", "✕", _l("已停止资助")),
    ("late", "!", _l("进度滞后")),
    ("in_progress", "▶", _l("实施中")),
    ("filed", "○", _l("已备案·待实施")),
    ("delivered", "✓", _l("已验收")),
]
_MAP_RANK = {key: n for n, (key, _m, _t) in enumerate(MAP_STATUSES)}
_MAP_MARK = {key: mark for key, mark, _t in MAP_STATUSES}


@dataclass(frozen=True)
class MapBuilding:
    pk: int
    name: str
    rect_x: str
    rect_y: str
    text_x: str
    text_y: str
    status: str  # a MAP_STATUSES key, or "" for a building without projects
    mark: str
    projects: int


@dataclass(frozen=True)
class CommunityMap:
    community_id: int
    community: str
    plan: SitePlan
    buildings: list[MapBuilding]
    elsewhere: int  # projects not tied to a drawn building (no building, no position)


def map_status(p: MicroProject, is_late: bool) -> str:
    if p.funding_cut:
        return "cut"
    if is_late:
        return "late"
    return p.status if p.status in _MAP_RANK else "filed"


def delivery_maps(rows: list[tuple[MicroProject, bool]]) -> list[CommunityMap]:
    """Anyone: one site plan per community of the listed projects (server-side SVG from
    the buildings' lat/lng, no map tiles), each building marked with the most pressing
    status among its projects. Buildings and statuses only — no names of people."""
    from linli.communities.models import Building

    by_community: dict[int, list[tuple[MicroProject, bool]]] = {}
    for p, late in rows:
        by_community.setdefault(p.community_id, []).append((p, late))
    buildings = list(
        Building.objects.filter(community_id__in=list(by_community))
        .only("pk", "name", "lat", "lng", "community_id")
        .order_by("community_id", "name", "pk")
    )
    out: list[CommunityMap] = []
    for cid, items in by_community.items():
        plan = site_plan([b for b in buildings if b.community_id == cid])
        if plan is None:
            continue
        drawn = {b.pk for b in plan.buildings}
        status: dict[int, str] = {}
        count: dict[int, int] = {}
        for p, late in items:
            if p.building_id in drawn:
                s = map_status(p, late)
                count[p.building_id] = count.get(p.building_id, 0) + 1
                if p.building_id not in status or _MAP_RANK[s] < _MAP_RANK[status[p.building_id]]:
                    status[p.building_id] = s
        out.append(
            CommunityMap(
                community_id=cid,
                community=items[0][0].community.name,
                plan=plan,
                buildings=[
                    MapBuilding(
                        b.pk,
                        b.name,
                        b.rect_x,
                        b.rect_y,
                        b.text_x,
                        b.text_y,
                        status.get(b.pk, ""),
                        _MAP_MARK.get(status.get(b.pk, ""), ""),
                        count.get(b.pk, 0),
                    )
                    for b in plan.buildings
                ],
                elsewhere=sum(1 for p, _late in items if p.building_id not in drawn),
            )
        )
    return out
