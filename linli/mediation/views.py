"""Mediation pages (phone first, no JavaScript needed): the case list, opening a case
(also from a 邻里纠纷 request), the case page with one form per action, the agreement
form and its printable page, the mediator roster and the figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited
from linli.core.web import date_or_none, datetime_or_none, int_or_none, run_service
from linli.mediation import selectors, services
from linli.mediation.models import Channel, Kind, Level, Mediator, Outcome, Party, Referral
from linli.mediation.permissions import (
    can_add_evidence,
    can_assign_mediators,
    can_manage_roster,
    can_write_agreement,
    manager_community_ids,
    opener_community_ids,
    runs_case,
)
from linli.mediation.services import AGREEMENT_PARTS, PartyIn
from linli.mediation.states import CASE, ESCALATE_FROM, LEVEL


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _communities(ids: set[int]) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(pk__in=ids, kind="community").order_by("path"))


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    due = request.GET.get("due") == "1"
    cases = selectors.cases_for(viewer=request.user, status=status, followup_due=due)
    openers = opener_community_ids(request.user)
    return render(
        request,
        "mediation/case_list.html",
        {
            "cases": list(cases[:200]),
            "status": status,
            "due": due,
            "statuses": [("active", _("进行中")), *_status_choices()],
            "can_open": bool(openers),
            "is_manager": bool(manager_community_ids(request.user)),
            "staff_view": bool(openers),
            "today": timezone.localdate(),
        },
    )


def _status_choices() -> list[tuple[str, str]]:
    from linli.mediation.models import Status

    return [(str(value), str(label)) for value, label in Status.choices]


def _party_from_post(post: Any, prefix: str, role: str, community_id: int) -> PartyIn | None:
    """A party typed on the form: a roster resident if the phone matches one in the
    community, else someone from outside. Empty rows are skipped."""
    name = (post.get(f"{prefix}_name") or "").strip()
    phone = (post.get(f"{prefix}_phone") or "").strip()
    address = (post.get(f"{prefix}_address") or "").strip()
    if not (name or phone):
        return None
    if phone:
        resident = selectors.roster_resident(community_id=community_id, phone=phone)
        if resident is not None and (not name or name == resident.name):
            return PartyIn(role=role, resident_id=resident.pk, address=address)
    return PartyIn(role=role, name=name, phone=phone, address=address)


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    communities = _communities(opener_community_ids(request.user))
    if not communities:
        raise NotFound()
    post: Any = request.POST if request.method == "POST" else {}
    cid = int_or_none(request.POST.get("community") or request.GET.get("community"))
    community = next((c for c in communities if c.pk == cid), communities[0])
    if request.method == "POST":
        parties = [
            p
            for p in (
                _party_from_post(post, "applicant", Party.Role.APPLICANT, community.pk),
                _party_from_post(post, "respondent", Party.Role.RESPONDENT, community.pk),
            )
            if p is not None
        ]
        building = Building.objects.filter(
            pk=int_or_none(post.get("building")) or 0, community_id=community.pk
        ).first()
        mediator = int_or_none(post.get("mediator"))
        try:
            case = services.case_open(
                actor=request.user,
                community=community,
                kind=post.get("kind", ""),
                title=post.get("title", ""),
                facts=post.get("facts", ""),
                channel=post.get("channel", ""),
                parties=parties,
                building=building,
                level=post.get("level", ""),
                mediator_ids=[mediator] if mediator else [],
                idempotency_key=idempotency.from_request(request),
            )
        except RateLimited:
            raise
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已受理调解案件 %(no)s。") % {"no": case.number})
            return redirect("mediation:case_detail", pk=case.pk)
    return render(
        request,
        "mediation/case_new.html",
        {
            "communities": communities,
            "community": community,
            "post": post,
            "kinds": Kind.choices,
            "channels": Channel.choices,
            "levels": Level.choices,
            "buildings": Building.objects.filter(community_id=community.pk).order_by("name"),
            "mediators": selectors.roster_for(
                viewer=request.user, community_id=community.pk, active_only=True
            ),
            "idem": idempotency.new_key(),
        },
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    f = selectors.case_file(viewer=request.user, case=case)
    u = request.user
    escalate = ESCALATE_FROM.get(case.level)
    ctx: dict[str, Any] = {
        "c": case,
        "f": f,
        "can": CASE.flags(u, case),
        "runs": runs_case(u, case),
        "can_assign": can_assign_mediators(u, case),
        "can_evidence": can_add_evidence(u, case),
        "can_agreement": can_write_agreement(u, case),
        "escalate": escalate if escalate and LEVEL.can(u, case, escalate) else None,
        "escalate_label": LEVEL[escalate].label if escalate else "",
        "outcomes": Outcome.choices,
        "referrals": Referral.choices,
        "roles": Party.Role.choices,
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "idem": idempotency.new_key(),
        "today": timezone.localdate(),
    }
    if ctx["can_assign"]:
        ctx["roster"] = [
            m
            for m in selectors.roster_for(
                viewer=u, community_id=case.community_id, active_only=True
            )
            if m.pk not in f.mediator_ids
        ]
    return render(request, "mediation/case_detail.html", ctx)


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    u, p = request.user, request.POST
    calls: dict[str, tuple[Callable[[], Any], str]] = {
        "session": (
            lambda: services.session_record(
                actor=u,
                case=case,
                held_at=_aware(datetime_or_none(p.get("held_at"))) or timezone.now(),
                location=p.get("location", ""),
                attendees=p.get("attendees", ""),
                notes=p.get("notes", ""),
                idempotency_key=idempotency.from_request(request),
            ),
            _("调解记录已保存。"),
        ),
        "party": (
            lambda: services.party_add(
                actor=u,
                case=case,
                party=_party_from_post(p, "party", p.get("role", ""), case.community_id)
                or PartyIn(role=p.get("role", "")),
                idempotency_key=idempotency.from_request(request),
            ),
            _("当事人已登记。"),
        ),
        "assign": (
            lambda: services.mediator_assign(
                actor=u,
                case=case,
                mediator=_mediator(case, p.get("mediator")),
                lead=p.get("lead") == "1",
            ),
            _("调解员已指派。"),
        ),
        "evidence": (
            lambda: services.evidence_add(
                actor=u,
                case=case,
                upload=request.FILES.get("file") or _no_file(),
                description=p.get("description", ""),
                idempotency_key=idempotency.from_request(request),
            ),
            _("证据材料已上传。"),
        ),
        "escalate": (
            lambda: services.case_escalate(actor=u, case=case, reason=p.get("reason", "")),
            _("已提级调解。"),
        ),
        "close": (
            lambda: services.case_close(
                actor=u,
                case=case,
                outcome=p.get("outcome", ""),
                note=p.get("note", ""),
                referral=p.get("referral", ""),
                referral_note=p.get("referral_note", ""),
            ),
            _("已结案。"),
        ),
        "follow_up": (
            lambda: services.case_follow_up(
                actor=u,
                case=case,
                note=p.get("note", ""),
                performed={"1": True, "0": False}.get(p.get("performed", "")),
            ),
            _("回访已记录。"),
        ),
    }
    if action not in calls:
        raise NotFound()
    fn, ok = calls[action]
    run_service(request, fn, ok)
    return redirect("mediation:case_detail", pk=case.pk)


def _mediator(case: Any, raw: Any) -> Mediator:
    from linli.core.errors import ValidationFailed

    m = Mediator.objects.filter(pk=int_or_none(raw) or 0, community_id=case.community_id).first()
    if m is None:
        raise ValidationFailed(_("请选择调解员。"), field="mediator")
    return m


def _no_file() -> Any:
    from linli.core.errors import ValidationFailed

    raise ValidationFailed(_("请选择要上传的文件。"), field="file")


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    f = selectors.case_file(viewer=request.user, case=case)
    if not f.staff:
        return redirect("mediation:agreement_print", pk=pk)
    a = f.agreement
    values: dict[str, Any] = {
        "facts": a.facts if a else case.facts,
        "disputed_matters": a.disputed_matters if a else "",
        "responsibilities": a.responsibilities if a else "",
        "terms": a.terms if a else "",
        "performance_method": a.performance_method if a else "",
        "performance_deadline": a.performance_deadline.isoformat() if a else "",
    }
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        ok = run_service(
            request,
            lambda: services.agreement_save(
                actor=request.user,
                case=case,
                facts=values["facts"],
                disputed_matters=values["disputed_matters"],
                responsibilities=values["responsibilities"],
                terms=values["terms"],
                performance_method=values["performance_method"],
                performance_deadline=date_or_none(values["performance_deadline"]),
            ),
            _("调解协议书已保存。请打印后由各方签名、调解员签名并盖章，再登记生效。"),
        )
        if ok:
            return redirect("mediation:case_detail", pk=pk)
    parts = [(k, label, values[k]) for k, label in AGREEMENT_PARTS]
    return render(
        request,
        "mediation/agreement_form.html",
        {
            "c": case,
            "f": f,
            "parts": parts,
            "can_write": can_write_agreement(request.user, case) and not (a and a.in_force),
            "today": timezone.localdate().isoformat(),
        },
    )


@login_required
@require_POST
def agreement_sign(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    p = request.POST
    run_service(
        request,
        lambda: services.agreement_sign(
            actor=request.user,
            case=case,
            signed_on=date_or_none(p.get("signed_on")),
            parties_signed=p.get("parties_signed") == "1",
            mediator_signed=p.get("mediator_signed") == "1",
            sealed=p.get("sealed") == "1",
        ),
        _("调解协议书已生效。已提醒当事人可在 30 日内共同申请司法确认。"),
    )
    return redirect("mediation:case_detail", pk=pk)


@login_required
def agreement_print(request: HttpRequest, pk: int) -> HttpResponse:
    """人民调解协议书 as an A4 page (the browser prints it); parties see it too."""
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    f = selectors.case_file(viewer=request.user, case=case)
    if f.agreement is None:
        raise NotFound()
    parts = [(label, getattr(f.agreement, k)) for k, label in AGREEMENT_PARTS]
    return render(
        request,
        "mediation/agreement_print.html",
        {"c": case, "f": f, "a": f.agreement, "parts": parts},
    )


@login_required
def agreement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same agreement as an A4 PDF (WeasyPrint), for filing or sending to court."""
    from weasyprint import HTML

    case = selectors.case_get_for(viewer=request.user, pk=pk)
    f = selectors.case_file(viewer=request.user, case=case)
    if f.agreement is None:
        raise NotFound()
    parts = [(label, getattr(f.agreement, k)) for k, label in AGREEMENT_PARTS]
    html = render(
        request,
        "mediation/agreement_print.html",
        {"c": case, "f": f, "a": f.agreement, "parts": parts, "pdf": True},
    ).content.decode()
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="agreement-{case.pk}.pdf"'
    return resp


@login_required
def evidence_download(request: HttpRequest, pk: int, eid: int) -> HttpResponseBase:
    case = selectors.case_get_for(viewer=request.user, pk=pk)
    ev = selectors.evidence_get_for(viewer=request.user, case=case, pk=eid)
    resp = FileResponse(ev.file.open("rb"), content_type=ev.content_type)
    resp["Content-Disposition"] = "inline"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


@login_required
def from_request(request: HttpRequest, rid: int) -> HttpResponse:
    """转为调解案件: GET shows what will be copied, POST opens the case."""
    from linli.requests.selectors import request_get_for

    req = request_get_for(viewer=request.user, pk=rid)
    existing = services.case_for_request(req)
    if (
        existing is not None
        and selectors.cases_for(viewer=request.user).filter(pk=existing.pk).exists()
    ):
        return redirect("mediation:case_detail", pk=existing.pk)
    if request.method == "POST":
        mediator = int_or_none(request.POST.get("mediator"))
        try:
            case = services.case_from_request(
                actor=request.user,
                request=req,
                kind=request.POST.get("kind", ""),
                mediator_ids=[mediator] if mediator else [],
                idempotency_key=idempotency.from_request(request),
            )
        except RateLimited:
            raise
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已转为调解案件 %(no)s。") % {"no": case.number})
            return redirect("mediation:case_detail", pk=case.pk)
    if req.community_id not in opener_community_ids(request.user):
        raise NotFound()
    return render(
        request,
        "mediation/from_request.html",
        {
            "r": req,
            "is_dispute": services.is_dispute_request(req),
            "kinds": Kind.choices,
            "kind": services.cases.REQUEST_KINDS.get(req.category.code, Kind.OTHER),
            "mediators": selectors.roster_for(
                viewer=request.user, community_id=req.community_id, active_only=True
            ),
            "idem": idempotency.new_key(),
        },
    )


@login_required
def roster(request: HttpRequest) -> HttpResponse:
    communities = _communities(opener_community_ids(request.user))
    if not communities:
        raise NotFound()
    cid = int_or_none(request.POST.get("community") or request.GET.get("community"))
    community = next((c for c in communities if c.pk == cid), communities[0])
    manage = can_manage_roster(request.user, community)
    if request.method == "POST" and manage:
        from linli.accounts.models import User
        from linli.volunteers.models import VolunteerProfile

        p = request.POST
        if p.get("op") == "active":
            m = Mediator.objects.filter(
                pk=int_or_none(p.get("mediator")) or 0, community_id=community.pk
            ).first()
            if m is None:
                raise NotFound()
            run_service(
                request,
                lambda: services.mediator_set_active(
                    actor=request.user, mediator=m, active=p.get("active") == "1"
                ),
                _("名册已更新。"),
            )
        else:
            vol = (
                VolunteerProfile.objects.filter(
                    pk=int_or_none(p.get("volunteer")) or 0, community_id=community.pk
                )
                .select_related("resident")
                .first()
            )
            user = User.objects.filter(pk=int_or_none(p.get("user")) or 0).first()
            run_service(
                request,
                lambda: services.mediator_add(
                    actor=request.user,
                    community=community,
                    user=user if vol is None else None,
                    volunteer=vol,
                    speciality=p.get("speciality", ""),
                ),
                _("已加入调解员名册。"),
            )
        return redirect(f"{request.path}?community={community.pk}")
    ctx: dict[str, Any] = {
        "communities": communities,
        "community": community,
        "mediators": selectors.roster_for(viewer=request.user, community_id=community.pk),
        "manage": manage,
    }
    if manage:
        ctx["volunteers"] = selectors.volunteer_candidates(
            viewer=request.user, community_id=community.pk
        )
        ctx["staff"] = selectors.staff_candidates(viewer=request.user, community=community)
    return render(request, "mediation/roster.html", ctx)


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    rows = selectors.figures_for(viewer=request.user)
    if not rows:
        raise NotFound()
    return render(request, "mediation/stats.html", {"rows": rows})
