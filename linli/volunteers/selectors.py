"""Reads for volunteers and activities."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from linli.accounts.scope import scope_of
from linli.communities.display import related, skills_visible_q
from linli.core.errors import NotFound
from linli.volunteers.models import HOLDS_PLACE, Activity, SignUp, SignUpStatus, VolunteerProfile
from linli.volunteers.permissions import CHECKIN_ROLES, can_check_in, community_ids


def _community_ids(viewer: Any) -> set[int]:
    scope = scope_of(viewer)
    ids = set(community_ids(viewer, CHECKIN_ROLES))
    if scope.community_id:
        ids.add(scope.community_id)
    return ids


def activities_for(
    *, viewer: Any, community_id: int | None = None, upcoming: bool = False
) -> QuerySet[Activity]:
    ids = _community_ids(viewer)
    if community_id is not None:
        ids = ids & {community_id}
    qs = Activity.objects.filter(community_id__in=ids).annotate(
        taken=Count("signups", filter=Q(signups__status__in=HOLDS_PLACE)),
        waiting=Count("signups", filter=Q(signups__status=SignUpStatus.WAITLISTED)),
    )
    if upcoming:
        qs = qs.filter(status__in=["open", "closed"])
    return qs.order_by("-starts_at")


def activity_get_for(*, viewer: Any, pk: int) -> Activity:
    a = activities_for(viewer=viewer).filter(pk=pk).first()
    if a is None:
        raise NotFound()
    return a


def my_signup(*, viewer: Any, activity: Activity) -> SignUp | None:
    rid = scope_of(viewer).resident_id
    if rid is None:
        return None
    return (
        SignUp.objects.filter(
            community_id=activity.community_id, activity=activity, resident_id=rid
        )
        .exclude(status="cancelled")
        .first()
    )


def my_signups(*, viewer: Any) -> QuerySet[SignUp]:
    scope = scope_of(viewer)
    return (
        SignUp.objects.filter(
            community_id=scope.community_id or 0, resident_id=scope.resident_id or 0
        )
        .select_related("activity")
        .order_by("-created_at")
    )


def roster_for(*, viewer: Any, activity: Activity) -> QuerySet[SignUp]:
    if not can_check_in(viewer, activity):
        raise NotFound()
    return (
        SignUp.objects.filter(community_id=activity.community_id, activity=activity)
        .exclude(status=SignUpStatus.CANCELLED)
        .select_related("resident__household__building")
        .order_by("status", "created_at", "id")
    )


def skills_pool(
    *, viewer: Any, community_id: int, category: str = "", building_id: int | None = None
) -> QuerySet[VolunteerProfile]:
    """社区能人库: listed volunteers of the viewer's community, by skill and building.
    Shows names (through communities.display) and buildings only; contact goes
    through the community office."""
    if community_id not in _community_ids(viewer):
        raise NotFound()
    qs = VolunteerProfile.objects.filter(community_id=community_id, listed=True, is_active=True)
    # Residents see only the people whose skills visibility lets them (same building
    # by default, the whole community after opt-in); staff of the community see all.
    visible = skills_visible_q(viewer=viewer, community_id=community_id)
    if visible is not None:
        qs = qs.filter(visible)
    if category:
        qs = qs.filter(skills__category=category)
    if building_id:
        qs = qs.filter(resident__household__building_id=building_id)
    return (
        qs.select_related(*related("resident"))
        .prefetch_related("skills")
        .distinct()
        .order_by("resident__household__building__name", "id")
    )
