"""``{% insight_triage r %}``: the suggestion panel on the staff request page (one
line in the requests template; the panel's data come from insight's selector)."""

from __future__ import annotations

from typing import Any

from django import template

from linli.insight.selectors import triage_for

register = template.Library()


@register.inclusion_tag("insight/_triage.html", takes_context=True)
def insight_triage(context: dict[str, Any], req: Any) -> dict[str, Any]:
    request = context["request"]
    return {"t": triage_for(viewer=request.user, req=req), "r": req, "request": request}
