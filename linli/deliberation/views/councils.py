"""The council page: members and the composition rules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.errors import NotFound
from linli.core.web import run_service as _attempt
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    Council,
    CouncilMember,
)
from linli.deliberation.permissions import (
    can_manage,
)
from linli.deliberation.views._common import (
    _community,
    _resident_in,
)


@login_required
def council_page(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    manage = can_manage(request.user, community)
    return render(
        request,
        "deliberation/council.html",
        {
            "community": community,
            "views": selectors.councils_for(viewer=request.user, community=community),
            "manage": manage,
            "settings": services.settings_for(community),
            "year": timezone.localdate().year,
        },
    )


@require_POST
def council_add(request: HttpRequest, pk: int) -> HttpResponse:
    council = Council.objects.filter(pk=pk).select_related("community").first()
    if council is None or not can_manage(request.user, council):
        raise NotFound()
    p = request.POST

    def go() -> None:
        if p.get("member_type", "resident") == "resident":
            spec = services.MemberSpec(resident=_resident_in(council.community, p.get("resident")))
        else:
            spec = services.MemberSpec(
                name=p.get("name", ""), member_type=p.get("member_type", "unit")
            )
        services.council_member_add(actor=request.user, council=council, spec=spec)

    _attempt(request, go, _("成员已加入。"))
    return redirect(reverse("deliberation:council") + f"?community={council.community_id}")


@login_required
@require_POST
def council_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = CouncilMember.objects.filter(pk=pk).select_related("council__community").first()
    if member is None or not can_manage(request.user, member.council):
        raise NotFound()
    _attempt(
        request,
        lambda: services.council_member_remove(
            actor=request.user, member=member, reason=request.POST.get("reason", "")
        ),
        _("成员已离任。"),
    )
    return redirect(reverse("deliberation:council") + f"?community={member.council.community_id}")
