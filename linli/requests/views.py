"""Pages: the resident's phone pages (report, my requests, detail with urge/complain/
rate/reopen) and the staff workbench (queue, bulk assign, detail, 代办, metrics).
Thin: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _run
from linli.insight import report as insight_report
from linli.requests import catalog, pending
from linli.requests import services as svc
from linli.requests.forms import RecordForm, ReportForm
from linli.requests.models import (
    Category,
    Channel,
    RequestPhoto,
    ServiceRequest,
    Status,
)
from linli.requests.permissions import (
    can_handle,
    can_manage,
    can_view_photos,
    can_view_staff,
    is_reporter,
)
from linli.requests.photos import MAX_PHOTOS
from linli.requests.routing import targets_for
from linli.requests.selectors import (
    MERGE_CANDIDATES_MAX,
    QueueFilters,
    categories_tree,
    find_duplicates,
    merge_candidates_for,
    metrics_communities,
    request_get_for,
    request_list_mine,
    request_metrics,
    request_queue_for,
    staff_communities,
    timeline_for,
)
from linli.requests.siteplan import site_plan
from linli.requests.states import STAFF_ACTIONS, flags, machine


def _building_choices(community_id: int) -> list[tuple[int, str]]:
    from linli.requests.selectors import buildings_in

    return [(b.pk, b.name) for b in buildings_in(community_id)]


# ---------------------------------------------------------------- resident pages


@login_required
def report(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope.resident_id is None or scope.community_id is None:
        if scope.is_staff:
            return redirect("requests:record")
        raise NotFound()
    resident = Resident.objects.select_related("household").get(pk=scope.resident_id)
    community_id = scope.community_id
    from linli.requests.selectors import buildings_in

    building_rows = list(buildings_in(community_id))
    buildings = [(b.pk, b.name) for b in building_rows]
    # Tapping a building on the site plan without JS is a GET link: ?building=<pk>.
    picked = _int(request.GET.get("building"))
    if picked not in {pk for pk, _name in buildings}:
        picked = resident.household.building_id
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        buildings=buildings,
        units=_units_in(community_id),
        initial={"building": picked},
    )
    user_id = request.user.pk or 0  # login_required: always set
    kept: list[pending.KeptPhoto] = []
    duplicates: list[Any] = []
    if request.method == "POST":
        kept = pending.load(request.POST.get("kept_photos", ""), user_id=user_id)
        new_uploads = request.FILES.getlist("photos")
        if new_uploads:
            if len(kept) + len(new_uploads) > MAX_PHOTOS:
                form.add_error("photos", _("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS})
            else:
                try:
                    kept += pending.keep(new_uploads)
                except ValidationFailed as exc:
                    form.add_error("photos", str(exc.message))
    category_check = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # Insight (SPEC §10): take the suggested category, or ask once when it differs.
        d["category"] = insight_report.chosen_category(request.POST, d["category"])
        category_check = insight_report.category_check(
            post=request.POST, chosen=d["category"], text=d["description"] or "",
            community_id=community_id,
        )  # fmt: skip
        if category_check is None and not request.POST.get("confirm_new"):
            lat = _float(d["lat"])
            lng = _float(d["lng"])
            duplicates = find_duplicates(
                community_id=community_id,
                description=d["description"] or "",
                building_id=d["building"],
                lat=lat,
                lng=lng,
            )
        if category_check is None and not duplicates:
            address = d["address"]
            if d["unit"]:
                address = (_("%(u)s单元") % {"u": d["unit"]} + " " + address).strip()
            try:
                req = svc.request_submit(
                    actor=request.user,
                    category=Category.objects.filter(pk=d["category"]).first(),
                    description=d["description"] or "",
                    building=_building(community_id, d["building"]),
                    lat=d["lat"] or None,
                    lng=d["lng"] or None,
                    address=address,
                    photos=[k.upload() for k in kept],
                    public=d["public"],
                    idempotency_key=idempotency.from_request(request),
                )
            except ValidationFailed as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                pending.discard(kept)
                messages.success(request, _("诉求已提交，编号 #%(id)s。") % {"id": req.pk})
                return redirect("requests:detail", pk=req.pk)
    selected = form["building"].value() if form.is_bound else picked
    return render(
        request,
        "requests/report.html",
        {
            "form": form,
            "duplicates": duplicates,
            "category_check": category_check,
            "insight_carry": insight_report.carry(request.POST),
            "tree": categories_tree(),
            "kept": [(k, k.thumbnail_data_uri()) for k in kept],
            "kept_token": pending.token_for(kept, user_id=user_id),
            "plan": site_plan(building_rows, selected=_int(selected)),
        },
    )


def _units_in(community_id: int) -> list[str]:
    from linli.communities.models import Household

    units = Household.objects.filter(community_id=community_id).exclude(unit="")
    return sorted(set(units.values_list("unit", flat=True)), key=lambda u: (len(u), u))


def _float(raw: str) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def _building(community_id: int, pk: int | None) -> Any:
    from linli.communities.models import Building

    if pk is None:
        return None
    b = Building.objects.select_related("grid").filter(pk=pk).first()
    if b is None:
        raise ValidationFailed(_("楼栋不存在。"), field="building")
    return b


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(request_list_mine(viewer=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "requests/mine.html", {"page": page})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = request_get_for(viewer=request.user, pk=pk)
    can = flags(request.user, req)  # the buttons the services would accept now
    return render(
        request,
        "requests/detail.html",
        {
            "r": req,
            "events": timeline_for(viewer=request.user, req=req),
            "photos": (
                list(req.photos.filter(community_id=req.community_id))
                if can_view_photos(request.user, req)
                else []
            ),
            "is_reporter": is_reporter(request.user, req),
            "can_urge": can["can_urge"],
            "can_complain": can["can_complain"],
            "can_rate": can["can_rate"],
            "can_reopen": can["can_reopen"],
            "can_support": can["can_support"],
            "is_staff_view": can_view_staff(request.user, req),
        },
    )


@login_required
@require_POST
def resident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    req = request_get_for(viewer=request.user, pk=pk)
    u = request.user
    p = request.POST
    calls: dict[str, tuple[Callable[[], Any], str]] = {
        "urge": (lambda: svc.request_urge(actor=u, request=req), _("已催办，责任单位会尽快处理。")),
        "complain": (
            lambda: svc.request_complain(actor=u, request=req, text=p.get("text", "")),
            _("投诉已提交社区督办。"),
        ),
        "rate": (
            lambda: svc.request_rate(
                actor=u, request=req, rating=p.get("rating"), comment=p.get("comment", "")
            ),
            _("感谢您的评价！"),
        ),
        "reopen": (
            lambda: svc.request_reopen(actor=u, request=req, reason=p.get("reason", "")),
            _("诉求已重启，责任单位将重新处理。"),
        ),
        "support": (
            lambda: svc.request_support(actor=u, request=req),
            _("已附议（我也遇到），我们会一并处理。"),
        ),
    }
    if action not in calls:
        raise NotFound()
    fn, ok = calls[action]
    _run(request, fn, ok)
    return redirect("requests:detail", pk=req.pk)


@login_required
def photo(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    """Photos are served through the permission check, never from a public folder."""
    req = request_get_for(viewer=request.user, pk=pk)
    if not can_view_photos(request.user, req):
        raise NotFound()
    ph = RequestPhoto.objects.filter(
        pk=photo_id, community_id=req.community_id, request=req
    ).first()
    if ph is None:
        raise NotFound()
    resp = FileResponse(ph.image.open("rb"), content_type=ph.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


# ---------------------------------------------------------------- staff pages


def _require_staff(request: HttpRequest) -> None:
    if not scope_of(request.user).is_staff:
        raise NotFound()


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    g = request.GET
    status = g.get("status", "open")
    if status not in {"open", "all", *Status.values}:
        status = "open"
    due = g.get("due", "") if g.get("due") in ("today", "soon", "overdue", "escalated") else ""
    filters = QueueFilters(
        status=status,
        category=_int(g.get("category")),
        due=due,
        grid=_int(g.get("grid")),
        community=_int(g.get("community")),
        channel=g.get("channel", "") if g.get("channel") in Channel.values else "",
        mine=g.get("mine") == "1",
    )
    qs = request_queue_for(viewer=request.user, filters=filters)
    page = Paginator(qs, 30).get_page(g.get("page"))
    communities = list(staff_communities(viewer=request.user))
    targets_community = next((c for c in communities if c.pk == filters.community), None) or (
        communities[0] if len(communities) == 1 else None
    )
    grids = (
        OrgUnit.objects.filter(kind="grid", parent__in=communities)
        .select_related("parent")
        .order_by("path")
    )
    query = g.copy()
    query.pop("page", None)
    return render(
        request,
        "requests/queue.html",
        {
            "page": page,
            "f": filters,
            "statuses": Status.choices,
            "tree": categories_tree(),
            "communities": communities,
            "grids": grids,
            "channels": Channel.choices,
            "targets": targets_for(targets_community) if targets_community else [],
            "query": query.urlencode(),
            "can_record": bool(communities),
            "can_metrics": bool(metrics_communities(viewer=request.user, among=communities)),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    ids = [i for i in (_int(x) for x in request.POST.getlist("ids")) if i is not None]
    _run(
        request,
        lambda: svc.request_bulk_assign(
            actor=request.user,
            request_ids=ids,
            target=request.POST.get("target", ""),
            reason=request.POST.get("reason", ""),
        ),
        _("已批量派单 %(n)d 条。") % {"n": len(ids)},
    )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/requests/") else "requests:queue")


@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = request_get_for(viewer=request.user, pk=pk)
    if not can_view_staff(request.user, req):
        return redirect("requests:detail", pk=pk)
    handle = can_handle(request.user, req)
    manage = can_manage(request.user, req)
    can = flags(request.user, req)
    return render(
        request,
        "requests/staff_detail.html",
        {
            "r": req,
            "events": timeline_for(viewer=request.user, req=req),
            "photos": list(req.photos.filter(community_id=req.community_id)),
            "actions": machine.available(request.user, req, among=STAFF_ACTIONS),
            "can_handle": handle,
            "can_manage": manage,
            "can_reroute": can["can_reroute"],
            "can_recategorise": can["can_recategorise"],
            "leaf_categories": catalog.active_leaves() if can["can_recategorise"] else [],
            "targets": targets_for(req.community) if handle else [],
            # Same category or same building only, nothing pre-selected; the merge
            # itself happens on a confirmation step (merge_confirm).
            "merge_candidates": (
                list(merge_candidates_for(req=req)[:MERGE_CANDIDATES_MAX]) if manage else []
            ),
            "is_org_staff_whistle": can["can_onsite"],
        },
    )


@login_required
@require_POST
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    req = request_get_for(viewer=request.user, pk=pk)
    u = request.user
    p = request.POST
    files = request.FILES.getlist("photos")
    calls: dict[str, tuple[Callable[[], Any], str]] = {
        "accept": (
            lambda: svc.request_accept(
                actor=u, request=req, is_complex=p.get("is_complex") == "1", note=p.get("note", "")
            ),
            _("已受理。"),
        ),
        "start": (
            lambda: svc.request_start(actor=u, request=req, note=p.get("note", "")),
            _("已开始处理。"),
        ),
        "dispatch": (
            lambda: svc.request_dispatch(
                actor=u, request=req, target=p.get("target", ""), note=p.get("note", "")
            ),
            _("已派单。"),
        ),
        "resolve": (
            lambda: svc.request_resolve(
                actor=u, request=req, resolution=p.get("resolution", ""), photos=files
            ),
            _("已办结，等待居民评价。"),
        ),
        "reject": (
            lambda: svc.request_reject(actor=u, request=req, reason=p.get("reason", "")),
            _("已标记为不予受理。"),
        ),
        "merge": (
            lambda: svc.request_merge(actor=u, request=req, into=_merge_target(p.get("into"), req)),
            _("已合并。"),
        ),
        "reroute": (
            lambda: svc.request_reroute(
                actor=u, request=req, target=p.get("target", ""), reason=p.get("reason", "")
            ),
            _("已改派。"),
        ),
        "recategorise": (
            lambda: svc.request_recategorise(
                actor=u,
                request=req,
                category_code=p.get("category", ""),
                reason=p.get("reason", ""),
            ),
            _("类别已更改。"),
        ),
        "plan": (
            lambda: svc.request_plan(actor=u, request=req, plan=p.get("plan", "")),
            _("办理方案已记录。"),
        ),
        "feedback": (
            lambda: svc.request_feedback(actor=u, request=req, note=p.get("note", "")),
            _("进度已反馈给居民。"),
        ),
        "onsite": (
            lambda: svc.request_onsite(actor=u, request=req, note=p.get("note", "")),
            _("已报到到场。"),
        ),
    }
    if action not in calls:
        raise NotFound()
    if action == "merge" and p.get("confirm") != "1":
        # A merge closes this request for good: only from the confirmation step.
        return redirect(_merge_confirm_url(req.pk, p.get("into")))
    fn, ok = calls[action]
    _run(request, fn, ok)
    return redirect("requests:staff_detail", pk=req.pk)


def _merge_confirm_url(pk: int, into: Any) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    url = reverse("requests:merge_confirm", args=[pk])
    into_pk = _int(into)
    return f"{url}?{urlencode({'into': into_pk})}" if into_pk else url


def _merge_target(raw: Any, req: ServiceRequest) -> ServiceRequest:
    """The chosen request, if it is one of :func:`merge_candidates_for` ``req``."""
    pk = _int(raw)
    target = merge_candidates_for(req=req, into=pk).first() if pk else None
    if target is None:
        raise ValidationFailed(
            _("请从同类别或同楼栋、仍在办理中的诉求中选择要合并到的诉求。"), field="into"
        )
    return target


@login_required
def merge_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The step between choosing a duplicate and merging: "确认合并 #A 到 #B？". Reads
    only; the merge is the POST of this page's button. Works without JavaScript."""
    req = request_get_for(viewer=request.user, pk=pk)
    if not can_manage(request.user, req):
        raise NotFound()
    try:
        into = _merge_target(request.GET.get("into"), req)
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return redirect("requests:staff_detail", pk=req.pk)
    return render(request, "requests/merge_confirm.html", {"r": req, "into": into})


@login_required
def record(request: HttpRequest) -> HttpResponse:
    """代办: staff record a request from the hotline, suggestion box or a visit."""
    _require_staff(request)
    communities = list(staff_communities(viewer=request.user))
    if not communities:
        raise NotFound()
    community = next(
        (
            c
            for c in communities
            if c.pk == _int(request.POST.get("community") or request.GET.get("community"))
        ),
        communities[0],
    )
    form = RecordForm(
        request.POST or None, request.FILES or None, buildings=_building_choices(community.pk)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        resident = None
        if d["resident_phone"]:
            resident = Resident.objects.filter(
                community=community, phone=d["resident_phone"]
            ).first()
            if resident is None:
                form.add_error("resident_phone", _("本社区没有登记此手机号的居民。"))
        if not form.errors:
            try:
                req = svc.request_submit(
                    actor=request.user,
                    category=Category.objects.filter(pk=d["category"]).first(),
                    description=d["description"] or "",
                    building=_building(community.pk, d["building"]),
                    lat=d["lat"] or None,
                    lng=d["lng"] or None,
                    address=d["address"],
                    photos=d["photos"],
                    channel=d["channel"],
                    community=community,
                    resident=resident,
                    reporter_name=d["reporter_name"],
                    reporter_phone=d["reporter_phone"],
                    idempotency_key=idempotency.from_request(request),
                )
            except RateLimited:
                raise  # the error page answers 429 with Retry-After
            except DomainError as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("已代办登记，编号 #%(id)s。") % {"id": req.pk})
                return redirect("requests:staff_detail", pk=req.pk)
    return render(
        request,
        "requests/record.html",
        {"form": form, "communities": communities, "community": community},
    )


@login_required
def metrics(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    communities = metrics_communities(viewer=request.user)
    if not communities:
        raise NotFound()
    community = next(
        (c for c in communities if c.pk == _int(request.GET.get("community"))), communities[0]
    )
    today = timezone.localdate()
    try:
        start_d = datetime.strptime(request.GET.get("start", ""), "%Y-%m-%d").date()
    except ValueError:
        start_d = today - timedelta(days=90)
    try:
        end_d = datetime.strptime(request.GET.get("end", ""), "%Y-%m-%d").date()
    except ValueError:
        end_d = today
    tz = timezone.get_current_timezone()
    m = request_metrics(
        viewer=request.user,
        community=community,
        start=datetime.combine(start_d, time.min, tzinfo=tz),
        end=datetime.combine(end_d + timedelta(days=1), time.min, tzinfo=tz),
    )
    return render(
        request,
        "requests/metrics.html",
        {
            "m": m,
            "communities": communities,
            "community": community,
            "start": start_d,
            "end": end_d,
            "channels": dict(Channel.choices),
        },
    )
