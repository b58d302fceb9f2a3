"""Pages: the category suggestion while a resident types (htmx partial; the same URL
answers a plain form post with a page), and the staff correction form post."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.core.web import run_service
from linli.insight import services
from linli.insight.suggest import unit_kind_for
from linli.requests import catalog
from linli.requests.selectors import request_get_for

MAX_TEXT = 2000


@login_required
@require_POST
def suggest(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("description", "")[: MAX_TEXT + 1]
    scope = scope_of(request.user)
    pred = services.classify_for_user(
        actor=request.user, text=text, community_id=scope.community_id
    )
    cat = catalog.active_by_code(pred.category) if pred.category else None
    alts = [c for c in (catalog.active_by_code(a) for a in pred.alternatives) if c is not None]
    ctx = {
        "pred": pred,
        "cat": cat,
        "alts": alts,
        "unit_kind": unit_kind_for(pred.category),
        "typed": bool(text.strip()),
    }
    return render(request, "insight/_suggestion.html", ctx)


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    req = request_get_for(viewer=request.user, pk=pk)
    code = request.POST.get("category", "")
    reason = request.POST.get("reason", "")[:600]
    run_service(
        request,
        lambda: services.correction_record(
            actor=request.user, request=req, category_code=code, recategorise_reason=reason
        ),
        _("已记录正确类别并改类。")
        if reason.strip()
        else _("已记录正确类别，将用于改进本社区的分类建议。"),
    )
    return redirect("requests:staff_detail", pk=pk)
