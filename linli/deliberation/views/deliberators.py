"""Certified deliberators 社区议事员."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.errors import NotFound, ValidationFailed
from linli.core.web import date_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    Deliberator,
)
from linli.deliberation.permissions import (
    can_manage,
)
from linli.deliberation.views._common import (
    _community,
    _resident_in,
)


@login_required
def deliberators(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    return render(
        request,
        "deliberation/deliberators.html",
        {
            "community": community,
            "rows": selectors.deliberators_for(viewer=request.user, community=community),
            "manage": can_manage(request.user, community),
            "today": timezone.localdate(),
            "required": services.settings_for(community).practice_meetings_required,
        },
    )


@login_required
@require_POST
def deliberator_action(request: HttpRequest, pk: int) -> HttpResponse:
    d = Deliberator.objects.filter(pk=pk).select_related("community").first()
    if d is None or not can_manage(request.user, d.community):
        raise NotFound()
    p = request.POST
    what = p.get("what")
    on = date_or_none(p.get("on")) or timezone.localdate()

    def go() -> None:
        if what in ("training", "practice"):
            services.deliberator_record_activity(
                actor=request.user, deliberator=d, kind=what, on=on, note=p.get("note", "")
            )
        elif what == "certify":
            services.deliberator_certify(actor=request.user, deliberator=d)
        elif what == "assess":
            score = _int(p.get("score"))
            if score is None:
                raise ValidationFailed(_("请填写1–10的评分。"))
            services.skill_assess(
                actor=request.user, deliberator=d, score=score, on=on, note=p.get("note", "")
            )
        else:
            raise ValidationFailed(_("未知操作。"))

    _attempt(request, go, _("已记录。"))
    return redirect(reverse("deliberation:deliberators") + f"?community={d.community_id}")


@login_required
@require_POST
def deliberator_enrol(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    _attempt(
        request,
        lambda: services.deliberator_enrol(
            actor=request.user, resident=_resident_in(community, request.POST.get("resident"))
        ),
        _("已加入议事员培养名单。"),
    )
    return redirect(reverse("deliberation:deliberators") + f"?community={community.pk}")
