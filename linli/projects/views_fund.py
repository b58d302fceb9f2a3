"""Community fund pages: the public list of movements (donor names only with consent,
no receipts), staff forms for income and expenses with the second approval, and the
quarterly disclosure 财务公示 as a page, an A4 PDF and an Excel workbook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound
from linli.core.exports import xlsx_response
from linli.core.web import int_or_none
from linli.core.web import run_service as attempt
from linli.projects.models import BudgetLine, FundMovement, MicroProject
from linli.projects.permissions import MANAGE_ROLES, community_ids, manages
from linli.projects.services import fund


def _community(pk: int) -> OrgUnit:
    c = OrgUnit.objects.filter(pk=pk, kind="community").first()
    if c is None:
        raise NotFound()
    return c


def fund_public(request: HttpRequest, community: int) -> HttpResponse:
    """Anyone: every posted income and expense of a community's fund."""
    c = _community(community)
    moves = list(
        FundMovement.objects.filter(community_id=c.pk, status=FundMovement.Status.POSTED)
        .select_related("budget_line__project")
        .order_by("-posted_at", "-id")[:500]
    )
    f, _o, _e = fund.fund_accounts(c.pk)
    now = timezone.localtime()
    quarters = []
    y, q = now.year, (now.month - 1) // 3 + 1
    for _i in range(4):
        q -= 1
        if q == 0:
            y, q = y - 1, 4
        quarters.append((y, q))
    return render(
        request,
        "projects/fund_public.html",
        {
            "c": c,
            "moves": moves,
            "balance": f.balance,
            "quarters": quarters,
            "staff": request.user.is_authenticated and manages(request.user, c),
        },
    )


@login_required
def fund_manage(request: HttpRequest, community: int) -> HttpResponse:
    c = _community(community)
    if not manages(request.user, c):
        raise NotFound()
    post = request.POST if request.method == "POST" else None
    if post is not None:
        op = post.get("op")
        if op == "income":
            ok = attempt(
                request,
                lambda: fund.fund_income(
                    actor=request.user,
                    community=c,
                    source=post.get("source", ""),
                    amount_yuan=post.get("amount", ""),
                    memo=post.get("memo", ""),
                    donor_name=post.get("donor_name", ""),
                    donor_consent=post.get("donor_consent") == "1",
                    idempotency_key=idempotency.from_request(request),
                ),
                _("收入已入账。"),
            )
        elif op == "expense":
            line = (
                BudgetLine.objects.filter(community_id=c.pk, pk=int_or_none(post.get("line")) or 0)
                .select_related("project")
                .first()
            )
            if line is None:
                raise NotFound()
            ok = attempt(
                request,
                lambda: fund.fund_expense(
                    actor=request.user,
                    line=line,
                    amount_yuan=post.get("amount", ""),
                    memo=post.get("memo", ""),
                    receipt=request.FILES.get("receipt"),
                    idempotency_key=idempotency.from_request(request),
                ),
                _("支出已记录（超过门槛的须第二人审批后入账）。"),
            )
        else:
            ok = False
        if ok:
            return redirect("projects:fund_manage", community=c.pk)
    lines = [
        (line, fund.line_left(line))
        for line in BudgetLine.objects.filter(
            community_id=c.pk, project__status=MicroProject.Status.FILED
        ).select_related("project")
    ]
    pending = list(
        FundMovement.objects.filter(
            community_id=c.pk, status=FundMovement.Status.PENDING
        ).select_related("budget_line__project", "recorded_by")
    )
    return render(
        request,
        "projects/fund_manage.html",
        {
            "c": c,
            "lines": lines,
            "pending": pending,
            "sources": [s for s in FundMovement.Source.choices if s[0] in fund.INCOME_SOURCES],
            "threshold": fund.settings_for(c.pk).dual_approval_fen,
            "receipts": list(
                FundMovement.objects.filter(community_id=c.pk)
                .exclude(receipt="")
                .order_by("-id")[:50]
            ),
        },
    )


@login_required
@require_POST
def fund_approve(request: HttpRequest, pk: int) -> HttpResponse:
    ids = community_ids(request.user, MANAGE_ROLES)
    mv = FundMovement.objects.filter(pk=pk, community_id__in=sorted(ids)).first()
    if mv is None:
        raise NotFound()
    approve = request.POST.get("approve") == "1"
    attempt(
        request,
        lambda: fund.fund_expense_approve(
            actor=request.user, movement=mv, approve=approve, reason=request.POST.get("reason", "")
        ),
        _("已审批。"),
    )
    return redirect("projects:fund_manage", community=mv.community_id)


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A receipt: staff of the community only (the public sees totals)."""
    from django.http import FileResponse

    mv = FundMovement.objects.filter(pk=pk).exclude(receipt="").first()
    if mv is None or not manages(request.user, mv):
        raise NotFound()
    return FileResponse(mv.receipt.open("rb"))


def _disclosure(
    request: HttpRequest, community: int, year: int, quarter: int, *, with_movements: bool = False
) -> fund.Disclosure:
    c = _community(community)
    try:
        return fund.disclosure(
            community=c, year=year, quarter=quarter, with_movements=with_movements
        )
    except DomainError as exc:
        if exc.code == "quarter_not_ended":
            raise
        raise NotFound() from exc


def disclosure_page(request: HttpRequest, community: int, year: int, quarter: int) -> HttpResponse:
    try:
        d = _disclosure(request, community, year, quarter)
    except DomainError as exc:
        return render(
            request, "projects/disclosure_refused.html", {"message": str(exc.message)}, status=400
        )
    return render(request, "projects/disclosure.html", {"d": d, "print": False})


def disclosure_pdf(request: HttpRequest, community: int, year: int, quarter: int) -> HttpResponse:
    try:
        d = _disclosure(request, community, year, quarter)
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(
        render_pdf(d),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="fund-{year}Q{quarter}.pdf"'},
    )


def render_pdf(d: fund.Disclosure) -> bytes:
    """The disclosure as an A4 PDF for the notice board (WeasyPrint)."""
    from weasyprint import HTML

    html = render_to_string("projects/disclosure_print.html", {"d": d})
    return bytes(HTML(string=html).write_pdf())


def disclosure_xlsx(request: HttpRequest, community: int, year: int, quarter: int) -> HttpResponse:
    try:
        d = _disclosure(request, community, year, quarter, with_movements=True)
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=400, content_type="text/plain; charset=utf-8")
    return xlsx_response(disclosure_sheets(d), f"fund-{year}Q{quarter}.xlsx")


def disclosure_sheets(d: fund.Disclosure) -> list[tuple[str, list[list[Any]]]]:
    """The workbook's two sheets: the summary and every movement."""

    def yuan(fen: int) -> Decimal:
        return Decimal(fen) / 100  # exact: a Decimal, never a float

    summary: list[list[Any]] = [
        [
            _("%(c)s 社区基金 %(y)s 年第 %(q)s 季度财务公示")
            % {"c": d.community.name, "y": d.year, "q": d.quarter}
        ],
        [_("项目"), _("金额（元）")],
        [_("期初余额"), yuan(d.opening)],
    ]
    summary += [[_("收入：") + k, yuan(v)] for k, v in d.income]
    summary += [[_("支出：") + k, yuan(v)] for k, v in d.expenses]
    summary += [
        [_("期末余额"), yuan(d.closing)],
        [_("账簿余额（核对）"), yuan(d.ledger_closing)],
        [_("核对结果"), _("一致") if d.reconciles else _("不一致")],
    ]
    detail: list[list[Any]] = [[_("日期"), _("类型"), _("来源/用途"), _("摘要"), _("金额（元）")]]
    for m in d.movements:
        detail.append(
            [
                timezone.localtime(m.posted_at).strftime("%Y-%m-%d") if m.posted_at else "",
                str(m.get_kind_display()),
                str(m.get_source_display()),
                m.memo,
                yuan(m.amount_fen),
            ]
        )
    return [(str(_("财务公示")), summary), (str(_("收支明细")), detail)]
