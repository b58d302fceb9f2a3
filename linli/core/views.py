"""Shell pages: home, resident home, staff workbench, preferences, errors."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import Membership
from linli.accounts.scope import scope_of
from linli.accounts.services import preferences_update
from linli.core import nav
from linli.core.context_processors import ELDERLY_COOKIE, elderly_mode_on
from linli.core.middleware import LANGUAGE_COOKIE
from linli.core.web import int_or_none

YEAR = 365 * 24 * 3600


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    if scope_of(request.user).is_staff:
        return redirect("core:workbench")
    return redirect("core:resident_home")


@login_required
def resident_home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    resident = getattr(request.user, "resident", None) if scope.resident_id else None
    tiles = nav.tiles_for("resident", request.user)
    return render(
        request,
        "core/resident_home.html",
        {
            "resident": resident,
            # 随手拍 on top, then what waits for the resident (with counts), the main
            # tiles, and the minor ones under 更多.
            "primary": [t for t in tiles if t.item.placement == "primary"],
            "waiting": [t for t in tiles if t.count],
            "tiles": [t for t in tiles if t.item.placement == "main"],
            "more": [t for t in tiles if t.item.placement == "more"],
        },
    )


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    from linli.communities.models import OrgUnit
    from linli.communities.selectors import communities_for

    scope = scope_of(request.user)
    if not scope.is_staff:
        return redirect("core:resident_home")
    communities = list(communities_for(viewer=request.user))
    # A property company's or a department's staff hold no role in a community; they
    # serve the communities their organisation is assigned to, and work there through
    # the request queue (not the resident roster).
    org_ids = set().union(*scope.organisation_ids.values()) if scope.organisation_ids else set()
    served = (
        list(
            OrgUnit.objects.filter(kind="community", served_by__in=org_ids)
            .exclude(pk__in=[c.pk for c in communities])
            .distinct()
            .order_by("path")
        )
        if org_ids
        else []
    )
    return render(
        request,
        "core/workbench.html",
        {
            "menu": nav.items_for("staff", request.user),
            "strips": nav.strips_for(request.user),
            "communities": communities,
            "served": served,
            "memberships": Membership.objects.active()
            .filter(user=request.user)  # type: ignore[misc]
            .select_related("unit", "organisation"),
        },
    )


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return "/"
    return nxt


@require_POST
def toggle_elderly(request: HttpRequest) -> HttpResponse:
    """长辈模式 on/off; remembered on the account (or in a cookie before login)."""
    on = not elderly_mode_on(request)
    response = HttpResponseRedirect(_safe_next(request))
    if request.user.is_authenticated:
        preferences_update(user=request.user, elderly_mode=on)  # type: ignore[arg-type]
    response.set_cookie(ELDERLY_COOKIE, "1" if on else "0", max_age=YEAR, samesite="Lax")
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    lang = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request))
    if lang not in ("zh-hans", "en"):
        return response
    if request.user.is_authenticated:
        preferences_update(user=request.user, language=lang)  # type: ignore[arg-type]
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=YEAR, samesite="Lax")
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"error": {"message": _("页面已过期或请求来源无法验证，请返回后刷新页面再试。")}},
        status=403,
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": _("接口不存在。")}, status=404)
    return render(
        request,
        "core/error.html",
        {"error": {"message": _("找不到该页面，或您无权查看。")}},
        status=404,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "message": _("服务器内部错误。")}, status=500)
    return render(
        request,
        "core/error.html",
        {"error": {"message": _("服务器出错了，请稍后再试。")}},
        status=500,
    )


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


# --------------------------------------------------------------------------- audit seals

CHECKPOINTS_PER_PAGE = 50


def audit_checkpoints(request: HttpRequest) -> HttpResponse:
    """Public: the signed checkpoints of the audit log (hashes and counts only, no
    personal data), newest first, so anyone can keep an outside copy."""
    from linli.core.models import AuditCheckpoint

    page = min(max(int_or_none(request.GET.get("page")) or 1, 1), 100_000)
    qs = AuditCheckpoint.objects.order_by("-seq").defer("leaves")
    rows = list(qs[(page - 1) * CHECKPOINTS_PER_PAGE : page * CHECKPOINTS_PER_PAGE + 1])
    return render(
        request,
        "core/audit_checkpoints.html",
        {
            "checkpoints": rows[:CHECKPOINTS_PER_PAGE],
            "page": page,
            "has_next": len(rows) > CHECKPOINTS_PER_PAGE,
        },
    )


def audit_checkpoints_download(request: HttpRequest) -> StreamingHttpResponse:
    """Every checkpoint as JSON lines, oldest first: the file ``verify_audit
    --published`` reads."""
    import json

    from linli.core.audit import public_record
    from linli.core.models import AuditCheckpoint

    def lines() -> Iterator[str]:
        for cp in AuditCheckpoint.objects.order_by("seq").defer("leaves").iterator(2000):
            yield json.dumps(public_record(cp), ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="linli-audit-checkpoints.jsonl"'
    return response
