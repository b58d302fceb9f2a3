"""The grid worker's one-tap actions on a queue card: the request state machine's
available actions (受理 / 开始处理), so a button shows only when the viewer may use it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

ONE_TAP = ("accept", "start")


@register.simple_tag(takes_context=True)
def one_tap_actions(context: dict[str, Any], req: Any) -> list[tuple[str, str]]:
    """``[(action, label)]`` among 受理 / 开始处理 that the viewer may run on ``req`` now."""
    from linli.requests.states import machine

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [(a, str(machine.table[a].label)) for a in machine.available(user, req, among=ONE_TAP)]
