"""/api/v1/projects/: micro-projects (list, detail, propose, co-sign, fast-track
actions). Creates take the ``Idempotency-Key`` header so a client may retry safely.
Amounts are strings in yuan on the way in ("5000.50") and integer fen on the way out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from linli.communities.display import display_name
from linli.communities.models import OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import NotFound, ValidationFailed
from linli.projects import selectors, services
from linli.projects.models import Channel, MicroProject
from linli.projects.permissions import MANAGE_ROLES, community_ids
from linli.projects.states import MICRO

router = Router(tags=["projects"])
MAX_PAGE = 100


class LineIn(Schema):
    item: str
    amount_yuan: str


class MicroIn(Schema):
    community_id: int | None = None
    title: str
    problem: str
    plan: str
    place: str
    building_id: int | None = None
    lines: list[LineIn]
    # 代办: staff name the resident and the channel.
    resident_id: int | None = None
    channel: str = Channel.ONLINE
    # A new round of a recurring project: the id of an earlier round.
    continues: int | None = None


class LineOut(Schema):
    item: str
    amount_fen: int


class MicroOut(Schema):
    id: int
    community_id: int
    title: str
    place: str
    status: str
    status_label: str
    budget_fen: int
    households: int
    submitted_at: datetime | None
    review_due: datetime | None
    filing_due: datetime | None
    path_due: datetime | None
    overdue: bool
    series_id: int | None = None  # a recurring project's first round
    funding_cut: bool = False


class MicroDetailOut(MicroOut):
    problem: str
    plan: str
    proposer: str
    channel: str
    decision_reason: str
    topic_id: int | None
    lines: list[LineOut]
    actions: list[str]


class CosignIn(Schema):
    resident_id: int | None = None
    channel: str = Channel.ONLINE


class ActIn(Schema):
    action: str
    reason: str = ""


def _out(p: MicroProject, households: int) -> dict[str, Any]:
    due = selectors.waiting_on(p)
    return {
        "id": p.pk,
        "community_id": p.community_id,
        "title": p.title,
        "place": p.place,
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "budget_fen": p.budget_fen,
        "households": households,
        "submitted_at": p.submitted_at,
        "review_due": p.review_due,
        "filing_due": p.filing_due,
        "path_due": p.path_due,
        "overdue": bool(due and due.overdue),
        "series_id": p.series_id,
        "funding_cut": p.funding_cut,
    }


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    out = _out(p, p.cosigners.count())
    out.update(
        problem=p.problem,
        plan=p.plan,
        proposer=display_name(p.proposer, viewer=request.user) if p.proposer else "",
        channel=p.channel,
        decision_reason=p.decision_reason,
        topic_id=p.topic_id,
        lines=[{"item": b.item, "amount_fen": b.amount_fen} for b in p.lines.all()],
        actions=MICRO.available(request.user, p),
    )
    return out


def _community(request: HttpRequest, community_id: int | None) -> OrgUnit:
    from linli.accounts.scope import scope_of

    own = scope_of(request.user).community_id
    ids = set(community_ids(request.user, MANAGE_ROLES)) | ({own} if own else set())
    cid = community_id if community_id is not None else own
    if cid is None or cid not in ids:
        raise NotFound()
    return OrgUnit.objects.get(pk=cid)


def _resident(community: OrgUnit, resident_id: int | None) -> Resident | None:
    if resident_id is None:
        return None
    r = Resident.objects.filter(pk=resident_id, community_id=community.pk).first()
    if r is None:
        raise ValidationFailed("resident_id", field="resident_id")
    return r


@router.get("/micro", response=list[MicroOut])
def micro_list(
    request: HttpRequest, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    limit = max(1, min(limit, MAX_PAGE))
    qs = selectors.micro_list_for(viewer=request.user, status=status)
    return [_out(p, p.households) for p in qs[max(0, offset) : max(0, offset) + limit]]  # type: ignore[attr-defined]


@router.post("/micro", response={201: MicroDetailOut})
def micro_propose(request: HttpRequest, data: MicroIn) -> Status:
    community = _community(request, data.community_id)
    p = services.micro_propose(
        actor=request.user,
        community=community,
        title=data.title,
        problem=data.problem,
        plan=data.plan,
        place=data.place,
        building_id=data.building_id,
        lines=[(li.item, li.amount_yuan) for li in data.lines],
        resident=_resident(community, data.resident_id),
        channel=data.channel,
        idempotency_key=idempotency.from_request(request),
        continues=data.continues,
    )
    return Status(201, _detail(request, p.pk))


@router.get("/micro/{int:pk}", response=MicroDetailOut)
def micro_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _detail(request, pk)


@router.post("/micro/{int:pk}/cosign", response={201: MicroDetailOut})
def micro_cosign(request: HttpRequest, pk: int, data: CosignIn) -> Status:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    services.micro_cosign(
        actor=request.user,
        project=p,
        resident=_resident(p.community, data.resident_id),
        channel=data.channel,
    )
    return Status(201, _detail(request, pk))


@router.post("/micro/{int:pk}/act", response=MicroDetailOut)
def micro_act(request: HttpRequest, pk: int, data: ActIn) -> dict[str, Any]:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    services.micro_transition(actor=request.user, project=p, action=data.action, reason=data.reason)
    return _detail(request, pk)


# --------------------------------------------------------------------------- PB


class ProgrammeOut(Schema):
    id: int
    community_id: int
    title: str
    phase: str
    budget_fen: int
    ballot_kind: str
    max_choices: int | None
    unit: str
    method: str
    voting_opens: datetime
    voting_closes: datetime
    actions: list[str]


class PBProjectOut(Schema):
    id: int
    title: str
    cost_fen: int
    status: str
    score: int | None
    votes: int


class PBProjectIn(Schema):
    title: str
    description: str
    cost_yuan: str
    building_id: int | None = None


class BallotIn(Schema):
    project_ids: list[int]


class BallotOut(Schema):
    programme_id: int
    total_fen: int
    channel: str


class AdvanceIn(Schema):
    action: str


class ResultOut(Schema):
    method: str
    funded: list[int]
    spent_fen: int
    voters: int
    satisfied: int
    details: dict[str, Any]


def _prog_out(request: HttpRequest, p: Any) -> dict[str, Any]:
    from linli.projects.states import PROGRAMME

    return {
        "id": p.pk,
        "community_id": p.community_id,
        "title": p.title,
        "phase": p.phase,
        "budget_fen": p.budget_fen,
        "ballot_kind": p.ballot_kind,
        "max_choices": p.max_choices,
        "unit": p.unit,
        "method": p.method,
        "voting_opens": p.voting_opens,
        "voting_closes": p.voting_closes,
        "actions": PROGRAMME.available(request.user, p),
    }


@router.get("/programmes", response=list[ProgrammeOut])
def programme_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_prog_out(request, p) for p in selectors.programme_list_for(viewer=request.user)[:100]]


@router.get("/programmes/{int:pk}", response=ProgrammeOut)
def programme_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _prog_out(request, selectors.programme_get_for(viewer=request.user, pk=pk))


@router.get("/programmes/{int:pk}/projects", response=list[PBProjectOut])
def programme_projects(request: HttpRequest, pk: int) -> list[Any]:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    return list(prog.projects.order_by("pk"))


@router.post("/programmes/{int:pk}/projects", response={201: PBProjectOut})
def programme_project_submit(request: HttpRequest, pk: int, data: PBProjectIn) -> Status:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    p = services.pb_project_submit(
        actor=request.user,
        programme=prog,
        title=data.title,
        description=data.description,
        cost_yuan=data.cost_yuan,
        building_id=data.building_id,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, p)


@router.post("/programmes/{int:pk}/advance", response=ProgrammeOut)
def programme_advance(request: HttpRequest, pk: int, data: AdvanceIn) -> dict[str, Any]:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    services.programme_advance(actor=request.user, programme=prog, action=data.action)
    return _prog_out(request, selectors.programme_get_for(viewer=request.user, pk=pk))


@router.post("/programmes/{int:pk}/ballot", response={201: BallotOut})
def programme_vote(request: HttpRequest, pk: int, data: BallotIn) -> Status:
    """Cast the viewer's ballot. One per resident/household: a second is 409; a retry
    of the same request therefore cannot count twice."""
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    b = services.ballot_cast(actor=request.user, programme=prog, project_ids=data.project_ids)
    return Status(201, {"programme_id": prog.pk, "total_fen": b.total_fen, "channel": b.channel})


@router.get("/programmes/{int:pk}/results", response=list[ResultOut], auth=None)
def programme_results(request: HttpRequest, pk: int) -> list[Any]:
    """Public once the vote has closed: both methods' outcomes with explanations."""
    prog = selectors.programme_public(pk=pk)
    return list(prog.allocations.order_by("method"))
