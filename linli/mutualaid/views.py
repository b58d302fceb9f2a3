"""邻里互助 pages: a resident's needs, offers and the matches they are asked to help in
(phone, no JavaScript); a need's ranked suggestions with their reasons; staff's
unmatched queue (by age, with time-to-match) and 代办; partners for staff and partner
members; the public 社区合伙人 list (no login, no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.display import display_name, phone_for
from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited
from linli.core.web import date_or_none, datetime_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.mutualaid import matching, selectors, services
from linli.mutualaid.categories import NeedCategory
from linli.mutualaid.models import (
    Channel,
    Match,
    MatchKind,
    MatchStatus,
    OfferingKind,
    PartnerStatus,
    SettleIn,
)
from linli.mutualaid.permissions import (
    aid_staff_community_ids,
    can_edit_partner,
    partner_staff_community_ids,
)
from linli.mutualaid.states import CONTRIBUTION, MATCH, NEED
from linli.volunteers.models import Slot

ACCEPTS = ("accept_need", "agree_need", "accept_helper", "agree_helper")


def _aware(raw: Any) -> datetime | None:
    """A ``datetime-local`` input (Beijing wall-clock time) as an aware datetime."""
    value = datetime_or_none(raw)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _match_view(viewer: Any, m: Match) -> dict[str, Any]:
    """A match as a page shows it: the helper through the privacy display helper,
    the stored reasons in the viewer's language, and the buttons the machine allows."""
    actions = MATCH.available(viewer, m)
    # Once both sides agreed, each sees how to reach the other (as their privacy
    # settings allow).
    contact = ""
    if m.status == MatchStatus.AGREED:
        rid = scope_of(viewer).resident_id
        other = None
        if rid is not None and rid == m.helper_id:
            other = m.need.requester
        elif rid is not None and rid == m.need.requester_id:
            other = m.helper
        if other is not None:
            contact = " ".join(
                x
                for x in (display_name(other, viewer=viewer), phone_for(other, viewer=viewer))
                if x
            )
    return {
        "contact": contact,
        "m": m,
        "helper": display_name(m.helper, viewer=viewer) if m.helper_id else m.title,
        "reasons": [matching.reason_text(r) for r in m.reasons],
        "can_accept": any(a in actions for a in ACCEPTS),
        "can_decline": "decline" in actions,
        "can_cancel": "cancel" in actions,
        "can_settle": "settle" in actions,
    }


# --------------------------------------------------------------------------- resident


@login_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    helping = [_match_view(viewer, m) for m in selectors.matches_for_helper(viewer=viewer)[:30]]
    return render(
        request,
        "mutualaid/home.html",
        {
            "needs": selectors.my_needs(viewer=viewer)[:30],
            "offers": selectors.my_offers(viewer=viewer)[:30],
            "helping": helping,
            "is_resident": scope_of(viewer).resident_id is not None,
            "is_staff": bool(aid_staff_community_ids(viewer)),
        },
    )


def _resident_for(request: HttpRequest) -> tuple[Resident | None, str]:
    """The resident a form acts for: oneself, or (staff 代办) the resident with the
    given phone in the staff member's communities."""
    phone = (request.POST.get("resident_phone") or "").strip()
    if phone and aid_staff_community_ids(request.user):
        r = (
            Resident.objects.select_related("household")
            .filter(community_id__in=aid_staff_community_ids(request.user), phone=phone)
            .first()
        )
        return r, (_("本社区没有登记此手机号的居民。") if r is None else "")
    rid = scope_of(request.user).resident_id
    if rid is None:
        return None, _("请填写居民手机号（代办）。")
    return Resident.objects.select_related("household").get(pk=rid), ""


@login_required
def need_new(request: HttpRequest) -> HttpResponse:
    staff = bool(aid_staff_community_ids(request.user))
    if scope_of(request.user).resident_id is None and not staff:
        raise NotFound()
    error = ""
    if request.method == "POST":
        resident, error = _resident_for(request)
        if resident is not None:
            try:
                need = services.need_post(
                    actor=request.user,
                    resident=resident,
                    category=request.POST.get("category", ""),
                    title=request.POST.get("title", ""),
                    detail=request.POST.get("detail", ""),
                    wanted_from=_aware(request.POST.get("wanted_from")),
                    wanted_until=_aware(request.POST.get("wanted_until")),
                    minutes=request.POST.get("minutes") or 60,
                    settle_in=request.POST.get("settle_in", SettleIn.MINUTES),
                    channel=request.POST.get("channel", Channel.SELF),
                    idempotency_key=idempotency.from_request(request),
                )
            except RateLimited:
                raise
            except DomainError as exc:
                error = str(exc.message)
            else:
                messages.success(request, _("需求已发布，下面是为您推荐的帮手。"))
                return redirect("mutualaid:need_detail", pk=need.pk)
    return render(
        request,
        "mutualaid/need_new.html",
        {
            "categories": NeedCategory.choices,
            "settle_choices": SettleIn.choices,
            "channels": [c for c in Channel.choices if c[0] != Channel.SELF],
            "staff": staff,
            "error": error,
            "data": request.POST,
        },
    )


@login_required
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = request.user
    need = selectors.need_get_for(viewer=viewer, pk=pk)
    suggestions = selectors.suggestions_for(viewer=viewer, need=need)
    rows = []
    for s in suggestions:
        rows.append(
            {
                "s": s,
                "kind_label": MatchKind(s.candidate.kind).label,
                "reasons": [matching.reason_text(r) for r in s.reasons],
            }
        )
    return render(
        request,
        "mutualaid/need_detail.html",
        {
            "need": need,
            "requester": display_name(need.requester, viewer=viewer),
            "suggestions": rows,
            "matches": [
                _match_view(viewer, m) for m in selectors.matches_of_need(viewer=viewer, need=need)
            ],
            "can_cancel": NEED.can(viewer, need, "cancel"),
            "is_requester": scope_of(viewer).resident_id == need.requester_id,
        },
    )


@login_required
@require_POST
def need_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.need_cancel(actor=request.user, need=need),
        _("需求已取消。"),
    )
    return redirect("mutualaid:need_detail", pk=pk)


@login_required
@require_POST
def match_propose(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_get_for(viewer=request.user, pk=pk)
    # The requester choosing a suggestion accepts it on their side; staff propose and
    # leave both sides to accept.
    accept = scope_of(request.user).resident_id == need.requester_id
    _attempt(
        request,
        lambda: services.match_propose(
            actor=request.user,
            need=need,
            kind=request.POST.get("kind", ""),
            candidate_id=_int(request.POST.get("candidate")) or 0,
            accept=accept,
        ),
        _("已发出邀请，等待对方接受。") if accept else _("已推荐给双方，等待双方接受。"),
    )
    return redirect("mutualaid:need_detail", pk=pk)


@login_required
@require_POST
def match_act(request: HttpRequest, pk: int) -> HttpResponse:
    m = selectors.match_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    user = request.user
    if action == "accept":
        _attempt(request, lambda: services.match_accept(actor=user, match=m), _("已接受。"))
    elif action == "decline":
        _attempt(request, lambda: services.match_decline(actor=user, match=m), _("已婉拒。"))
    elif action == "cancel":
        _attempt(
            request,
            lambda: services.match_cancel(
                actor=user, match=m, reason=request.POST.get("reason", "")
            ),
            _("匹配已取消，需求重新等待匹配。"),
        )
    elif action == "settle":
        _attempt(
            request,
            lambda: services.match_settle(
                actor=user,
                match=m,
                rating=request.POST.get("rating"),
                minutes=request.POST.get("minutes"),
                points=request.POST.get("points"),
            ),
            _("已确认完成并结算，谢谢！"),
        )
    else:
        raise NotFound()
    nxt = request.POST.get("next") or ""
    if nxt == "home":
        return redirect("mutualaid:home")
    return redirect("mutualaid:need_detail", pk=m.need_id)


@login_required
def offer_new(request: HttpRequest) -> HttpResponse:
    if scope_of(request.user).resident_id is None and not aid_staff_community_ids(request.user):
        raise NotFound()
    error = ""
    if request.method == "POST":
        resident, error = _resident_for(request)
        if resident is not None:
            try:
                services.offer_post(
                    actor=request.user,
                    resident=resident,
                    category=request.POST.get("category", ""),
                    title=request.POST.get("title", ""),
                    detail=request.POST.get("detail", ""),
                    slots=request.POST.getlist("slots"),
                    channel=request.POST.get("channel", Channel.SELF),
                    idempotency_key=idempotency.from_request(request),
                )
            except RateLimited:
                raise
            except DomainError as exc:
                error = str(exc.message)
            else:
                messages.success(request, _("谢谢！有邻居需要时会通知您。"))
                return redirect("mutualaid:home")
    return render(
        request,
        "mutualaid/offer_new.html",
        {
            "categories": NeedCategory.choices,
            "slots": Slot.choices,
            "channels": [c for c in Channel.choices if c[0] != Channel.SELF],
            "staff": bool(aid_staff_community_ids(request.user)),
            "error": error,
            "data": request.POST,
        },
    )


@login_required
@require_POST
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    offer = selectors.my_offers(viewer=request.user).filter(pk=pk).first()
    if offer is None:
        raise NotFound()
    _attempt(
        request,
        lambda: services.offer_withdraw(actor=request.user, offer=offer),
        _("已撤回。"),
    )
    return redirect("mutualaid:home")


# --------------------------------------------------------------------------- staff


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not aid_staff_community_ids(request.user):
        raise NotFound()
    waiting = selectors.unmatched_for(viewer=request.user)
    names = dict(
        OrgUnit.objects.filter(pk__in=aid_staff_community_ids(request.user)).values_list(
            "pk", "name"
        )
    )
    ttm = [
        (names.get(t.community_id, t.community_id), t)
        for t in selectors.time_to_match(viewer=request.user)
    ]
    return render(
        request,
        "mutualaid/queue.html",
        {
            "waiting": [(w, display_name(w.need.requester, viewer=request.user)) for w in waiting],
            "ttm": ttm,
        },
    )


# --------------------------------------------------------------------------- partners


def public_partners(request: HttpRequest) -> HttpResponse:
    """Anyone: partners that chose to be shown, their offerings and confirmed
    contributions in totals (no person, no resident's text)."""
    return render(
        request,
        "mutualaid/public_partners.html",
        {"partners": selectors.public_partners(community_id=_int(request.GET.get("community")))},
    )


@login_required
def partners(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    rows = list(selectors.partners_for(viewer=viewer))
    if not rows and not partner_staff_community_ids(viewer):
        raise NotFound()
    staff_ids = partner_staff_community_ids(viewer)
    if request.method == "POST":
        community = OrgUnit.objects.filter(
            pk=_int(request.POST.get("community")) or 0, pk__in=staff_ids
        ).first()
        org = Organisation.objects.filter(pk=_int(request.POST.get("organisation")) or 0).first()
        if community is None or org is None:
            messages.error(request, _("请选择社区和单位。"))
        elif _attempt(
            request,
            lambda: services.partner_save(
                actor=viewer,
                community=community,
                organisation=org,
                intro=request.POST.get("intro", ""),
                address=request.POST.get("address", ""),
            ),
            _("已添加社区合伙人。"),
        ):
            return redirect("mutualaid:partners")
    pending = [
        (c, CONTRIBUTION.can(viewer, c, "confirm"))
        for c in selectors.pending_contributions(viewer=viewer)[:50]
    ]
    orgs = Organisation.objects.filter(
        kind__in=[Organisation.Kind.ENTERPRISE, Organisation.Kind.SOCIAL_ORG]
    ).order_by("name")[:200]
    return render(
        request,
        "mutualaid/partners.html",
        {
            "partners": rows,
            "pending": pending,
            "orgs": orgs if staff_ids else [],
            "communities": OrgUnit.objects.filter(pk__in=staff_ids).order_by("name"),
        },
    )


@login_required
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = request.user
    p = selectors.partner_get_for(viewer=viewer, pk=pk)
    editable = can_edit_partner(viewer, p)
    if request.method == "POST" and editable:
        what = request.POST.get("what")
        ok = False
        if what == "profile":
            ok = _attempt(
                request,
                lambda: services.partner_save(
                    actor=viewer,
                    community=p.community,
                    organisation=p.organisation,
                    intro=request.POST.get("intro", ""),
                    address=request.POST.get("address", ""),
                    building=p.building,
                    public=request.POST.get("public") == "1",
                    status=request.POST.get("status", p.status),
                ),
                _("已保存。"),
            )
        elif what == "offering":
            ok = _attempt(
                request,
                lambda: services.offering_save(
                    actor=viewer,
                    partner=p,
                    kind=request.POST.get("kind", ""),
                    category=request.POST.get("category", ""),
                    title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""),
                ),
                _("已添加服务。"),
            )
        elif what == "contribution":
            served = date_or_none(request.POST.get("served_on")) or timezone.localdate()
            ok = _attempt(
                request,
                lambda: services.contribution_report(
                    actor=viewer,
                    partner=p,
                    title=request.POST.get("title", ""),
                    served_on=served,
                    people_served=request.POST.get("people_served") or 1,
                    points=request.POST.get("points") or 10,
                    idempotency_key=idempotency.from_request(request),
                ),
                _("已提交，等待社区确认。"),
            )
        if ok:
            return redirect("mutualaid:partner_detail", pk=pk)
    contributions = [
        (c, CONTRIBUTION.available(viewer, c))
        for c in selectors.contributions_of(viewer=viewer, partner=p)
    ]
    return render(
        request,
        "mutualaid/partner_detail.html",
        {
            "p": p,
            "editable": editable,
            "offerings": p.offerings.all(),
            "contributions": contributions,
            "balance": selectors.partner_balance(p),
            "kinds": OfferingKind.choices,
            "categories": NeedCategory.choices,
            "statuses": PartnerStatus.choices,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def contribution_act(request: HttpRequest, pk: int) -> HttpResponse:
    c = selectors.contribution_get_for(viewer=request.user, pk=pk)
    if request.POST.get("action") == "reject":
        _attempt(
            request,
            lambda: services.contribution_reject(
                actor=request.user, contribution=c, reason=request.POST.get("reason", "")
            ),
            _("已退回。"),
        )
    else:
        _attempt(
            request,
            lambda: services.contribution_confirm(
                actor=request.user, contribution=c, points=request.POST.get("points")
            ),
            _("已确认，积分已记入合伙人账户。"),
        )
    if request.POST.get("next") == "list":
        return redirect("mutualaid:partners")
    return redirect("mutualaid:partner_detail", pk=c.partner_id)
