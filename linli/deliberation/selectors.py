"""Reads of the 议事厅 that depend on who is looking. Topics, meetings, results and
action-item progress are public within the community (信息公开)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.communities.display import related
from linli.communities.models import OrgUnit
from linli.core.errors import NotFound
from linli.deliberation.composition import Violation, check_composition
from linli.deliberation.models import (
    ActionItem,
    Council,
    CouncilMember,
    Deliberator,
    Meeting,
    Objection,
    ReviewNote,
    SupervisionReview,
    Topic,
    TopicComment,
    TopicEvidence,
    TopicTransition,
)
from linli.deliberation.permissions import VIEW_ROLES, can_view_community_hall
from linli.deliberation.services import _facts_of, thresholds_for


def hall_communities_for(*, viewer: Any) -> QuerySet[OrgUnit]:
    scope = scope_of(viewer)
    ids = scope.community_ids_for(*VIEW_ROLES)
    if scope.community_id:
        ids.add(scope.community_id)
    return OrgUnit.objects.filter(kind="community", pk__in=ids).order_by("path")


def topic_list_for(
    *, viewer: Any, step: str = "", community_id: int | None = None
) -> QuerySet[Topic]:
    ids = list(hall_communities_for(viewer=viewer).values_list("pk", flat=True))
    qs = Topic.objects.filter(community_id__in=ids).select_related("community")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if step in Topic.Step.values:
        qs = qs.filter(step=step)
    return qs.annotate(n_comments=Count("comments")).order_by("-updated_at", "-id")


def topic_get_for(*, viewer: Any, pk: int) -> Topic:
    topic = Topic.objects.select_related("community", "proposer", "ballot").filter(pk=pk).first()
    if topic is None or not can_view_community_hall(viewer, topic):
        raise NotFound()
    return topic


@dataclass
class TopicRecord:
    """What the topic page and API show under a topic, each read filtered by the
    topic's community (its tenant)."""

    comments: QuerySet[TopicComment]
    review_notes: QuerySet[ReviewNote]
    objections: QuerySet[Objection]
    history: QuerySet[TopicTransition]
    action_items: QuerySet[ActionItem]
    evidence_request_ids: list[int]


def topic_record(topic: Topic) -> TopicRecord:
    """Precondition: ``topic`` came from :func:`topic_get_for` (the viewer may see it)."""
    scope = {"community_id": topic.community_id, "topic_id": topic.pk}
    return TopicRecord(
        # Authors are shown through communities.display (privacy settings).
        comments=TopicComment.objects.filter(**scope).select_related(*related("author", user=True)),
        review_notes=ReviewNote.objects.filter(**scope).select_related(
            *related("author", user=True)
        ),
        objections=Objection.objects.filter(**scope),
        history=TopicTransition.objects.filter(**scope).select_related("actor"),
        action_items=ActionItem.objects.filter(**scope),
        evidence_request_ids=list(
            TopicEvidence.objects.filter(**scope).values_list("request_id", flat=True)
        ),
    )


def meeting_list_for(*, viewer: Any, upcoming_only: bool = False) -> QuerySet[Meeting]:
    ids = list(hall_communities_for(viewer=viewer).values_list("pk", flat=True))
    qs = Meeting.objects.filter(community_id__in=ids).select_related("council", "community")
    if upcoming_only:
        qs = qs.filter(starts_at__gte=timezone.now() - timedelta(hours=3))
    return qs.order_by("starts_at")


def meeting_get_for(*, viewer: Any, pk: int) -> Meeting:
    m = Meeting.objects.select_related("council", "community", "notice").filter(pk=pk).first()
    if m is None or not can_view_community_hall(viewer, m):
        raise NotFound()
    return m


def speaking_order(meeting: Meeting) -> list[CouncilMember]:
    """Certified deliberators speak first (SPEC §2), then other members by seniority."""
    members = list(
        CouncilMember.objects.filter(
            community_id=meeting.community_id, council_id=meeting.council_id, is_active=True
        ).select_related("resident")
    )
    certified = set(
        Deliberator.objects.filter(
            resident_id__in=[m.resident_id for m in members if m.resident_id],
            certified_at__isnull=False,
        ).values_list("resident_id", flat=True)
    )
    for m in members:
        m.is_certified = m.resident_id in certified  # type: ignore[attr-defined]
    return sorted(members, key=lambda m: (m.resident_id not in certified, m.joined_on, m.pk))


@dataclass
class CouncilView:
    council: Council
    members: list[CouncilMember]
    violations: list[Violation]


def councils_for(*, viewer: Any, community: OrgUnit) -> list[CouncilView]:
    if not can_view_community_hall(viewer, community):
        raise NotFound()
    year = timezone.localdate().year
    t = thresholds_for(community.pk)
    out = []
    for c in Council.objects.filter(community=community).order_by("kind"):
        members = list(
            CouncilMember.objects.filter(
                community_id=c.community_id, council=c, is_active=True
            ).select_related("resident__household__building", "organisation")
        )
        out.append(
            CouncilView(
                c, members, check_composition(c.kind, [_facts_of(m) for m in members], t, year)
            )
        )
    return out


def action_items_for(*, viewer: Any, community: OrgUnit) -> QuerySet[ActionItem]:
    if not can_view_community_hall(viewer, community):
        raise NotFound()
    return ActionItem.objects.filter(community=community).select_related("topic", "community")


def supervision_reviews_for(*, viewer: Any, community: OrgUnit) -> QuerySet[SupervisionReview]:
    if not can_view_community_hall(viewer, community):
        raise NotFound()
    return SupervisionReview.objects.filter(community=community)


def deliberators_for(*, viewer: Any, community: OrgUnit) -> QuerySet[Deliberator]:
    if not can_view_community_hall(viewer, community):
        raise NotFound()
    return (
        Deliberator.objects.filter(community=community)
        .select_related("resident")
        .annotate(
            n_training=Count("activities", filter=Q(activities__kind="training"), distinct=True),
            n_practice=Count("activities", filter=Q(activities__kind="practice"), distinct=True),
        )
        .prefetch_related("assessments")
        .order_by("certified_at", "id")
    )


def convening_rate(*, community_id: int) -> tuple[int, int]:
    """议事会召开成功率: (held, held + not convened)."""
    qs = Meeting.objects.filter(community_id=community_id)
    held = qs.filter(status=Meeting.Status.HELD).count()
    failed = qs.filter(status=Meeting.Status.NOT_CONVENED).count()
    return held, held + failed
