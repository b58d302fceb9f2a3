"""Reads that depend on who looks. "Not found" and "not allowed" look the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.core.errors import NotFound
from linli.projects.models import MicroProject
from linli.projects.permissions import VIEW_ROLES, community_ids
from linli.projects.states import WAITING

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


def public_micro_list() -> QuerySet[MicroProject]:
    """Anonymous: filed projects only (published by the street), no names."""
    return (
        MicroProject.objects.filter(status=S.FILED)
        .select_related("community")
        .only("pk", "title", "place", "budget_fen", "status", "filed_at", "community__name")
        .order_by("-filed_at", "-id")
    )


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
