"""红黑榜 pages (phone first, no JavaScript needed).

Public, no login: the quarter's board per street or community with the criteria, the
city-wide register and an entry's facts. Staff: compute and publish a street's
quarter, the scores with their evidence, the Excel export, inspections; property
staff: their own company's scores, evidence and appeals."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited
from linli.core.exports import xlsx_response
from linli.core.web import date_or_none, int_or_none, run_service
from linli.propertyco import selectors, services
from linli.propertyco.models import COMPONENTS, DEFAULT_WEIGHTS, Board, BoardStatus, Score
from linli.propertyco.permissions import (
    can_publish_criteria,
    inspector_community_ids,
    runs_street,
    sees_entry_evidence,
)
from linli.propertyco.quarters import Quarter, last_ended, today
from linli.propertyco.states import BOARD, ENTRY

DEFAULT_ITEMS = ["楼道保洁", "垃圾清运", "绿化养护", "电梯运行", "消防通道畅通", "门禁/监控"]


def _parse_quarter(raw: str | None) -> Quarter | None:
    if not raw:
        return None
    try:
        return Quarter.parse(raw)
    except DomainError:
        return None


# --------------------------------------------------------------------------- public


def board(request: HttpRequest) -> HttpResponse:
    """The public quarterly 红黑榜 of a street or a community (no login)."""
    units = selectors.public_units()
    uid = int_or_none(request.GET.get("unit"))
    unit = next((u for u in units if u.pk == uid), None) or next(
        (u for u in units if u.kind == "street"), units[0] if units else None
    )
    quarters: list[Quarter] = []
    quarter = None
    rows: list[selectors.BoardRow] = []
    criteria: list[Any] = []
    if unit is not None:
        anonymous = None  # the public page shows published quarters only, to everyone
        quarters = selectors.board_quarters(viewer=anonymous, unit=unit)
        quarter = _parse_quarter(request.GET.get("quarter"))
        if quarter not in quarters:
            quarter = quarters[0] if quarters else None
        if quarter is not None:
            rows = selectors.quarter_board(viewer=anonymous, unit=unit, quarter=quarter)
            criteria = selectors.board_criteria(unit=unit, quarter=quarter)
    return render(
        request,
        "propertyco/board.html",
        {
            "units": units,
            "unit": unit,
            "quarters": quarters,
            "quarter": quarter,
            "rows": rows,
            "red": [r for r in rows if r.list == "red"],
            "black": [r for r in rows if r.list == "black"],
            "criteria": criteria,
            "components": COMPONENTS,
        },
    )


def criteria_page(request: HttpRequest) -> HttpResponse:
    """Every published version of the criteria; the admin's form for a new one."""
    can = can_publish_criteria(request.user)
    if request.method == "POST":
        if not can:
            raise NotFound()
        post = request.POST
        if run_service(
            request,
            lambda: services.criteria_publish(
                actor=request.user,
                weights={k: post.get(f"w_{k}", "") for k, _l, _s in COMPONENTS},
                min_sample=post.get("min_sample", ""),
                red_percent=post.get("red_percent", ""),
                red_min_score=post.get("red_min_score", ""),
                black_percent=post.get("black_percent", ""),
                black_below=post.get("black_below", ""),
                note=post.get("note", ""),
            ),
            _("新版评分标准已发布。"),
        ):
            return redirect("propertyco:criteria")
    current = selectors.criteria_current()
    posted = request.POST if request.method == "POST" else None
    defaults = current.weights if current else DEFAULT_WEIGHTS
    weight_fields = [
        (k, label, posted.get(f"w_{k}", "") if posted is not None else defaults[k])
        for k, label, _s in COMPONENTS
    ]
    return render(
        request,
        "propertyco/criteria.html",
        {
            "versions": selectors.criteria_all(),
            "current": current,
            "components": COMPONENTS,
            "can_publish": can,
            "weight_fields": weight_fields,
        },
        status=400 if request.method == "POST" else 200,
    )


def register_page(request: HttpRequest) -> HttpResponse:
    entries = selectors.register()
    return render(
        request,
        "propertyco/register.html",
        {"entries": entries, "today": today()},
    )


def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.entry_for(pk=pk)
    evidence = sees_entry_evidence(request.user, entry)
    return render(
        request,
        "propertyco/entry.html",
        {
            "entry": entry,
            "evidence": evidence,
            "actions": ENTRY.available(request.user, entry)
            if request.user.is_authenticated
            else [],
            "labels": {a: ENTRY[a].label for a in ENTRY.table},
            "today": today(),
        },
    )


@require_POST
@login_required
def entry_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    entry = selectors.entry_for(pk=pk)
    if action not in ENTRY or not sees_entry_evidence(request.user, entry):
        raise NotFound()
    reason = request.POST.get("reason", "")
    if action == "appeal":
        fn: Any = lambda: services.entry_appeal(actor=request.user, entry=entry, reason=reason)  # noqa: E731
    else:
        fn = lambda: services.entry_decide(  # noqa: E731
            actor=request.user, entry=entry, decision=action, reason=reason
        )
    run_service(request, fn, _("已记录。"))
    return redirect("propertyco:entry", pk=entry.pk)


# --------------------------------------------------------------------------- staff


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    streets = selectors.runnable_streets(viewer=request.user)
    inspect = bool(inspector_community_ids(request.user))
    if not streets and not inspect and not selectors.inspections_for(viewer=request.user, limit=1):
        raise NotFound()
    if request.method == "POST":
        sid = int_or_none(request.POST.get("street"))
        street = next((s for s in streets if s.pk == sid), None)
        quarter = request.POST.get("quarter", "")
        result: dict[str, Board] = {}

        def compute() -> None:
            result["board"] = services.board_compute(
                actor=request.user,
                street=street or OrgUnit.objects.filter(pk=sid or 0).first(),  # type: ignore[arg-type]
                quarter=quarter,
            )

        if run_service(request, compute, _("已按评分标准计算，请核对后公布。")):
            return redirect("propertyco:board_detail", pk=result["board"].pk)
    return render(
        request,
        "propertyco/staff.html",
        {
            "streets": streets,
            "quarters": last_ended(count=8),
            "boards": selectors.boards_for(viewer=request.user) if streets else [],
            "inspections": selectors.inspections_for(viewer=request.user, limit=20),
            "can_inspect": inspect,
            "criteria": selectors.criteria_current(),
        },
    )


def _board_context(request: HttpRequest, b: Board) -> dict[str, Any]:
    return {
        "board": b,
        "scores": selectors.scores_of(viewer=request.user, board=b),
        "can_publish": BOARD.can(request.user, b, "publish"),
        "runs": runs_street(request.user, b.street),
        "components": COMPONENTS,
        "weights": b.criteria.weights,
    }


@login_required
def board_detail(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.board_for(viewer=request.user, pk=pk)
    return render(request, "propertyco/board_detail.html", _board_context(request, b))


@require_POST
@login_required
def board_publish(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.board_for(viewer=request.user, pk=pk)
    out: dict[str, Any] = {}

    def publish() -> None:
        out["entries"] = services.board_publish(actor=request.user, board=b)

    if run_service(request, publish, _("已公布。")) and out["entries"]:
        messages.warning(
            request,
            _(
                "%(n)s 家物业公司连续两个季度列入黑榜，已列入不良名录"
                "（三年内不得参加新的招投标），业主委员会可依法启动解聘程序。"
            )
            % {"n": len(out["entries"])},
        )
    return redirect("propertyco:board_detail", pk=b.pk)


def export_rows(b: Board, scores: list[Score]) -> list[list[Any]]:
    head = [
        str(_("街道")),
        str(_("社区")),
        str(_("物业公司")),
        str(_("得分")),
        str(_("名次")),
        str(_("榜单")),
        str(_("诉求评价均分（1–5）")),
        str(_("评价数")),
        str(_("物业服务满意率（%）")),
        str(_("测评答卷数")),
        str(_("按时办结率（%）")),
        str(_("办结率（%）")),
        str(_("诉求数")),
        str(_("检查合格率（%）")),
        str(_("检查次数")),
        str(_("评分标准版本")),
    ]
    out: list[list[Any]] = [head]
    for s in scores:
        out.append(
            [
                b.street.name,
                s.community.name,
                s.company.name,
                float(s.score) if s.score is not None else str(_("样本不足")),
                s.rank,
                str(s.get_listing_display()) if s.listing else "",
                float(s.rating_avg) if s.rating_avg is not None else None,
                s.rating_n,
                float(s.survey_rate) if s.survey_rate is not None else None,
                s.survey_n,
                float(s.ontime_rate) if s.ontime_rate is not None else None,
                float(s.resolution_rate) if s.resolution_rate is not None else None,
                s.request_n,
                float(s.inspection_rate) if s.inspection_rate is not None else None,
                s.inspection_n,
                f"v{b.criteria.version}",
            ]
        )
    return out


def criteria_rows(b: Board) -> list[list[Any]]:
    c = b.criteria
    rows: list[list[Any]] = [[str(_("评分项")), str(_("权重（%）"))]]
    rows += [[str(label), c.weights[k]] for k, label, _s in COMPONENTS]
    rows += [
        [str(_("最少样本数")), c.min_sample],
        [str(_("红榜：前（%）")), c.red_percent],
        [str(_("红榜最低分")), float(c.red_min_score)],
        [str(_("黑榜：后（%）")), c.black_percent],
        [str(_("黑榜分数线（低于）")), float(c.black_below)],
        [str(_("说明")), c.note],
    ]
    return rows


@login_required
def board_export(request: HttpRequest, pk: int) -> HttpResponse:
    return board_workbook(viewer=request.user, pk=pk)


def board_workbook(*, viewer: Any, pk: int) -> HttpResponse:
    """The quarter's Excel workbook as ``viewer`` may see it (also the API's)."""
    b = selectors.board_for(viewer=viewer, pk=pk)
    scores = selectors.scores_of(viewer=viewer, board=b)
    return xlsx_response(
        [
            (str(_("得分")), export_rows(b, scores)),
            (str(_("评分标准")) + f" v{b.criteria.version}", criteria_rows(b)),
        ],
        f"propertyco-{b.street_id}-{b.year}Q{b.quarter}.xlsx",
    )


@login_required
def score_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ev = selectors.score_evidence(viewer=request.user, pk=pk)
    return render(
        request,
        "propertyco/score.html",
        {
            "ev": ev,
            "s": ev.score,
            "components": COMPONENTS,
            "weights": ev.score.board.criteria.weights,
        },
    )


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "propertyco/inspections.html",
        {
            "inspections": selectors.inspections_for(viewer=request.user),
            "can_inspect": bool(inspector_community_ids(request.user)),
        },
    )


@login_required
def inspection_new(request: HttpRequest) -> HttpResponse:
    cids = inspector_community_ids(request.user)
    if not cids:
        raise NotFound()
    buildings = list(
        Building.objects.filter(community_id__in=cids, property_company__isnull=False)
        .select_related("community", "property_company")
        .order_by("community__path", "id")[:500]
    )
    post: Any = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        b = next((x for x in buildings if x.pk == int_or_none(post.get("building"))), None)
        items = []
        for i in range(1, 11):
            label = (post.get(f"item_{i}") or "").strip()
            verdict = post.get(f"pass_{i}")
            if label:
                items.append({"item": label, "passed": {"1": True, "0": False}.get(verdict or "")})
        try:
            if b is None:
                from linli.core.errors import ValidationFailed

                raise ValidationFailed(_("请选择本社区登记了物业公司的楼栋。"), field="building")
            services.inspection_record(
                actor=request.user,
                building=b,
                inspected_on=date_or_none(post.get("inspected_on")),
                items=items,
                note=post.get("note", ""),
                photo=request.FILES.get("photo"),
                idempotency_key=idempotency.from_request(request),
            )
        except RateLimited:
            raise
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("检查记录已保存。"))
            return redirect("propertyco:inspections")
    return render(
        request,
        "propertyco/inspection_new.html",
        {
            "buildings": buildings,
            "items": DEFAULT_ITEMS + [""] * (10 - len(DEFAULT_ITEMS)),
            "post": post,
            "today": today(),
            "key": post.get("idempotency_key") or idempotency.new_key(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def inspection_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    ins = selectors.inspection_for(viewer=request.user, pk=pk)
    if not ins.photo:
        raise NotFound()
    return FileResponse(
        ins.photo.open("rb"), filename=(ins.photo.name or "photo").rsplit("/", 1)[-1]
    )


@login_required
def company(request: HttpRequest) -> HttpResponse:
    companies = selectors.my_companies(viewer=request.user)
    if not companies:
        raise NotFound()
    return render(
        request,
        "propertyco/company.html",
        {
            "companies": companies,
            "scores": selectors.company_scores(viewer=request.user),
            "entries": selectors.entries_of_company(viewer=request.user),
            "inspections": selectors.inspections_for(viewer=request.user, limit=30),
            "board_url": reverse("propertyco:board"),
            "status_published": BoardStatus.PUBLISHED,
        },
    )
