"""Assessment pages: the board of a unit (city → … → grid) with its charts and their
data tables, a building's page, the integrity page, exports, weights, expert scores,
recomputation, the published definitions and the residents' public card.

Every chart is progressive: the page carries the data table, the chart is drawn over
it by ECharts when JavaScript runs, and each has a "download data" CSV link."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.assessment import exports, indicators, selectors, services
from linli.assessment.models import ExpertScore, Snapshot, WeightSet
from linli.assessment.periods import Period, last_complete_month, parse
from linli.assessment.permissions import (
    VIEW_ROLES,
    can_recompute,
    can_score,
    can_set_weights,
    can_view_unit,
)
from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound
from linli.core.exports import csv_response
from linli.core.web import date_or_none, int_or_none, run_service


def _period(request: HttpRequest) -> tuple[Period | None, str]:
    try:
        return parse(request.GET.get("period")), ""
    except DomainError as exc:
        return None, str(exc.message)


def _periods_menu(today: date | None = None) -> list[tuple[str, str]]:
    """The last 12 months, the last 4 quarters and the last 2 years that have ended."""
    p = last_complete_month(today)
    out = []
    m = p
    for _i in range(12):
        out.append((m.key, m.label))
        m = m.previous()
    q = Period("quarter", p.year, (p.number - 1) // 3 + 1)
    if q.end > p.end:
        q = q.previous()
    for _i in range(4):
        out.append((q.key, q.label))
        q = q.previous()
    y = Period("year", p.year, 0)
    if y.end > p.end:
        y = y.previous()
    for _i in range(2):
        out.append((y.key, y.label))
        y = y.previous()
    return out


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The viewer's own top unit's board (the menu entry: one page, no redirect)."""
    scope = scope_of(request.user)
    if scope.is_platform_admin:
        top = OrgUnit.objects.filter(kind=OrgUnit.Kind.CITY).order_by("pk").first()
    else:
        paths = sorted(scope.paths_for(*VIEW_ROLES), key=len)
        top = OrgUnit.objects.filter(path=paths[0]).first() if paths else None
    if top is None:
        raise NotFound()
    return unit(request, top.pk)


def _chart(
    kind: str, categories: list[str], series: list[tuple[str, list[Any]]], **kw: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "categories": categories,
        "series": [{"name": n, "data": d} for n, d in series],
        **kw,
    }


@login_required
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    period, error = _period(request)
    ctx: dict[str, Any] = {"unit": u, "periods": _periods_menu(), "error": error}
    if period is None:
        return render(request, "assessment/unit.html", ctx, status=400)
    b = selectors.board_for(viewer=request.user, unit=u, period=period)
    quarter = _ended_quarter(period)
    ctx.update(
        {
            "b": b,
            "property_quarter": quarter,
            "property_rows": _property_rows(request, u, quarter),
            "period": period,
            "definitions": indicators.DEFINITIONS,
            "trend_chart": _chart(
                "line",
                [m for m, _s in b.trend],
                [(_("综合得分"), [None if s is None else float(s) for _m, s in b.trend])],
                percent=True,
            ),
            "category_chart": _chart(
                "bar", [c for c, _n in b.categories], [(_("诉求数"), [n for _c, n in b.categories])]
            ),
            "sla_chart": _chart(
                "bar", [c for c, _n in b.sla], [(_("办结数"), [n for _c, n in b.sla])]
            ),
            "funnel_chart": _chart(
                "bar", [c for c, _n in b.funnel], [(_("人数"), [n for _c, n in b.funnel])]
            ),
            "can_recompute": u.kind == OrgUnit.Kind.COMMUNITY and can_recompute(request.user, u),
            "can_score": can_score(request.user, u),
            "expert_kinds": ExpertScore.Kind.choices,
            "revisions": (
                list(
                    Snapshot.objects.filter(
                        community=u, month__gte=period.start, month__lt=period.end
                    )
                    .order_by("month", "revision")
                    .values("month", "revision", "current", "score", "reason", "computed_at")
                )
                if u.kind == OrgUnit.Kind.COMMUNITY
                else []
            ),
            "idempotency_key": idempotency.new_key(),
        }
    )
    return render(request, "assessment/unit.html", ctx)


def _ended_quarter(period: Period) -> Period:
    """The quarter of the period's last month if it has ended, else the one before."""
    last = period.months[-1]
    q = Period("quarter", last.year, (last.month - 1) // 3 + 1)
    return q if q.end <= last_complete_month().end else q.previous()


def _property_rows(request: HttpRequest, u: OrgUnit, quarter: Period) -> list[Any]:
    """The property companies' 红黑榜 of that quarter under the unit (the propertyco
    app's own selector: one statement)."""
    if u.kind == OrgUnit.Kind.GRID:
        return []
    from linli.propertyco.selectors import quarter_board

    return quarter_board(viewer=request.user, unit=u, quarter=f"{quarter.year}Q{quarter.number}")


@login_required
def building(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.building_get_for(viewer=request.user, pk=pk)
    period, error = _period(request)
    if period is None:
        return render(
            request, "assessment/building.html", {"building": b, "error": error}, status=400
        )
    data = selectors.building_board_for(viewer=request.user, building=b, period=period)
    chart = _chart(
        "line",
        [m for m, *_r in data["series"]],
        [
            (_("诉求数"), [n for _m, n, *_r in data["series"]]),
            (_("超时"), [x[2] for x in data["series"]]),
        ],
    )
    return render(
        request,
        "assessment/building.html",
        {"building": b, "period": period, "d": data, "chart": chart, "periods": _periods_menu()},
    )


@login_required
def integrity(request: HttpRequest, pk: int) -> HttpResponse:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    period, error = _period(request)
    if period is None:
        return render(request, "assessment/integrity.html", {"unit": u, "error": error}, status=400)
    rows = selectors.integrity_for(viewer=request.user, unit=u, period=period)
    return render(
        request,
        "assessment/integrity.html",
        {"unit": u, "period": period, "r": rows, "periods": _periods_menu()},
    )


@login_required
def data(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """A chart's data as CSV ("download data")."""
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    period, error = _period(request)
    if period is None:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    b = selectors.board_for(viewer=request.user, unit=u, period=period)
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {
        "trend": ([_("月份"), _("综合得分")], [(m, s or "") for m, s in b.trend]),
        "categories": ([_("类别"), _("诉求数")], list(b.categories)),
        "sla": ([_("办结用时"), _("件数")], list(b.sla)),
        "funnel": ([_("环节"), _("人数")], list(b.funnel)),
        "ranking": (
            [_("排名"), _("社区"), _("得分"), _("置信区间下限"), _("置信区间上限"), _("评价样本")],
            [
                (
                    r.rank or "",
                    r.name,
                    r.score.score or "",
                    r.score.ci_low or "",
                    r.score.ci_high or "",
                    r.score.sample,
                )
                for r in b.ranking
            ],
        ),
        "buildings": (
            [_("楼栋"), _("诉求数"), _("热度等级")],
            [(h.name, h.n, h.level) for h in b.heat_buildings],
        ),
    }
    if chart not in tables:
        raise NotFound()
    head, rows = tables[chart]
    return csv_response([head, *rows], f"assessment-{u.pk}-{period.key}-{chart}.csv")


@login_required
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The report of a unit and period: an Excel workbook or an A4 PDF. A unit
    outside the viewer's scope is not found; a bad period is a 400 with the reason."""
    u = OrgUnit.objects.filter(pk=pk).first()
    if u is None or not can_view_unit(request.user, u):
        return HttpResponse(
            _("找不到该单位，或它不在您的管辖范围内，不能导出。"),
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    period, error = _period(request)
    if period is None:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    b = selectors.board_for(viewer=request.user, unit=u, period=period)
    name = f"assessment-{u.pk}-{period.key}"
    if fmt == "xlsx":
        return exports.workbook_response(b, f"{name}.xlsx")
    if fmt == "pdf":
        return HttpResponse(
            exports.report_pdf(b),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    raise NotFound()


@login_required
def weights(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    districts = [
        d
        for d in OrgUnit.objects.filter(kind=OrgUnit.Kind.DISTRICT).order_by("path")
        if can_set_weights(request.user, d) or scope.covers(d.path, *VIEW_ROLES)
    ]
    if not districts and not scope.is_platform_admin:
        raise NotFound()
    district = next(
        (d for d in districts if d.pk == int_or_none(request.GET.get("district"))), None
    )
    district = district or (districts[0] if districts else None)
    if request.method == "POST":
        district = next(
            (d for d in districts if d.pk == int_or_none(request.POST.get("district"))), None
        )
        ok = run_service(
            request,
            lambda: services.weights_create(
                actor=request.user,
                district=district,
                values={k: request.POST.get(k, "") for k in services.WEIGHT_FIELDS},
                note=request.POST.get("note", ""),
                idempotency_key=idempotency.from_request(request),
            ),
            _("已保存为新版本；之前的考核结果仍按原权重保留。"),
        )
        if ok:
            return redirect(
                f"{reverse('assessment:weights')}?district={getattr(district, 'pk', '')}"
            )
    versions = list(
        WeightSet.objects.filter(district=district).order_by("-version")
        if district is not None
        else WeightSet.objects.none()
    )
    current = services.weights_for(getattr(district, "pk", None))
    return render(
        request,
        "assessment/weights.html",
        {
            "districts": districts,
            "district": district,
            "versions": versions,
            "current": current,
            "default": services.default_weights(),
            "can_edit": can_set_weights(request.user, district),
            "form": request.POST if request.method == "POST" else None,
            "fields": services.WEIGHT_FIELDS,
            "idempotency_key": idempotency.new_key(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def expert(request: HttpRequest, pk: int) -> HttpResponse:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    month = date_or_none((request.POST.get("month") or "") + "-01")
    url = reverse("assessment:unit", args=[u.pk])
    if month is None:
        from django.contrib import messages

        messages.error(request, _("请选择月份（如 2026-10）。"))
        return redirect(url)
    run_service(
        request,
        lambda: services.expert_score_record(
            actor=request.user,
            community=u,
            month=month,
            kind=request.POST.get("kind", ""),
            score=request.POST.get("score", ""),
            basis=request.POST.get("basis", ""),
        ),
        _("评分已记录；重新计算该月后计入满意度。"),
    )
    return redirect(f"{url}?period={month:%Y-%m}")


@login_required
@require_POST
def recompute(request: HttpRequest, pk: int) -> HttpResponse:
    u = selectors.unit_get_for(viewer=request.user, pk=pk)
    url = reverse("assessment:unit", args=[u.pk])
    try:
        period = parse(request.POST.get("period"))
    except DomainError as exc:
        from django.contrib import messages

        messages.error(request, str(exc.message))
        return redirect(url)
    run_service(
        request,
        lambda: services.snapshot_recompute(
            actor=request.user, community=u, period=period, reason=request.POST.get("reason", "")
        ),
        _("已按现行权重重新计算，原结果保留为历史版本。"),
    )
    return redirect(f"{url}?period={period.key}")


def definitions(request: HttpRequest) -> HttpResponse:
    """The published definitions and the platform default weights (public)."""
    return render(
        request,
        "assessment/definitions.html",
        {
            "definitions": indicators.DEFINITIONS,
            "version": indicators.DEFINITIONS_VERSION,
            "default": services.default_weights() if request.method == "GET" else None,
            "within_days": indicators.PUBLISH_WITHIN_DAYS,
        },
    )


def public_home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope.community_id:
        return public_card(request, scope.community_id)
    communities = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMUNITY).order_by("path")[:500])
    return render(request, "assessment/public_home.html", {"communities": communities})


def public_card(request: HttpRequest, pk: int) -> HttpResponse:
    """A community's published result: no login, no personal data, no free text."""
    community = OrgUnit.objects.filter(pk=pk, kind=OrgUnit.Kind.COMMUNITY).first()
    if community is None:
        raise NotFound()
    period, error = _period(request)
    card = selectors.public_card_for(community=community, period=period) if period else None
    return render(
        request,
        "assessment/public_card.html",
        {
            "community": community,
            "period": period,
            "error": error,
            "card": card,
            "definitions": [d for d in indicators.DEFINITIONS],
            "periods": _periods_menu(),
        },
        status=400 if error else 200,
    )
