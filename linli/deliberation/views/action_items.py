"""Action items of resolutions (statuses from ``states.ACTION_ITEM``) and the
monthly supervision review.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.errors import NotFound
from linli.core.web import date_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    ActionItem,
)
from linli.deliberation.permissions import (
    can_manage,
    can_supervise,
)
from linli.deliberation.states import ACTION_ITEM
from linli.deliberation.views._common import (
    _community,
)


@login_required
def actions(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    items = list(selectors.action_items_for(viewer=request.user, community=community))
    today = timezone.localdate()
    return render(
        request,
        "deliberation/actions.html",
        {
            "community": community,
            # Each item with whether it is overdue and the statuses the viewer may set
            # (the table's moves; a finished item has none).
            "items": [
                (
                    i,
                    i.status != ActionItem.Status.DONE and i.deadline < today,
                    [
                        (ACTION_ITEM[a].target, ACTION_ITEM[a].label)
                        for a in ACTION_ITEM.available(request.user, i)
                    ],
                )
                for i in items
            ],
            "reviews": selectors.supervision_reviews_for(viewer=request.user, community=community)[
                :12
            ],
            "manage": can_manage(request.user, community),
            "supervise": can_supervise(request.user, community),
            "this_month": today.replace(day=1),
        },
    )


@login_required
@require_POST
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    item = ActionItem.objects.filter(pk=pk).select_related("community").first()
    if item is None:
        raise NotFound()
    selectors.action_items_for(viewer=request.user, community=item.community)
    _attempt(
        request,
        lambda: services.action_item_update(
            actor=request.user,
            item=item,
            status=request.POST.get("status", ""),
            progress_percent=_int(request.POST.get("progress")) or 0,
            note=request.POST.get("note", ""),
        ),
        _("进展已更新。"),
    )
    return redirect(reverse("deliberation:actions") + f"?community={item.community_id}")


@login_required
@require_POST
def supervision_review(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    month = date_or_none((request.POST.get("month", "") or "") + "-01") or date.today().replace(
        day=1
    )
    _attempt(
        request,
        lambda: services.supervision_review_record(
            actor=request.user,
            community=community,
            month=month,
            summary=request.POST.get("summary", ""),
        ),
        _("月度监督评议已发布。"),
    )
    return redirect(reverse("deliberation:actions") + f"?community={community.pk}")
