"""Demo for 阳光社区: the newest open requests get their category suggestion (what
the triage panel shows), and the community worker records a few corrections through
the service — the start of the history a community model is retrained from."""

from __future__ import annotations

from linli.accounts.models import Role
from linli.core.demo import DemoContext
from linli.insight.services import correction_record, suggestion_for
from linli.requests.models import OPEN_STATUSES, ServiceRequest

SUGGESTED = 12
CORRECTED = 4


def seed(ctx: DemoContext) -> None:
    worker = ctx.users[Role.COMMUNITY_WORKER]
    reqs = list(
        ServiceRequest.objects.filter(community=ctx.main, status__in=list(OPEN_STATUSES))
        .select_related("category", "community")
        .order_by("-created_at", "-id")[:SUGGESTED]
    )
    done = 0
    for req in reqs:
        sug = suggestion_for(req)
        if done < CORRECTED and sug.category_code:
            # The worker confirms or corrects: the request's own category is the label
            # (the demo texts were written for their categories).
            correction_record(actor=worker, request=req, category_code=req.category.code)
            done += 1
