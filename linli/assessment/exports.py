"""Reports for sending upward: an Excel workbook (one sheet per table) and an A4 PDF
(WeasyPrint) of a unit's board for a period. Both are built from the same
:class:`~linli.assessment.selectors.Board` the page shows, so they cannot disagree."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.assessment import indicators
from linli.assessment.selectors import Board, Row
from linli.core.exports import xlsx_response


def _row_cells(r: Row) -> list[Any]:
    s = r.score
    return [
        r.rank
        if r.rank is not None
        else (_("样本不足") if r.reason == "small_sample" else _("无数据")),
        r.name,
        float(s.score) if s.score is not None else "",
        float(s.ci_low) if s.ci_low is not None else "",
        float(s.ci_high) if s.ci_high is not None else "",
        s.sample,
        {"top": _("前 20%"), "bottom": _("后 10%")}.get(r.flag, ""),
        r.weights,
    ]


def _indicator_rows(b: Board) -> list[list[Any]]:
    rows: list[list[Any]] = [[_("指标"), _("分组"), _("分子"), _("分母"), _("数值"), _("定义")]]
    if b.score is None:
        return rows
    groups = {"outcome": _("结果指标"), "process": _("过程指标"), "requests": _("诉求三率")}
    for d in indicators.DEFINITIONS:
        v = b.score.values[d.key]
        rows.append(
            [
                str(d.name),
                groups[d.group],
                v.num,
                v.den,
                round(v.value * 100, 1) if v.value is not None else _("无数据"),
                f"{d.numerator} ÷ {d.denominator}",
            ]
        )
    return rows


def workbook_sheets(b: Board) -> list[tuple[str, list[list[Any]]]]:
    head = [
        _("排名"),
        _("单位"),
        _("得分"),
        _("置信下限"),
        _("置信上限"),
        _("评价样本"),
        _("标记"),
        _("权重版本"),
    ]
    summary: list[list[Any]] = [
        [_("单位"), b.unit_name],
        [_("考核期"), b.period.label],
        [
            _("综合得分"),
            float(b.score.score) if b.score and b.score.score is not None else _("无数据"),
        ],
        [_("权重版本"), "、".join(f"v{w.version}" for w in b.weights) or "—"],
        [_("指标定义版本"), indicators.DEFINITIONS_VERSION],
        [_("缺少快照的月份"), "、".join(b.months_missing) or "—"],
        [_("口径变动占比"), b.integrity_percent],
        [_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
    ]
    sheets: list[tuple[str, list[list[Any]]]] = [
        (_("概况"), summary),
        (_("指标"), _indicator_rows(b)),
    ]
    if b.children and b.children[0].kind in ("district", "street", "community"):
        sheets.append((_("下级单位"), [head, *[_row_cells(r) for r in b.children]]))
    if b.ranking:
        sheets.append((_("社区排名"), [head, *[_row_cells(r) for r in b.ranking]]))
    if b.children and b.children[0].kind in ("grid", "building"):
        sheets.append(
            (
                _("网格与楼栋"),
                [[_("名称"), _("诉求数"), _("评价数"), _("好评率")]]
                + [[r.name, r.requests, r.rated, r.good_percent] for r in b.children],
            )
        )
    sheets.append(
        (_("趋势"), [[_("月份"), _("综合得分")], *[[m, float(s) if s else ""] for m, s in b.trend]])
    )
    sheets.append((_("诉求类别"), [[_("类别"), _("诉求数")], *[list(x) for x in b.categories]]))
    sheets.append((_("办结用时"), [[_("用时"), _("件数")], *[list(x) for x in b.sla]]))
    sheets.append((_("参与漏斗"), [[_("环节"), _("人数")], *[list(x) for x in b.funnel]]))
    return sheets


def workbook_response(b: Board, filename: str) -> HttpResponse:
    return xlsx_response(workbook_sheets(b), filename)


def report_pdf(b: Board) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "assessment/report_print.html",
        {"b": b, "definitions": indicators.DEFINITIONS, "now": timezone.localtime()},
    )
    return bytes(HTML(string=html).write_pdf())
