"""Roster pages for staff: list, detail with sensitive-field reveal, import, export,
and the secretary's sensitive-data grants."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, SpecialGroup
from linli.communities.permissions import ROSTER_EDIT_ROLES, can_edit_resident, manages_community
from linli.communities.selectors import communities_for, resident_get_for, resident_list_for
from linli.communities.services import sensitive_read
from linli.core.errors import NotFound, ValidationFailed
from linli.core.web import int_or_none as _int_or_none


@login_required
def resident_list(request: HttpRequest) -> HttpResponse:
    if not scope_of(request.user).is_staff:
        raise NotFound()
    community_id = _int_or_none(request.GET.get("community"))
    query = request.GET.get("q", "").strip()[:40]
    tag = request.GET.get("tag", "")
    if tag not in SpecialGroup.values:
        tag = ""
    qs = resident_list_for(viewer=request.user, community_id=community_id, query=query, tag=tag)
    community = (
        OrgUnit.objects.filter(pk=community_id, kind="community").first() if community_id else None
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "communities/resident_list.html",
        {
            "page": page,
            "communities": communities_for(viewer=request.user),
            "community_id": community_id,
            "q": query,
            "tag": tag,
            "tags": SpecialGroup.choices,
            "can_manage": community is not None and manages_community(request.user, community),
            "can_import": scope_of(request.user).has_role(*ROSTER_EDIT_ROLES),
        },
    )


@login_required
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resident = resident_get_for(viewer=request.user, pk=pk)
    return render(
        request,
        "communities/resident_detail.html",
        {
            "r": resident,
            "tag_labels": dict(SpecialGroup.choices),
            "can_edit": can_edit_resident(request.user, resident),
            "revealed": {},
        },
    )


@login_required
@require_POST
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one sensitive field under a grant; the read is logged in the audit chain."""
    resident = resident_get_for(viewer=request.user, pk=pk)
    field = request.POST.get("field", "")
    if field not in {"phone", "id_number", "medical", "financial"}:
        raise ValidationFailed(_("未知的敏感字段。"))
    value = sensitive_read(actor=request.user, resident=resident, field=field)
    labels = dict(SpecialGroup.choices)
    if isinstance(value, list):
        value = "、".join(str(labels.get(v, v)) for v in value) or _("无")
    context = {
        "r": resident,
        "tag_labels": labels,
        "can_edit": can_edit_resident(request.user, resident),
        "revealed": {field: value},
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "communities/_partials/revealed.html", {"field": field, "value": value}
        )
    return render(request, "communities/resident_detail.html", context)


@login_required
def roster_home(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("请选择社区。"))
    return redirect("communities:resident_list")
