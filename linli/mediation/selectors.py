"""Reads of the mediation app, each taking the viewer.

Cases are listed only to the people :mod:`linli.mediation.permissions` allows; a case
someone may not see is "not found". Names and phones of the parties go out through
:func:`party_view`, which decides per viewer. :func:`community_figures` gives the
success rate and time-to-agreement per community (no personal data) for the
assessment (SPEC §8)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core.errors import NotFound
from linli.core.masking import mask_phone
from linli.mediation.models import (
    ACTIVE_STATUSES,
    Agreement,
    Case,
    CaseMediator,
    Evidence,
    Mediator,
    Outcome,
    Party,
    Session,
    Status,
)
from linli.mediation.permissions import (
    is_case_mediator,
    manager_community_ids,
    opener_community_ids,
    sees_case,
    sees_case_file,
)
from linli.volunteers.models import VolunteerProfile

# Skills pool categories whose volunteers are offered as mediators first.
MEDIATOR_SKILLS = ("law", "psychology")


def cases_for(
    *,
    viewer: Any,
    status: str = "",
    community_id: int | None = None,
    followup_due: bool = False,
) -> QuerySet[Case]:
    """Every case the viewer may see: managers' communities, cases they mediate or
    opened, and (residents) cases they are a party to."""
    if not getattr(viewer, "is_authenticated", False):
        return Case.objects.none()
    scope = scope_of(viewer)
    q = Q(community_id__in=manager_community_ids(viewer))
    q |= Q(pk__in=CaseMediator.objects.filter(user_id=viewer.pk).values("case_id"))
    openers = opener_community_ids(viewer)
    if openers:
        q |= Q(opened_by_id=viewer.pk, community_id__in=openers)
    if scope.resident_id is not None:
        q |= Q(
            pk__in=Party.objects.filter(
                community_id=scope.community_id or 0, resident_id=scope.resident_id
            ).values("case_id")
        )
    qs = Case.objects.filter(q)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if followup_due:
        from django.utils import timezone

        qs = qs.filter(status=Status.CLOSED, followup_due__lte=timezone.localdate())
    return qs.select_related("community", "building").order_by("-opened_at", "-id")


def case_get_for(*, viewer: Any, pk: int) -> Case:
    case = Case.objects.select_related("community", "building").filter(pk=pk).first()
    if (
        case is None
        or not getattr(viewer, "is_authenticated", False)
        or not sees_case(viewer, case)
    ):
        raise NotFound()
    return case


@dataclass
class PartyView:
    pk: int
    role: str
    role_label: str
    name: str
    phone: str
    address: str
    is_resident: bool
    is_me: bool


def party_view(p: Party, *, viewer: Any, case: Case) -> PartyView:
    """How ``viewer`` sees a party. The party themself: everything. The case's
    mediators: name, full phone (they arrange the sessions) and address. Other staff
    who may open the file: name, masked phone. The other party: the name and address
    (both are written on the agreement they sign), no phone."""
    me = p.resident_id is not None and scope_of(viewer).resident_id == p.resident_id
    name, phone, address = p.real_name, p.real_phone, p.real_address
    if me or is_case_mediator(viewer, case):
        shown_phone = phone
    elif sees_case_file(viewer, case):
        shown_phone = mask_phone(phone)
    else:
        shown_phone = ""
    return PartyView(
        pk=p.pk,
        role=p.role,
        role_label=str(p.get_role_display()),
        name=name,
        phone=shown_phone,
        address=address,
        is_resident=p.resident_id is not None,
        is_me=me,
    )


@dataclass
class MediatorView:
    pk: int
    name: str
    lead: bool
    source: str


@dataclass
class CaseFile:
    """What one viewer may see of a case. Session notes and evidence only for the
    staff side (``staff``); parties see the sessions' dates and places."""

    case: Case
    staff: bool
    parties: list[PartyView]
    mediators: list[MediatorView]
    sessions: list[Session]
    evidence: list[Evidence]
    agreement: Agreement | None
    mediator_ids: set[int] = field(default_factory=set)


def case_file(*, viewer: Any, case: Case) -> CaseFile:
    staff = bool(sees_case_file(viewer, case))
    parties = [
        party_view(p, viewer=viewer, case=case)
        for p in Party.objects.filter(community_id=case.community_id, case_id=case.pk)
        .select_related("resident__household__building")
        .order_by("role", "id")
    ]
    cms = list(
        CaseMediator.objects.filter(community_id=case.community_id, case_id=case.pk)
        .select_related("mediator")
        .order_by("-lead", "id")
    )
    mediators = [
        MediatorView(cm.mediator_id, cm.mediator.name, cm.lead, cm.mediator.source) for cm in cms
    ]
    sessions = list(
        Session.objects.filter(community_id=case.community_id, case_id=case.pk).order_by(
            "held_at", "id"
        )
    )
    if not staff:
        for s in sessions:
            s.notes = ""  # the 调解笔录 stays with the mediators
            s.attendees = ""
    evidence = (
        list(Evidence.objects.filter(community_id=case.community_id, case_id=case.pk))
        if staff
        else []
    )
    agreement = Agreement.objects.filter(community_id=case.community_id, case_id=case.pk).first()
    return CaseFile(
        case=case,
        staff=staff,
        parties=parties,
        mediators=mediators,
        sessions=sessions,
        evidence=evidence,
        agreement=agreement,
        mediator_ids={m.pk for m in mediators},
    )


def evidence_get_for(*, viewer: Any, case: Case, pk: int) -> Evidence:
    if not sees_case_file(viewer, case):
        raise NotFound()
    ev = Evidence.objects.filter(community_id=case.community_id, case_id=case.pk, pk=pk).first()
    if ev is None:
        raise NotFound()
    return ev


# --------------------------------------------------------------------------- roster


def roster_resident(*, community_id: int, phone: str) -> Resident | None:
    """The community's active resident with this mobile number (how staff name a
    party on the phone form). Only the caller's own form uses the answer."""
    return (
        Resident.objects.filter(community_id=community_id, phone=phone, is_active=True)
        .only("pk", "name")
        .first()
    )


def roster_for(*, viewer: Any, community_id: int, active_only: bool = False) -> QuerySet[Mediator]:
    """The community's mediators, for its managers and for whoever may open cases there."""
    if community_id not in opener_community_ids(viewer):
        raise NotFound()
    qs = Mediator.objects.filter(community_id=community_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("-is_active", "source", "name", "id")


def volunteer_candidates(*, viewer: Any, community_id: int) -> list[VolunteerProfile]:
    """Volunteers of the skills pool who could join the roster: law and psychology
    skills first, only those with a login and not yet on it."""
    if community_id not in manager_community_ids(viewer):
        raise NotFound()
    taken = Mediator.objects.filter(community_id=community_id).values("user_id")
    qs = (
        VolunteerProfile.objects.filter(
            community_id=community_id,
            is_active=True,
            resident__user__isnull=False,
            skills__category__in=MEDIATOR_SKILLS,
        )
        .exclude(resident__user_id__in=taken)
        .select_related("resident__household__building")
        .prefetch_related("skills")
        .distinct()
        .order_by("resident__household__building__name", "id")
    )
    return list(qs[:100])


def staff_candidates(*, viewer: Any, community: Any) -> list[Any]:
    """Staff holding a role in the community (or its street) not yet on the roster."""
    from linli.accounts.models import Membership, Role, User

    if community.pk not in manager_community_ids(viewer):
        raise NotFound()
    taken = Mediator.objects.filter(community_id=community.pk).values("user_id")
    ids = (
        Membership.objects.active()
        .filter(Q(unit__path__startswith=community.path) | Q(unit_id=community.parent_id))
        .exclude(role__in=[Role.RESIDENT])
        .exclude(user_id__in=taken)
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=ids).order_by("username")[:100])


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figures:
    """Mediation figures of one community over a period (cases opened in it).

    ``success_rate`` = cases closed with an agreement ÷ cases closed after mediation
    (agreement, no agreement, referred); withdrawn cases are left out of both, as no
    mediation result was reached. ``days_to_agreement`` is from opening to the day the
    agreement took effect."""

    community_id: int
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


def community_figures(
    community_ids: list[int] | set[int],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    today: date | None = None,
) -> dict[int, Figures]:
    """Figures per community for cases opened in [start, end). No viewer: the caller
    (the assessment, or :func:`figures_for`) decides who may see them; the figures
    hold no personal data."""
    from django.utils import timezone

    today = today or timezone.localdate()
    qs = Case.objects.filter(community_id__in=list(community_ids))
    if start is not None:
        qs = qs.filter(opened_at__gte=start)
    if end is not None:
        qs = qs.filter(opened_at__lt=end)
    rows = qs.values_list(
        "community_id", "status", "outcome", "opened_at", "agreement_effective_on", "followup_due"
    )
    acc: dict[int, dict[str, Any]] = {
        cid: {"opened": 0, "active": 0, "o": {}, "days": [], "overdue": 0} for cid in community_ids
    }
    for cid, status, outcome, opened_at, effective, fdue in rows:
        a = acc[cid]
        a["opened"] += 1
        if status in ACTIVE_STATUSES:
            a["active"] += 1
        if outcome:
            a["o"][outcome] = a["o"].get(outcome, 0) + 1
        if outcome == Outcome.AGREEMENT and effective is not None:
            a["days"].append((effective - timezone.localtime(opened_at).date()).days)
        if status == Status.CLOSED and fdue is not None and fdue < today:
            a["overdue"] += 1
    out = {}
    for cid, a in acc.items():
        o = a["o"]
        agreed = o.get(Outcome.AGREEMENT, 0)
        failed = o.get(Outcome.NO_AGREEMENT, 0)
        referred = o.get(Outcome.REFERRED, 0)
        decided = agreed + failed + referred
        days = a["days"]
        out[cid] = Figures(
            community_id=cid,
            opened=a["opened"],
            active=a["active"],
            agreed=agreed,
            failed=failed,
            referred=referred,
            withdrawn=o.get(Outcome.WITHDRAWN, 0),
            success_rate=round(agreed / decided, 4) if decided else None,
            median_days_to_agreement=float(statistics.median(days)) if days else None,
            mean_days_to_agreement=round(statistics.fmean(days), 1) if days else None,
            followups_overdue=a["overdue"],
        )
    return out


def figures_for(
    *,
    viewer: Any,
    community_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[Any, Figures]]:
    """(community, figures) for the communities the viewer manages (or one of them)."""
    from linli.communities.models import OrgUnit

    ids = manager_community_ids(viewer)
    if community_id is not None:
        if community_id not in ids:
            raise NotFound()
        ids = {community_id}
    figs = community_figures(ids, start=start, end=end)
    units = OrgUnit.objects.filter(pk__in=ids).order_by("path")
    return [(u, figs[u.pk]) for u in units]
