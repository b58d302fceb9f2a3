"""Resources as candidates for the needs–resources matching board (linli.mutualaid).

A need "借用场地" is answered by venues, "借用工具" by equipment and lent idle items;
other categories have no resource candidates. The pre-filter is indexed (community,
status, kind) and limited; for a need with a time window the candidate says whether the
resource is open and free then.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse

from linli.core.calendar import LOCAL_TZ
from linli.resources.hours import open_intervals
from linli.resources.models import LIVE_STATUSES, Booking, Resource

KINDS_FOR: dict[str, tuple[str, ...]] = {
    "venue": ("venue",),
    "borrow_tool": ("equipment", "item"),
}


def resource_candidates(query: Any) -> list[Any]:
    from linli.mutualaid.providers import Candidate

    kinds = KINDS_FOR.get(query.category)
    if not kinds:
        return []
    where = Q(community_id=query.community_id)
    if query.street_id is not None:
        where |= Q(community__parent_id=query.street_id, share_scope="street")
    qs = (
        Resource.objects.filter(where, status="active", kind__in=kinds, bookable_by="residents")
        .prefetch_related("hours")
        .order_by("id")[: max(1, query.limit)]
    )
    rows = list(qs)
    busy: set[int] = set()
    if query.wanted_from and query.wanted_until and rows:
        busy = set(
            Booking.objects.filter(
                resource_id__in=[r.pk for r in rows],
                status__in=LIVE_STATUSES,
                starts_at__lt=query.wanted_until,
                ends_at__gt=query.wanted_from,
            ).values_list("resource_id", flat=True)
        )
    out = []
    for r in rows:
        available: bool | None = None
        if query.wanted_from and query.wanted_until:
            day = query.wanted_from.astimezone(LOCAL_TZ).date()
            intervals = open_intervals(
                hours=list(r.hours.all()), day=day, open_on_holidays=r.open_on_holidays
            )
            fits = any(o <= query.wanted_from and query.wanted_until <= c for o, c in intervals)
            available = fits and r.pk not in busy
        out.append(
            Candidate(
                kind="resource",
                id=r.pk,
                title=r.name,
                community_id=r.community_id,
                categories=(query.category,),
                building_id=r.building_id,
                location=r.location,
                available=available,
                url=reverse("resources:detail", args=[r.pk]),
                extra={"kind": r.kind, "deposit": str(r.deposit_points)},
            )
        )
    return out


def register_with(hook: Any) -> None:
    """Called from ``apps.ready`` once the mutual-aid app publishes its hook."""
    hook.register_provider("resource", resource_candidates)
