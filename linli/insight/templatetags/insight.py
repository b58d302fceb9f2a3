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


# A discussion this long is worth a summary for the 审议 step.
SUMMARY_MIN_COMMENTS = 5


@register.inclusion_tag("insight/_discussion_summary.html")
def insight_discussion(topic: Any) -> dict[str, Any]:
    """Points for and against in a topic's 商议 comments (shown to reviewers, who
    read the comments anyway)."""
    from linli.insight.summaries import summarize_discussion

    rows = list(topic.comments.values_list("author_id", "body"))
    if len(rows) < SUMMARY_MIN_COMMENTS:
        return {"s": None}
    return {"s": summarize_discussion(rows)}


@register.filter
def insight_summary(text: str, max_chars: int = 80) -> str:
    """A long request description cut to the sentences that carry the problem."""
    from linli.insight.summaries import summarize_text

    return summarize_text(text or "", max_chars=int(max_chars))
