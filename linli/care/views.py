"""Care pages (phone first, no JavaScript needed): the grid worker's task list with
urgent alerts on top, the roster, a resident's care page, recording a visit in under a
minute, alerts with acknowledge/resolve, devices, major events, settings; residents
report "away until …" for their household."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from linli.accounts.models import Membership, Role, User
from linli.care import rules as care_rules
from linli.care import selectors, services
from linli.care.ladder import RUNG_LABELS
from linli.care.models import (
    CHECKLIST,
    Device,
    DeviceKind,
    FamilyContact,
    MajorEvent,
    Outcome,
    Tier,
    Visit,
    VisitChannel,
)
from linli.care.permissions import (
    MANAGER_ROLES,
    VIEW_ROLES,
    can_manage_roster,
    can_record_visit,
    can_set_away,
    community_ids,
    grid_worker_of,
)
from linli.care.services.alerts import CARE_OUTCOMES, MAINTENANCE_OUTCOMES
from linli.care.services.roster import OVERRIDE_LIMITS, SETTING_FIELDS
from linli.care.states import ALERT
from linli.communities.display import display_name
from linli.communities.models import Household, OrgUnit, Resident
from linli.core.errors import NotFound, ValidationFailed
from linli.core.masking import mask_phone
from linli.core.web import date_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt


def _is_care_staff(user: Any) -> bool:
    return bool(community_ids(user, VIEW_ROLES))


def _community(request: HttpRequest, roles: tuple[str, ...] = MANAGER_ROLES) -> OrgUnit:
    """The community a staff page is about: ``?community=`` among the viewer's own."""
    ids = community_ids(request.user, roles)
    if not ids:
        raise NotFound()
    wanted = _int(request.GET.get("community") or request.POST.get("community"))
    cid = wanted if wanted in ids else min(ids)
    return OrgUnit.objects.get(pk=cid)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff: 我的关爱任务 (urgent alerts first). Residents: 外出报备 for their household."""
    if not _is_care_staff(request.user):
        return render(
            request, "care/resident.html", {"subjects": selectors.my_subjects(request.user)}
        )
    now = timezone.now()
    tasks = selectors.tasks_for(request.user, now=now)
    return render(
        request,
        "care/home.html",
        {
            "tasks": tasks,
            "now": now,
            "ack": {a.pk: ALERT.can(request.user, a, "acknowledge") for a in tasks.alerts},
            "manager": bool(community_ids(request.user, MANAGER_ROLES)),
        },
    )


def _until(request: HttpRequest) -> datetime | None:
    day = date_or_none(request.POST.get("until", ""))
    if day is None:
        if request.POST.get("until"):
            raise ValidationFailed(_("请选择返回日期。"), field="until")
        return None
    # Back on that day: held until the end of it (Beijing time).
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time(0, 0)))


@login_required
@require_POST
def away(request: HttpRequest, pk: int) -> HttpResponse:
    subject = selectors.subject_get_for(request.user, pk)
    clear = request.POST.get("clear") == "1"

    def go() -> None:
        services.away_set(
            actor=request.user,
            subject=subject,
            until=None if clear else _until(request) or _missing_until(),
            reason=request.POST.get("reason", ""),
            channel=request.POST.get("channel", "self") or "self",
        )

    _attempt(
        request, go, _("已取消外出报备。") if clear else _("外出报备已登记，期间的报警将暂挂。")
    )
    if _is_care_staff(request.user):
        return redirect("care:subject", pk=pk)
    return redirect("care:home")


def _missing_until() -> datetime:
    raise ValidationFailed(_("请选择返回日期。"), field="until")


@login_required
def roster(request: HttpRequest) -> HttpResponse:
    if not _is_care_staff(request.user):
        raise NotFound()
    now = timezone.now()
    subjects = list(selectors.subjects_for(request.user).order_by("next_due_at")[:500])
    due = request.GET.get("due", "")
    rows = [(s, selectors.due_state(s, now=now)) for s in subjects]
    if due:
        rows = [(s, st) for s, st in rows if st == due or (due == "overdue" and st == "escalated")]
    ctx: dict[str, Any] = {
        "rows": [(s, st, display_name(s.resident, viewer=request.user)) for s, st in rows],
        "due": due,
        "tiers": Tier.choices,
    }
    if community_ids(request.user, MANAGER_ROLES):
        community = _community(request)
        ctx["community"] = community
        ctx["candidates"] = selectors.enrol_candidates(request.user, community_id=community.pk)
        ctx["workers"] = _grid_workers(community)
    return render(request, "care/roster.html", ctx)


def _grid_workers(community: OrgUnit) -> list[tuple[User, str]]:
    rows = (
        Membership.objects.active()
        .filter(role=Role.GRID_WORKER, unit__path__startswith=community.path)
        .select_related("user", "unit")
        .order_by("unit__name", "user_id")
    )
    return [(m.user, m.unit.name) for m in rows]


def _user(raw: Any) -> User | None:
    pk = _int(raw)
    return User.objects.filter(pk=pk).first() if pk else None


@login_required
@require_POST
def enrol(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    resident = (
        Resident.objects.select_related("grid", "household")
        .filter(pk=_int(request.POST.get("resident")) or 0, community_id=community.pk)
        .first()
    )
    if resident is None:
        raise NotFound()
    holder: dict[str, Any] = {}

    def go() -> None:
        holder["s"] = services.subject_enrol(
            actor=request.user,
            resident=resident,
            worker=_user(request.POST.get("worker")),
            tier=request.POST.get("tier", ""),
        )

    if _attempt(request, go, _("已纳入关爱名册。")):
        return redirect("care:subject", pk=holder["s"].pk)
    return redirect(f"{_url('care:roster')}?community={community.pk}")


def _url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@login_required
def subject(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.subject_get_for(request.user, pk)
    if not _is_care_staff(request.user):
        return redirect("care:home")
    manager = bool(can_manage_roster(request.user, s))
    # The care team calls family: the responsible grid worker and community staff see
    # the number; others (street officers reading) see it masked.
    full_phone = manager or s.worker_id == request.user.pk
    contacts = [
        (c, c.phone if full_phone else mask_phone(c.phone))
        for c in FamilyContact.objects.filter(community_id=s.community_id, subject_id=s.pk)
    ]
    ctx: dict[str, Any] = {
        "s": s,
        "name": display_name(s.resident, viewer=request.user),
        "due_state": selectors.due_state(s),
        "visits": selectors.visits_of(s),
        "devices": selectors.devices_of_household(s),
        "contacts": contacts,
        "alerts": list(s.alerts.order_by("-detected_at")[:10]),
        "can_visit": bool(can_record_visit(request.user, s)),
        "can_away": bool(can_set_away(request.user, s)),
        "manager": manager,
        "channels": VisitChannel.choices,
        "now": timezone.now(),
    }
    if manager:
        ctx.update(
            tiers=Tier.choices,
            workers=_grid_workers(s.community),
            override_fields=[
                (k, str(care_rules_label(k)), lo, hi, s.overrides.get(k, ""))
                for k, (lo, hi) in OVERRIDE_LIMITS.items()
            ],
            rules=[
                (k, str(v), k in s.overrides.get("off", [])) for k, v in care_rules.RULES.items()
            ],
            volunteers=_volunteers(s.community_id),
        )
    return render(request, "care/subject.html", ctx)


OVERRIDE_LABELS = {
    "no_water_hours": _l("无用水报警（小时）"),
    "no_water_litres": _l("无用水阈值（升）"),
    "leak_hours": _l("持续流水报警（小时）"),
    "high_use_min_litres": _l("用水异常最低用量（升）"),
    "not_seen_days": _l("未见活动报警（天）"),
}


def care_rules_label(key: str) -> str:
    return str(OVERRIDE_LABELS[key])


def _volunteers(community_id: int) -> list[tuple[User, str]]:
    rows = (
        Resident.objects.filter(community_id=community_id, user__isnull=False, is_active=True)
        .select_related("user", "household__building")
        .filter(user__isnull=False)
        .order_by("household__building__name", "name")[:300]
    )
    return [(r.user, f"{r.household.building.name} {r.name}") for r in rows if r.user is not None]


@login_required
@require_POST
def subject_edit(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.subject_get_for(request.user, pk)
    overrides: dict[str, Any] = {k: request.POST.get(k, "") for k in OVERRIDE_LIMITS}
    overrides["off"] = request.POST.getlist("off")
    _attempt(
        request,
        lambda: services.subject_update(
            actor=request.user,
            subject=s,
            tier=request.POST.get("tier", ""),
            worker=_user(request.POST.get("worker")),
            volunteer=_user(request.POST.get("volunteer")),
            volunteer2=_user(request.POST.get("volunteer2")),
            overrides=overrides,
        ),
        _("关爱设置已保存。"),
    )
    return redirect("care:subject", pk=pk)


@login_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.subject_get_for(request.user, pk)
    _attempt(
        request,
        lambda: services.contact_add(
            actor=request.user,
            subject=s,
            name=request.POST.get("name", ""),
            relation=request.POST.get("relation", ""),
            phone=request.POST.get("phone", ""),
            consent=request.POST.get("consent") == "1",
            consent_channel=request.POST.get("consent_channel", ""),
        ),
        _("家属联系人已登记。"),
    )
    return redirect("care:subject", pk=pk)


@login_required
@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    c = FamilyContact.objects.filter(pk=pk).first()
    if c is None:
        raise NotFound()
    selectors.subject_get_for(request.user, c.subject_id)
    _attempt(request, lambda: services.contact_remove(actor=request.user, contact=c), _("已删除。"))
    return redirect("care:subject", pk=c.subject_id)


@login_required
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.subject_get_for(request.user, pk)
    if not can_record_visit(request.user, s):
        raise NotFound()
    own = bool(grid_worker_of(request.user, s))
    if request.method == "POST":
        holder: dict[str, Any] = {}

        def go() -> None:
            holder["v"] = services.visit_record(
                actor=request.user,
                subject=s,
                present=request.POST.get("present") == "1",
                checklist=request.POST.getlist("checklist"),
                needs=request.POST.get("needs", ""),
                note=request.POST.get("note", ""),
                kind=request.POST.get("kind", "home"),
                channel=request.POST.get("channel", "self" if own else ""),
                photo=request.FILES.get("photo"),
                idempotency_key=request.POST.get("idempotency_key", ""),
            )

        if request.POST.get("present") not in ("0", "1"):
            from django.contrib import messages

            messages.error(request, _("请选择是否见到本人。"))
        elif _attempt(request, go, _("走访已登记。")):
            return redirect("care:visit", pk=holder["v"].pk)
    return render(
        request,
        "care/visit_new.html",
        {
            "s": s,
            "name": display_name(s.resident, viewer=request.user),
            "checklist": CHECKLIST,
            "own": own,
            "channels": [c for c in VisitChannel.choices if c[0] != "self"],
            "posted": request.POST,
            "checked": request.POST.getlist("checklist"),
        },
    )


@login_required
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    v = (
        Visit.objects.select_related("visitor", "recorded_by", "request", "activity")
        .filter(pk=pk)
        .first()
    )
    if v is None:
        raise NotFound()
    s = selectors.subject_get_for(request.user, v.subject_id)
    can = bool(can_record_visit(request.user, s))
    return render(
        request,
        "care/visit.html",
        {
            "v": v,
            "s": s,
            "name": display_name(s.resident, viewer=request.user),
            "checklist": [(k, label, k in v.checklist) for k, label in CHECKLIST],
            "can_handover": can and bool(v.needs) and not (v.request_id or v.activity_id),
            "can_timebank": can and bool(can_manage_roster(request.user, s)),
        },
    )


@login_required
@require_POST
def visit_handover(request: HttpRequest, pk: int) -> HttpResponse:
    v = Visit.objects.select_related("subject__grid", "community").filter(pk=pk).first()
    if v is None:
        raise NotFound()
    selectors.subject_get_for(request.user, v.subject_id)
    if request.POST.get("to") == "timebank":
        _attempt(
            request,
            lambda: services.visit_to_timebank(actor=request.user, visit=v),
            _("已发起时间银行服务，志愿者报名后上门。"),
        )
    else:
        _attempt(
            request,
            lambda: services.visit_to_request(actor=request.user, visit=v),
            _("已转为诉求，按诉求流程办理。"),
        )
    return redirect("care:visit", pk=pk)


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    if not _is_care_staff(request.user) and not selectors.alerts_for(request.user).exists():
        raise NotFound()
    show = request.GET.get("show", "open")
    states = ("resolved",) if show == "resolved" else ("open", "acknowledged", "held")
    rows = list(selectors.alerts_for(request.user, states=states).order_by("-detected_at")[:200])
    ids = community_ids(request.user, VIEW_ROLES)
    community = _community(request, VIEW_ROLES) if ids else None
    rates = (
        selectors.false_alarm_rates(request.user, community_id=community.pk) if community else []
    )
    return render(
        request,
        "care/alerts.html",
        {
            "rows": rows,
            "show": show,
            "rates": rates,
            "community": community,
            "labels": care_rules.RULES,
        },
    )


@login_required
def alert(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.alert_get_for(request.user, pk)
    return render(
        request,
        "care/alert.html",
        {
            "a": a,
            "label": care_rules.RULES.get(a.rule, a.rule),
            "name": display_name(a.subject.resident, viewer=request.user) if a.subject else "",
            "steps": [(st, RUNG_LABELS.get(st.rung, st.rung)) for st in a.steps.all()],
            "flags": ALERT.flags(request.user, a),
            "outcomes": [
                (o.value, o.label)
                for o in Outcome
                if o in (MAINTENANCE_OUTCOMES if a.maintenance else CARE_OUTCOMES)
            ],
        },
    )


@login_required
@require_POST
def alert_act(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.alert_get_for(request.user, pk)
    action = request.POST.get("action", "")
    if action == "acknowledge":
        _attempt(
            request,
            lambda: services.alert_acknowledge(actor=request.user, alert=a),
            _("已确认响应，请尽快处置。"),
        )
    elif action == "release":
        _attempt(
            request, lambda: services.alert_release(actor=request.user, alert=a), _("已解除暂挂。")
        )
    elif action == "resolve":
        _attempt(
            request,
            lambda: services.alert_resolve(
                actor=request.user,
                alert=a,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
            ),
            _("已处置完毕。"),
        )
    else:
        raise NotFound()
    return redirect("care:alert", pk=pk)


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    ctx: dict[str, Any] = {"community": community, "kinds": DeviceKind.choices}
    if request.method == "POST":
        holder: dict[str, Any] = {}
        hh = (
            Household.objects.select_related("building")
            .filter(pk=_int(request.POST.get("household")) or 0, community_id=community.pk)
            .first()
        )
        gw = Device.objects.filter(
            pk=_int(request.POST.get("gateway")) or 0, community_id=community.pk, kind="gateway"
        ).first()

        def go() -> None:
            holder["d"] = services.device_register(
                actor=request.user,
                community=community,
                kind=request.POST.get("kind", ""),
                serial=request.POST.get("serial", ""),
                household=hh,
                gateway=gw,
            )

        if _attempt(request, go, _("设备已登记。请立即把密钥写入设备，此页关闭后不再显示。")):
            ctx["new"], ctx["secret"] = holder["d"]
    rows = list(
        selectors.devices_for(request.user, community_id=community.pk).order_by("kind", "serial")[
            :500
        ]
    )
    ctx["rows"] = rows
    ctx["gateways"] = [d for d in rows if d.kind == "gateway"]
    ctx["households"] = list(
        Household.objects.select_related("building")
        .filter(community_id=community.pk)
        .order_by("building__name", "unit", "room")[:2000]
    )
    return render(request, "care/devices.html", ctx)


@login_required
def events(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    if request.method == "POST":
        _attempt(
            request,
            lambda: services.event_declare(
                actor=request.user, community=community, title=request.POST.get("title", "")
            ),
            _("已发布。高风险关爱对象须在规定时间内走访。"),
        )
        return redirect(f"{_url('care:events')}?community={community.pk}")
    return render(
        request,
        "care/events.html",
        {
            "community": community,
            "events": MajorEvent.objects.filter(community_id=community.pk).order_by("-declared_at")[
                :20
            ],
        },
    )


SETTING_LABELS = {
    "high_interval_days": _l("高风险走访间隔（天）"),
    "event_visit_hours": _l("重大事件后走访时限（小时）"),
    "alone_visits_per_month": _l("独居老人每月走访次数"),
    "grace_days": _l("超期升级宽限（天）"),
    "ack_minutes": _l("报警响应时限（分钟）"),
    "no_water_hours": _l("无用水报警（小时）"),
    "no_water_litres": _l("无用水阈值（升）"),
    "leak_hours": _l("持续流水报警（小时）"),
    "high_use_min_litres": _l("用水异常最低用量（升）"),
    "not_seen_days": _l("未见活动报警（天）"),
    "silent_hours": _l("设备离线维护（小时）"),
}


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    if request.method == "POST":
        values: dict[str, Any] = {k: request.POST.get(k, "") for k in SETTING_FIELDS}
        values["high_use_factor"] = request.POST.get("high_use_factor", "")
        values["duty_phone"] = request.POST.get("duty_phone", "")
        values["rules_off"] = request.POST.getlist("rules_off")
        if _attempt(
            request,
            lambda: services.settings_save(actor=request.user, community=community, **values),
            _("设置已保存。"),
        ):
            return redirect(f"{_url('care:settings')}?community={community.pk}")
    row = services.settings_for(community.pk)
    return render(
        request,
        "care/settings.html",
        {
            "community": community,
            "row": row,
            "fields": [(k, str(SETTING_LABELS[k]), getattr(row, k)) for k in SETTING_FIELDS],
            "rules": [(k, str(v), k in (row.rules_off or [])) for k, v in care_rules.RULES.items()],
        },
    )
