"""/api/v1/deliberation/: topics through the five steps, comments during 商议, staff
transitions (the same services as the pages), meetings and council composition."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from linli.communities.display import display_name
from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.errors import NotFound
from linli.deliberation import selectors, services
from linli.deliberation.models import AgendaItem, Attendance, Meeting, Topic
from linli.deliberation.permissions import (
    can_comment,
    can_manage,
    can_object,
    can_review,
)
from linli.deliberation.states import TOPIC

router = Router(tags=["deliberation"])

MAX_PAGE = 200


class TopicOut(Schema):
    id: int
    community_id: int
    title: str
    source: str
    step: str
    step_label: str
    comments: int
    ballot_id: int | None
    created_at: datetime
    updated_at: datetime


class CommentOut(Schema):
    id: int
    author: str
    body: str
    created_at: datetime


class ReviewNoteOut(Schema):
    aspect: str
    conclusion: str
    body: str
    author: str
    created_at: datetime


class TransitionOut(Schema):
    from_step: str
    to_step: str
    at: datetime
    reason: str


class NextStepOut(Schema):
    action: str
    to: str
    label: str
    reason_required: bool


class ActionItemOut(Schema):
    id: int
    title: str
    owner_name: str
    deadline: date
    status: str
    progress_percent: int


class TopicDetailOut(TopicOut):
    description: str
    source_ref: str
    result_text: str
    result_passed: bool | None
    minutes: str
    published_at: datetime | None
    objections_until: datetime | None
    comment_list: list[CommentOut]
    review_notes: list[ReviewNoteOut]
    history: list[TransitionOut]
    action_items: list[ActionItemOut]
    # What the viewer may do now (so a client shows only the buttons that will work).
    # Requests (诉求) behind a topic suggested from frequent requests.
    evidence_request_ids: list[int]
    can_comment: bool
    can_review: bool
    can_object: bool
    can_manage: bool
    next_steps: list[NextStepOut]


class TopicIn(Schema):
    community_id: int | None = None
    title: str
    description: str


class CommentIn(Schema):
    body: str


class ReviewIn(Schema):
    aspect: str
    conclusion: str
    body: str


class TransitionIn(Schema):
    to: str
    reason: str = ""


class VoteIn(Schema):
    closes_at: datetime
    opens_at: datetime | None = None
    eligibility: str = "council"
    secret: bool = False


class PubliciseIn(Schema):
    minutes: str


class AgendaOut(Schema):
    order: int
    topic_id: int
    title: str
    step: str


class MeetingOut(Schema):
    id: int
    community_id: int
    council_id: int
    council: str
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    mode: str
    online_url: str
    status: str
    series_id: int | None
    notice_id: int | None


class AttendanceOut(Schema):
    member_id: int
    name: str
    mode: str
    proxy_name: str


class MeetingDetailOut(MeetingOut):
    materials: str
    materials_published_at: datetime | None
    minutes: str
    members_total: int | None
    members_present: int | None
    concluded_at: datetime | None
    agenda: list[AgendaOut]
    attendance: list[AttendanceOut]


class MemberOut(Schema):
    id: int
    name: str
    member_type: str
    position: str
    joined_on: date
    # Personal facts behind the composition check: staff who manage the council only.
    birth_year: int | None = None
    tenure: str | None = None


class ViolationOut(Schema):
    rule: str
    actual: str
    required: str
    message: str


class CouncilOut(Schema):
    id: int
    kind: str
    name: str
    members: list[MemberOut]
    complies: bool
    violations: list[ViolationOut]


def _page(limit: int, offset: int) -> slice:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    return slice(offset, offset + limit)


def _community(request: HttpRequest, community_id: int | None) -> OrgUnit:
    """The hall the viewer asked for, or their own (as on the pages)."""
    allowed = list(selectors.hall_communities_for(viewer=request.user))
    if community_id is not None:
        for c in allowed:
            if c.pk == community_id:
                return c
        raise NotFound()
    if not allowed:
        raise NotFound()
    from linli.accounts.scope import scope_of

    own = scope_of(request.user).community_id
    return next((c for c in allowed if c.pk == own), allowed[0])


def _topic_out(t: Topic, n_comments: int) -> dict[str, Any]:
    return {
        "id": t.pk,
        "community_id": t.community_id,
        "title": t.title,
        "source": t.source,
        "step": t.step,
        "step_label": str(t.get_step_display()),
        "comments": n_comments,
        "ballot_id": t.ballot_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


def _topic_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = request.user
    t = selectors.topic_get_for(viewer=user, pk=pk)
    record = selectors.topic_record(t)
    comments = list(record.comments)
    manage = can_manage(user, t)
    out = _topic_out(t, len(comments))
    out.update(
        description=t.description,
        source_ref=t.source_ref,
        result_text=t.result_text,
        result_passed=t.result_passed,
        minutes=t.minutes,
        published_at=t.published_at,
        objections_until=t.objections_until,
        comment_list=[
            {
                "id": c.pk,
                "author": display_name(c.author, viewer=user),
                "body": c.body,
                "created_at": c.created_at,
            }
            for c in comments
        ],
        review_notes=[
            {
                "aspect": n.aspect,
                "conclusion": n.conclusion,
                "body": n.body,
                "author": display_name(n.author, viewer=user),
                "created_at": n.created_at,
            }
            for n in record.review_notes
        ],
        history=[
            {"from_step": h.from_step, "to_step": h.to_step, "at": h.at, "reason": h.reason}
            for h in record.history
        ],
        action_items=[
            {
                "id": a.pk,
                "title": a.title,
                "owner_name": a.owner_name,
                "deadline": a.deadline,
                "status": a.status,
                "progress_percent": a.progress_percent,
            }
            for a in record.action_items
        ],
        evidence_request_ids=record.evidence_request_ids,
        can_comment=can_comment(user, t),
        can_review=can_review(user, t),
        can_object=can_object(user, t),
        can_manage=manage,
        # Exactly the moves the service would accept from this viewer now (the table).
        next_steps=[
            {
                "action": a,
                "to": TOPIC[a].target,
                "label": str(TOPIC[a].label),
                "reason_required": TOPIC[a].reason_required,
            }
            for a in TOPIC.available(user, t)
        ],
    )
    return out


# --------------------------------------------------------------------------- topics


@router.get("/topics", response=list[TopicOut])
def topic_list(
    request: HttpRequest,
    step: str = "",
    community: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    qs = selectors.topic_list_for(viewer=request.user, step=step, community_id=community)
    return [_topic_out(t, t.n_comments) for t in qs[_page(limit, offset)]]  # type: ignore[attr-defined]


@router.post("/topics", response={201: TopicDetailOut})
def topic_propose(request: HttpRequest, data: TopicIn) -> Status:
    community = _community(request, data.community_id)
    t = services.topic_propose(
        actor=request.user,
        community=community,
        title=data.title,
        description=data.description,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _topic_detail(request, t.pk))


@router.get("/topics/{int:pk}", response=TopicDetailOut)
def topic_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _topic_detail(request, pk)


@router.post("/topics/{int:pk}/comments", response={201: CommentOut})
def topic_comment(request: HttpRequest, pk: int, data: CommentIn) -> Status:
    t = selectors.topic_get_for(viewer=request.user, pk=pk)
    c = services.topic_comment(
        actor=request.user,
        topic=t,
        body=data.body,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(
        201,
        {
            "id": c.pk,
            "author": display_name(request.user, viewer=request.user),
            "body": c.body,
            "created_at": c.created_at,
        },
    )


@router.post("/topics/{int:pk}/reviews", response={201: ReviewNoteOut})
def topic_review(request: HttpRequest, pk: int, data: ReviewIn) -> Status:
    """审议 notes (feasibility, budget, law) by council members or community staff."""
    t = selectors.topic_get_for(viewer=request.user, pk=pk)
    n = services.review_note_add(
        actor=request.user, topic=t, aspect=data.aspect, conclusion=data.conclusion, body=data.body
    )
    return Status(
        201,
        {
            "aspect": n.aspect,
            "conclusion": n.conclusion,
            "body": n.body,
            "author": display_name(request.user, viewer=request.user),
            "created_at": n.created_at,
        },
    )


@router.post("/topics/{int:pk}/transition", response=TopicDetailOut)
def topic_transition(request: HttpRequest, pk: int, data: TransitionIn) -> dict[str, Any]:
    """Moves that carry no extra data (accept, reject, submit for review, send back,
    reopen, close); 决议 and 公示 have their own endpoints below."""
    t = selectors.topic_get_for(viewer=request.user, pk=pk)
    services.topic_transition(actor=request.user, topic=t, to=data.to, reason=data.reason)
    return _topic_detail(request, pk)


@router.post("/topics/{int:pk}/vote", response=TopicDetailOut)
def topic_open_vote(request: HttpRequest, pk: int, data: VoteIn) -> dict[str, Any]:
    t = selectors.topic_get_for(viewer=request.user, pk=pk)
    services.topic_open_vote(
        actor=request.user,
        topic=t,
        opens_at=data.opens_at or timezone.now(),
        closes_at=data.closes_at,
        eligibility=data.eligibility,
        secret=data.secret,
    )
    return _topic_detail(request, pk)


@router.post("/topics/{int:pk}/publicise", response=TopicDetailOut)
def topic_publicise(request: HttpRequest, pk: int, data: PubliciseIn) -> dict[str, Any]:
    t = selectors.topic_get_for(viewer=request.user, pk=pk)
    services.topic_publicise(actor=request.user, topic=t, minutes=data.minutes)
    return _topic_detail(request, pk)


# --------------------------------------------------------------------------- meetings


def _meeting_out(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "community_id": m.community_id,
        "council_id": m.council_id,
        "council": m.council.name,
        "title": m.title,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "location": m.location,
        "mode": m.mode,
        "online_url": m.online_url,
        "status": m.status,
        "series_id": m.series_id,
        "notice_id": m.notice_id,
    }


@router.get("/meetings", response=list[MeetingOut])
def meeting_list(
    request: HttpRequest,
    community: int | None = None,
    upcoming: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    qs = selectors.meeting_list_for(viewer=request.user, upcoming_only=upcoming)
    if community is not None:
        qs = qs.filter(community_id=community)
    return [_meeting_out(m) for m in qs[_page(limit, offset)]]


@router.get("/meetings/{int:pk}", response=MeetingDetailOut)
def meeting_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    m = selectors.meeting_get_for(viewer=request.user, pk=pk)
    out = _meeting_out(m)
    out.update(
        materials=m.materials,
        materials_published_at=m.materials_published_at,
        minutes=m.minutes,
        members_total=m.members_total,
        members_present=m.members_present,
        concluded_at=m.concluded_at,
        agenda=[
            {"order": a.order, "topic_id": a.topic_id, "title": a.topic.title, "step": a.topic.step}
            for a in AgendaItem.objects.filter(
                community_id=m.community_id, meeting=m
            ).select_related("topic")
        ],
        attendance=[
            {
                "member_id": a.member_id,
                "name": a.member.display_name,
                "mode": a.mode,
                "proxy_name": a.proxy_name,
            }
            for a in Attendance.objects.filter(community_id=m.community_id, meeting=m)
            .select_related("member__resident")
            .order_by("member_id")
        ],
    )
    return out


# --------------------------------------------------------------------------- council


@router.get("/councils", response=list[CouncilOut])
def councils(request: HttpRequest, community: int | None = None) -> list[dict[str, Any]]:
    """Each council of the community with its members and the composition check."""
    c = _community(request, community)
    manage = can_manage(request.user, c)
    out = []
    for v in selectors.councils_for(viewer=request.user, community=c):
        members = []
        for mem in v.members:
            row: dict[str, Any] = {
                "id": mem.pk,
                "name": mem.display_name,
                "member_type": mem.member_type,
                "position": mem.position,
                "joined_on": mem.joined_on,
            }
            if manage and mem.resident is not None:
                row["birth_year"] = mem.resident.birth_year
                row["tenure"] = mem.resident.household.tenure if mem.resident.household else None
            members.append(row)
        out.append(
            {
                "id": v.council.pk,
                "kind": v.council.kind,
                "name": v.council.name,
                "members": members,
                "complies": not v.violations,
                "violations": [
                    {"rule": x.rule, "actual": x.actual, "required": x.required, "message": str(x)}
                    for x in v.violations
                ],
            }
        )
    return out
