"""``{% mediation_request_link r %}``: on a request's staff page, the one-step
"转为调解案件" button — shown only for 邻里纠纷 requests and only to staff who may open
a case in the request's community; once the request is a case, a link to it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("mediation/_partials/request_link.html", takes_context=True)
def mediation_request_link(context: Any, req: Any) -> dict[str, Any]:
    from linli.mediation.permissions import can_open_case
    from linli.mediation.services import case_for_request, is_dispute_request

    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        req is not None
        and user is not None
        and is_dispute_request(req)
        and can_open_case(user, req.community_id)
    )
    return {"show": show, "r": req, "case": case_for_request(req) if show else None}
