"""/api/v1/mediation/: the same services as the pages — cases (list, open, open from
a 邻里纠纷 request, detail), parties, mediators, sessions, evidence, the agreement and
its signing, escalation, closing, follow-up; the roster and the figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency
from linli.core.errors import NotFound
from linli.mediation import selectors, services
from linli.mediation.models import Case, Mediator
from linli.mediation.permissions import opener_community_ids
from linli.mediation.states import CASE, ESCALATE_FROM, LEVEL

router = Router(tags=["mediation"])
MAX_PAGE = 200


class PartyIn(Schema):
    role: str
    resident_id: int | None = None
    name: str = ""
    phone: str = ""
    address: str = ""


class PartyOut(Schema):
    id: int
    role: str
    name: str
    phone: str
    address: str
    is_resident: bool


class MediatorOut(Schema):
    id: int
    name: str
    lead: bool
    source: str


class SessionOut(Schema):
    id: int
    held_at: datetime
    location: str
    attendees: str
    notes: str


class EvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    description: str


class AgreementOut(Schema):
    facts: str
    disputed_matters: str
    responsibilities: str
    terms: str
    performance_method: str
    performance_deadline: date
    signed_on: date | None
    in_force: bool


class CaseOut(Schema):
    id: int
    number: str
    community_id: int
    building_id: int | None
    kind: str
    level: str
    status: str
    title: str
    opened_at: datetime
    outcome: str
    referral: str
    closed_at: datetime | None
    agreement_effective_on: date | None
    confirmation_deadline: date | None
    followup_due: date | None


class CaseDetailOut(CaseOut):
    facts: str
    channel: str
    source_request_id: int | None
    parties: list[PartyOut]
    mediators: list[MediatorOut]
    sessions: list[SessionOut]
    evidence: list[EvidenceOut]
    agreement: AgreementOut | None
    # What the viewer may do now (so a client shows only buttons that will work).
    actions: list[str]
    escalate: str | None


class CaseIn(Schema):
    community_id: int | None = None
    kind: str
    title: str
    facts: str
    channel: str
    parties: list[PartyIn]
    building_id: int | None = None
    level: str = ""
    mediator_ids: list[int] = []


class FromRequestIn(Schema):
    kind: str = ""
    mediator_ids: list[int] = []


class AssignIn(Schema):
    mediator_id: int
    lead: bool = False


class SessionIn(Schema):
    held_at: datetime
    location: str
    attendees: str
    notes: str


class AgreementIn(Schema):
    facts: str = ""
    disputed_matters: str = ""
    responsibilities: str = ""
    terms: str = ""
    performance_method: str = ""
    performance_deadline: date | None = None


class SignIn(Schema):
    signed_on: date | None = None
    parties_signed: bool = False
    mediator_signed: bool = False
    sealed: bool = False


class ReasonIn(Schema):
    reason: str = ""


class CloseIn(Schema):
    outcome: str = ""
    note: str = ""
    referral: str = ""
    referral_note: str = ""


class FollowUpIn(Schema):
    note: str = ""
    performed: bool | None = None


class RosterIn(Schema):
    community_id: int
    user_id: int | None = None
    volunteer_id: int | None = None
    speciality: str = ""


class RosterOut(Schema):
    id: int
    name: str
    source: str
    speciality: str
    is_active: bool


class FiguresOut(Schema):
    community_id: int
    community: str
    opened: int
    active: int
    agreed: int
    failed: int
    referred: int
    withdrawn: int
    success_rate: float | None
    median_days_to_agreement: float | None
    mean_days_to_agreement: float | None
    followups_overdue: int


def _case_out(c: Case) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "community_id": c.community_id,
        "building_id": c.building_id,
        "kind": c.kind,
        "level": c.level,
        "status": c.status,
        "title": c.title,
        "opened_at": c.opened_at,
        "outcome": c.outcome,
        "referral": c.referral,
        "closed_at": c.closed_at,
        "agreement_effective_on": c.agreement_effective_on,
        "confirmation_deadline": c.confirmation_deadline,
        "followup_due": c.followup_due,
    }


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = request.user
    c = selectors.case_get_for(viewer=user, pk=pk)
    f = selectors.case_file(viewer=user, case=c)
    out = _case_out(c)
    a = f.agreement
    esc = ESCALATE_FROM.get(c.level)
    out.update(
        facts=c.facts if f.staff else "",
        channel=c.channel,
        source_request_id=c.source_request_id if f.staff else None,
        parties=[
            {
                "id": p.pk,
                "role": p.role,
                "name": p.name,
                "phone": p.phone,
                "address": p.address,
                "is_resident": p.is_resident,
            }
            for p in f.parties
        ],
        mediators=[
            {"id": m.pk, "name": m.name, "lead": m.lead, "source": m.source} for m in f.mediators
        ],
        sessions=[
            {
                "id": s.pk,
                "held_at": s.held_at,
                "location": s.location,
                "attendees": s.attendees,
                "notes": s.notes,
            }
            for s in f.sessions
        ],
        evidence=[
            {
                "id": e.pk,
                "name": e.original_name,
                "content_type": e.content_type,
                "size": e.size,
                "description": e.description,
            }
            for e in f.evidence
        ],
        agreement=(
            {
                "facts": a.facts,
                "disputed_matters": a.disputed_matters,
                "responsibilities": a.responsibilities,
                "terms": a.terms,
                "performance_method": a.performance_method,
                "performance_deadline": a.performance_deadline,
                "signed_on": a.signed_on,
                "in_force": a.in_force,
            }
            if a is not None
            else None
        ),
        actions=CASE.available(user, c),
        escalate=esc if esc and LEVEL.can(user, c, esc) else None,
    )
    return out


def _party(p: PartyIn) -> services.PartyIn:
    return services.PartyIn(
        role=p.role, resident_id=p.resident_id, name=p.name, phone=p.phone, address=p.address
    )


def _page(limit: int, offset: int) -> slice:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    return slice(offset, offset + limit)


@router.get("/cases", response=list[CaseOut])
def case_list(
    request: HttpRequest, status: str = "", limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    qs = selectors.cases_for(viewer=request.user, status=status)
    return [_case_out(c) for c in qs[_page(limit, offset)]]


@router.post("/cases", response={201: CaseDetailOut})
def case_open(request: HttpRequest, data: CaseIn) -> Status:
    ids = opener_community_ids(request.user)
    cid = data.community_id if data.community_id is not None else min(ids, default=None)
    community = OrgUnit.objects.filter(pk=cid or 0, kind="community").first()
    if community is None or community.pk not in ids:
        raise NotFound()
    building = None
    if data.building_id is not None:
        building = Building.objects.filter(pk=data.building_id, community_id=community.pk).first()
        if building is None:
            raise NotFound()
    c = services.case_open(
        actor=request.user,
        community=community,
        kind=data.kind,
        title=data.title,
        facts=data.facts,
        channel=data.channel,
        parties=[_party(p) for p in data.parties],
        building=building,
        level=data.level,
        mediator_ids=data.mediator_ids,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _detail(request, c.pk))


@router.post("/from-request/{int:rid}", response={201: CaseDetailOut})
def case_from_request(request: HttpRequest, rid: int, data: FromRequestIn) -> Status:
    from linli.requests.selectors import request_get_for

    req = request_get_for(viewer=request.user, pk=rid)
    c = services.case_from_request(
        actor=request.user,
        request=req,
        kind=data.kind,
        mediator_ids=data.mediator_ids,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _detail(request, c.pk))


@router.get("/cases/{int:pk}", response=CaseDetailOut)
def case_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _detail(request, pk)


@router.post("/cases/{int:pk}/parties", response=CaseDetailOut)
def party_add(request: HttpRequest, pk: int, data: PartyIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.party_add(
        actor=request.user,
        case=c,
        party=_party(data),
        idempotency_key=idempotency.from_request(request),
    )
    return _detail(request, pk)


@router.post("/cases/{int:pk}/mediators", response=CaseDetailOut)
def mediator_assign(request: HttpRequest, pk: int, data: AssignIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    m = Mediator.objects.filter(pk=data.mediator_id, community_id=c.community_id).first()
    if m is None:
        raise NotFound()
    services.mediator_assign(actor=request.user, case=c, mediator=m, lead=data.lead)
    return _detail(request, pk)


@router.post("/cases/{int:pk}/sessions", response={201: CaseDetailOut})
def session_record(request: HttpRequest, pk: int, data: SessionIn) -> Status:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.session_record(
        actor=request.user,
        case=c,
        held_at=data.held_at,
        location=data.location,
        attendees=data.attendees,
        notes=data.notes,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _detail(request, pk))


@router.post("/cases/{int:pk}/evidence", response={201: EvidenceOut})
def evidence_add(
    request: HttpRequest, pk: int, file: File[UploadedFile], description: Form[str] = ""
) -> Status:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    e = services.evidence_add(
        actor=request.user,
        case=c,
        upload=file,
        description=description,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(
        201,
        {
            "id": e.pk,
            "name": e.original_name,
            "content_type": e.content_type,
            "size": e.size,
            "description": e.description,
        },
    )


@router.put("/cases/{int:pk}/agreement", response=CaseDetailOut)
def agreement_save(request: HttpRequest, pk: int, data: AgreementIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.agreement_save(actor=request.user, case=c, **data.dict())
    return _detail(request, pk)


@router.post("/cases/{int:pk}/agreement/sign", response=CaseDetailOut)
def agreement_sign(request: HttpRequest, pk: int, data: SignIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.agreement_sign(actor=request.user, case=c, **data.dict())
    return _detail(request, pk)


@router.post("/cases/{int:pk}/escalate", response=CaseDetailOut)
def case_escalate(request: HttpRequest, pk: int, data: ReasonIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.case_escalate(actor=request.user, case=c, reason=data.reason)
    return _detail(request, pk)


@router.post("/cases/{int:pk}/close", response=CaseDetailOut)
def case_close(request: HttpRequest, pk: int, data: CloseIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.case_close(actor=request.user, case=c, **data.dict())
    return _detail(request, pk)


@router.post("/cases/{int:pk}/follow-up", response=CaseDetailOut)
def case_follow_up(request: HttpRequest, pk: int, data: FollowUpIn) -> dict[str, Any]:
    c = selectors.case_get_for(viewer=request.user, pk=pk)
    services.case_follow_up(actor=request.user, case=c, note=data.note, performed=data.performed)
    return _detail(request, pk)


@router.get("/mediators", response=list[RosterOut])
def roster(request: HttpRequest, community_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": m.pk,
            "name": m.name,
            "source": m.source,
            "speciality": m.speciality,
            "is_active": m.is_active,
        }
        for m in selectors.roster_for(viewer=request.user, community_id=community_id)
    ]


@router.post("/mediators", response={201: RosterOut})
def roster_add(request: HttpRequest, data: RosterIn) -> Status:
    from linli.accounts.models import User
    from linli.volunteers.models import VolunteerProfile

    community = OrgUnit.objects.filter(pk=data.community_id, kind="community").first()
    if community is None:
        raise NotFound()
    vol = (
        VolunteerProfile.objects.filter(pk=data.volunteer_id, community_id=community.pk)
        .select_related("resident")
        .first()
        if data.volunteer_id
        else None
    )
    user = User.objects.filter(pk=data.user_id).first() if data.user_id else None
    m = services.mediator_add(
        actor=request.user,
        community=community,
        user=user,
        volunteer=vol,
        speciality=data.speciality,
    )
    return Status(
        201,
        {
            "id": m.pk,
            "name": m.name,
            "source": m.source,
            "speciality": m.speciality,
            "is_active": m.is_active,
        },
    )


@router.get("/figures", response=list[FiguresOut])
def figures(
    request: HttpRequest,
    community_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Success rate and time-to-agreement per community the viewer manages."""
    rows = selectors.figures_for(
        viewer=request.user, community_id=community_id, start=start, end=end
    )
    return [{"community": u.name, **vars(f)} for u, f in rows]
