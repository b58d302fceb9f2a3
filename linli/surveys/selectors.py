"""Reads that depend on who looks. Not found and not allowed look the same."""

from __future__ import annotations

from django.db.models import QuerySet

from linli.accounts.scope import scope_of
from linli.core.errors import NotFound
from linli.core.types import Viewer
from linli.surveys.models import (
    Audience,
    Participation,
    Question,
    Survey,
    SurveyStatus,
    Wish,
    WishStatus,
)
from linli.surveys.permissions import PARTNER_ROLES, PROXY_ROLES, RESULT_ROLES, community_ids
from linli.surveys.states import SURVEY, WISH, in_audience, reads_results

PUBLIC_WISH_STATES = (
    WishStatus.PUBLISHED,
    WishStatus.CLAIMED,
    WishStatus.FULFILLED,
    WishStatus.CONFIRMED,
)


def staff_community_ids(viewer: Viewer) -> set[int]:
    return community_ids(viewer, (*RESULT_ROLES, *PROXY_ROLES))


def surveys_for(viewer: Viewer) -> list[Survey]:
    """Staff: every survey of their communities. Residents: the surveys they are asked
    (opened, in their audience), newest first."""
    staff = staff_community_ids(viewer)
    scope = scope_of(viewer)
    out: list[Survey] = []
    if staff:
        out = list(Survey.objects.filter(community_id__in=staff).select_related("community")[:200])
    if scope.resident_id is not None and scope.community_id not in staff:
        for s in (
            Survey.objects.filter(community_id=scope.community_id)
            .exclude(status=SurveyStatus.DRAFT)
            .exclude(audience=Audience.PUBLIC)[:100]
        ):
            if in_audience(scope.resident_id, s):
                out.append(s)
    return out


def answered_ids(viewer: Viewer, surveys: list[Survey]) -> set[int]:
    rid = scope_of(viewer).resident_id
    if rid is None or not surveys:
        return set()
    cids = {s.community_id for s in surveys}
    return set(
        Participation.objects.filter(
            community_id__in=cids, survey__in=surveys, resident_id=rid
        ).values_list("survey_id", flat=True)
    )


def survey_get_for(*, viewer: Viewer, pk: int) -> Survey:
    s = Survey.objects.select_related("community").filter(pk=pk).first()
    if s is None or not SURVEY.visible or not SURVEY.visible(viewer, s):
        raise NotFound()
    return s


def public_survey(token: str) -> Survey:
    """The survey behind a public link (never a draft)."""
    if not token or len(token) > 32:
        raise NotFound()
    s = (
        Survey.objects.filter(public_token=token, audience=Audience.PUBLIC)
        .exclude(status=SurveyStatus.DRAFT)
        .first()
    )
    if s is None:
        raise NotFound()
    return s


def questions_of(survey: Survey) -> list[Question]:
    return list(
        Question.objects.filter(community_id=survey.community_id, survey=survey).order_by(
            "position"
        )
    )


def results_visible(viewer: Viewer, survey: Survey) -> bool:
    """Staff who read results always; residents once the results are published."""
    if reads_results(viewer, survey):
        return True
    return survey.status == SurveyStatus.PUBLISHED


# --------------------------------------------------------------------------- wishes


def wish_wall(viewer: Viewer) -> QuerySet[Wish]:
    """Published wishes of the viewer's community (or the partner's communities):
    public fields only are shown by the templates."""
    scope = scope_of(viewer)
    cids = set(community_ids(viewer, (*PARTNER_ROLES, *PROXY_ROLES)))
    if scope.community_id:
        cids.add(scope.community_id)
    return Wish.objects.filter(community_id__in=cids, status__in=PUBLIC_WISH_STATES).order_by(
        "status", "-created_at"
    )


def my_wishes(viewer: Viewer) -> QuerySet[Wish]:
    scope = scope_of(viewer)
    if scope.resident_id is None:
        return Wish.objects.none()
    return Wish.objects.filter(community_id=scope.community_id, wisher_id=scope.resident_id)


def my_claims(viewer: Viewer) -> QuerySet[Wish]:
    return Wish.objects.filter(
        community_id__in=_claim_communities(viewer), claimed_by_id=getattr(viewer, "pk", None)
    )


def _claim_communities(viewer: Viewer) -> set[int]:
    scope = scope_of(viewer)
    cids = set(community_ids(viewer, PARTNER_ROLES))
    if scope.community_id:
        cids.add(scope.community_id)
    return cids


def wish_queue(viewer: Viewer) -> QuerySet[Wish]:
    """Staff: every wish of their communities, with the wisher (they check it)."""
    cids = community_ids(viewer, PROXY_ROLES)
    return (
        Wish.objects.filter(community_id__in=cids)
        .select_related("wisher", "wisher__household__building")
        .order_by("status", "-created_at")
    )


def wish_get_for(*, viewer: Viewer, pk: int) -> Wish:
    w = Wish.objects.filter(pk=pk).first()
    if w is None or WISH.visible is None or not WISH.visible(viewer, w):
        raise NotFound()
    return w


def sees_private(viewer: Viewer, wish: Wish) -> bool:
    """The wisher's own words and name: the wisher and staff only."""
    scope = scope_of(viewer)
    return scope.resident_id == wish.wisher_id or wish.community_id in community_ids(
        viewer, PROXY_ROLES
    )
