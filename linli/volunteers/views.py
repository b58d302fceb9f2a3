"""Volunteer pages: activities (phone), my profile and skills, QR check-in; staff:
create activities, the door list with check-in/out, the skills pool."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit
from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.ledger import services as ledger_services
from linli.ledger.models import EarnKind
from linli.ledger.permissions import has_credit_level
from linli.ledger.selectors import my_resident
from linli.volunteers import qr, selectors, services
from linli.volunteers.models import ActivityKind, SignUp, SkillCategory, Slot, VolunteerProfile
from linli.volunteers.permissions import (
    CHECKIN_ROLES,
    ORGANISER_ROLES,
    can_check_in,
)
from linli.volunteers.states import ACTIVITY, SIGNUP, STATUS_ACTIONS


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    staff_ids = scope.community_ids_for(*ORGANISER_ROLES)
    acts = selectors.activities_for(viewer=request.user, upcoming=not request.GET.get("all"))
    mine = {
        s.activity_id: s
        for s in selectors.my_signups(viewer=request.user).exclude(status="cancelled")
    }
    return render(
        request,
        "volunteers/activity_list.html",
        {"activities": acts[:100], "mine": mine, "can_create": bool(staff_ids)},
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.activity_get_for(viewer=request.user, pk=pk)
    ctx: dict[str, Any] = {"a": a, "mine": selectors.my_signup(viewer=request.user, activity=a)}
    mine = ctx["mine"]
    resident_id = scope_of(request.user).resident_id
    if mine is None and resident_id and services.in_priority_window(a):
        # Priority window: say whether this resident may sign up by level, by spending a
        # 优先报名 voucher, or not yet.
        ctx["priority_window"] = True
        ctx["level_ok"] = has_credit_level(a.priority_level)(request.user)
        if not ctx["level_ok"]:
            resident = my_resident(request.user)
            ctx["priority_voucher"] = ledger_services.priority_voucher_available(resident)
    if mine is not None and mine.status == "registered" and a.status in ("open", "closed"):
        # The volunteer's own pass for staff to scan at the door; the signed link is
        # also printed so staff can type it if the camera fails.
        ctx["pass_url"] = _pass_url(request, mine)
    # Buttons come from the state machines, so a button is shown exactly when the
    # service would accept it.
    ctx["can_sign_up"] = mine is None and ACTIVITY.can(request.user, a, "sign_up")
    if mine is not None:
        mine.activity = a
        ctx["can_cancel"] = SIGNUP.can(request.user, mine, "cancel")
    if can_check_in(request.user, a):
        roster = list(selectors.roster_for(viewer=request.user, activity=a))
        for s in roster:
            s.activity = a
        ctx["roster"] = [(s, SIGNUP.flags(request.user, s)) for s in roster]
        ctx["checkin_url"] = _checkin_url(request, a)
        ctx["can_finish"] = ACTIVITY.can(request.user, a, "finish")
    ctx["status_buttons"] = [
        (status, ACTIVITY[action].label)
        for status, action in STATUS_ACTIONS.items()
        if ACTIVITY.can(request.user, a, action)
    ]
    return render(request, "volunteers/activity_detail.html", ctx)


def _checkin_url(request: HttpRequest, a: Any) -> str:
    return request.build_absolute_uri(
        reverse("volunteers:checkin_token", args=[services.checkin_token(a)])
    )


def _pass_url(request: HttpRequest, s: SignUp) -> str:
    token = services.pass_token(s)
    return request.build_absolute_uri(reverse("volunteers:pass_scan", args=[token]))


@login_required
def checkin_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The venue code as an SVG image (door staff only: it lets anyone signed up check
    themself in)."""
    a = selectors.activity_get_for(viewer=request.user, pk=pk)
    if not can_check_in(request.user, a):
        raise NotFound()
    return qr.svg_response(_checkin_url(request, a))


@login_required
def pass_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer's own check-in pass as an SVG image (only its holder sees it)."""
    rid = scope_of(request.user).resident_id
    s = SignUp.objects.filter(pk=pk, resident_id=rid or 0, status="registered").first()
    if s is None:
        raise NotFound()
    return qr.svg_response(_pass_url(request, s))


@login_required
def pass_scan(request: HttpRequest, token: str) -> HttpResponse:
    """Staff scanned a volunteer's pass: GET shows who it is, POST checks them in."""
    s = services.signup_from_pass(viewer=request.user, token=token)
    if request.method == "POST" and _attempt(
        request,
        lambda: services.check_in_by_pass(actor=request.user, token=token),
        _("已签到。"),
    ):
        return redirect("volunteers:activity_detail", pk=s.activity_id)
    return render(request, "volunteers/pass_scan.html", {"s": s, "a": s.activity})


@login_required
@require_POST
def activity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.activity_get_for(viewer=request.user, pk=pk)
    resident = my_resident(request.user)
    try:
        s = services.signup(
            actor=request.user,
            activity=a,
            resident=resident,
            use_voucher=request.POST.get("use_voucher") == "1",
        )
    except RateLimited:
        raise  # the error page answers 429 with Retry-After
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if s.status == "waitlisted":
            messages.info(request, _("名额已满，您已进入候补，有人取消时自动递补。"))
        elif s.priority_voucher_id:
            messages.success(request, _("报名成功！已使用一张优先报名券。"))
        else:
            messages.success(request, _("报名成功！"))
    return redirect("volunteers:activity_detail", pk=a.pk)


@login_required
@require_POST
def signup_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    s = SignUp.objects.select_related("activity").filter(pk=pk).first()
    if s is None:
        raise NotFound()
    _attempt(
        request, lambda: services.signup_cancel(actor=request.user, signup=s), _("已取消报名。")
    )
    return redirect("volunteers:activity_detail", pk=s.activity_id)


@login_required
@require_POST
def signup_check(request: HttpRequest, pk: int) -> HttpResponse:
    s = SignUp.objects.select_related("activity").filter(pk=pk).first()
    if s is None or not can_check_in(request.user, s.activity):
        raise NotFound()
    if request.POST.get("action") == "out":
        _attempt(
            request,
            lambda: services.check_out(actor=request.user, signup=s),
            _("已签退并发放奖励。"),
        )
    else:
        _attempt(request, lambda: services.check_in(actor=request.user, signup=s), _("已签到。"))
    return redirect("volunteers:activity_detail", pk=s.activity_id)


@login_required
@require_POST
def activity_finish(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.activity_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.activity_finish(actor=request.user, activity=a),
        _("活动已结束，签到者的奖励已发放。"),
    )
    return redirect("volunteers:activity_detail", pk=a.pk)


@login_required
@require_POST
def activity_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Close / reopen / cancel an activity (the buttons come from ACTIVITY)."""
    a = selectors.activity_get_for(viewer=request.user, pk=pk)
    wanted = request.POST.get("status", "")
    _attempt(
        request,
        lambda: services.activity_set_status(actor=request.user, activity=a, status=wanted),
        _("活动状态已更新。"),
    )
    return redirect("volunteers:activity_detail", pk=a.pk)


@login_required
def checkin_token(request: HttpRequest, token: str) -> HttpResponse:
    """The code shown at the venue: GET shows a confirm button (no change on GET)."""
    activity = services.activity_from_token(token)
    if request.method == "POST" and _attempt(
        request,
        lambda: services.check_in_by_token(actor=request.user, token=token),
        _("签到成功！"),
    ):
        return redirect("volunteers:activity_detail", pk=activity.pk)
    return render(request, "volunteers/checkin.html", {"a": activity, "token": token})


def _dt(raw: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("时间格式不正确。"), field=field) from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
def activity_new(request: HttpRequest) -> HttpResponse:
    ids = scope_of(request.user).community_ids_for(*ORGANISER_ROLES)
    communities = list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))
    if not communities:
        raise NotFound()
    if request.method == "POST":
        community = next(
            (c for c in communities if c.pk == _int(request.POST.get("community"))), communities[0]
        )
        holder: dict[str, Any] = {}

        def go() -> None:
            holder["a"] = services.activity_create(
                actor=request.user,
                community=community,
                kind=request.POST.get("kind", ""),
                title=request.POST.get("title", ""),
                location=request.POST.get("location", ""),
                starts_at=_dt(request.POST.get("starts_at", ""), "starts_at"),
                ends_at=_dt(request.POST.get("ends_at", ""), "ends_at"),
                capacity=request.POST.get("capacity", ""),
                description=request.POST.get("description", ""),
                earn_kind=request.POST.get("earn_kind", ""),
                priority_level=request.POST.get("priority_level", ""),
                priority_until=_dt(request.POST["priority_until"], "priority_until")
                if request.POST.get("priority_until")
                else None,
            )

        if _attempt(request, go, _("活动已发布。")):
            return redirect("volunteers:activity_detail", pk=holder["a"].pk)
    return render(
        request,
        "volunteers/activity_new.html",
        {
            "communities": communities,
            "kinds": ActivityKind.choices,
            "earn_kinds": [
                (EarnKind.VOLUNTEER_SERVICE, EarnKind.VOLUNTEER_SERVICE.label),
                (EarnKind.TIMEBANK_SERVICE, EarnKind.TIMEBANK_SERVICE.label),
            ],
            "post": request.POST,
        },
    )


@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
    resident = my_resident(request.user)
    profile = VolunteerProfile.objects.filter(resident=resident).prefetch_related("skills").first()
    if request.method == "POST":
        skills = [(c, request.POST.get(f"detail_{c}", "")) for c in request.POST.getlist("skills")]
        if _attempt(
            request,
            lambda: services.profile_save(
                actor=request.user,
                resident=resident,
                intro=request.POST.get("intro", ""),
                skills=skills,
                availability=request.POST.getlist("availability"),
                listed=bool(request.POST.get("listed")),
            ),
            _("志愿者资料已保存。"),
        ):
            return redirect("volunteers:my_profile")
    have = {s.category: s.detail for s in profile.skills.all()} if profile else {}
    return render(
        request,
        "volunteers/profile.html",
        {
            "profile": profile,
            "have": have,
            "categories": SkillCategory.choices,
            "slots": Slot.choices,
            "signups": selectors.my_signups(viewer=request.user)[:20],
        },
    )


@login_required
def skills_pool(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    ids = scope.community_ids_for(*CHECKIN_ROLES)
    if scope.community_id:
        ids.add(scope.community_id)
    if not ids:
        raise NotFound()
    community_id = _int(request.GET.get("community"))
    if community_id not in ids:
        community_id = scope.community_id or sorted(ids)[0]
    category = request.GET.get("skill", "")
    category = category if category in SkillCategory.values else ""
    building_id = _int(request.GET.get("building"))
    pool = selectors.skills_pool(
        viewer=request.user, community_id=community_id, category=category, building_id=building_id
    )
    return render(
        request,
        "volunteers/skills_pool.html",
        {
            "pool": pool[:200],
            "categories": SkillCategory.choices,
            "skill": category,
            "buildings": Building.objects.filter(community_id=community_id).order_by("id"),
            "building_id": building_id,
            "community_id": community_id,
        },
    )
