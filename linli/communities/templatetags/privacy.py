"""Template side of :mod:`linli.communities.display`.

``{% load privacy %}{{ comment.author|display_name:user }}`` shows a resident (or a
user) the way the viewing ``user`` may see them.
"""

from __future__ import annotations

from typing import Any

from django import template

from linli.communities import display

register = template.Library()


@register.filter(name="display_name")
def display_name(person: Any, viewer: Any) -> str:
    return display.display_name(person, viewer=viewer)


@register.filter(name="phone_for")
def phone_for(resident: Any, viewer: Any) -> str:
    return display.phone_for(resident, viewer=viewer) if resident is not None else ""
