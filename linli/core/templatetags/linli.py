from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from linli.core import nav
from linli.core.idempotency import FIELD, new_key
from linli.core.masking import mask_id_number, mask_name, mask_phone

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_items(context: dict[str, Any], audience: str) -> list[nav.NavItem]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return nav.items_for(audience, user)


register.filter("mask_phone", mask_phone)
register.filter("mask_id", mask_id_number)
register.filter("mask_name", mask_name)


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, key) if mapping else key


@register.filter
def icon_char(label: Any) -> str:
    """The tile's badge: the label's first meaningful character (我的诉求 → 诉), so tiles
    need no emoji font, which many phones and servers lack."""
    text = str(label)
    for ch in text:
        if ch not in "我的是 ":
            return ch.upper()
    return text[:1]


@register.simple_tag
def nav_icon(item: nav.NavItem) -> str:
    """The tile's icon: the app's icon drawn as inline SVG, else the label's character."""
    from linli.core.icons import svg_for

    return svg_for(item.icon) or icon_char(item.label)


@register.simple_tag
def idempotency_field() -> str:
    """A hidden one-time key for a create form: a double submit or a retried post of
    the same page makes one record (see ``linli.core.idempotency``)."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_key())


@register.filter(name="friendly_due")
def friendly_due_filter(value: Any) -> str:
    """A resident-facing deadline as a local day: ``12月7日前`` (see ``core.dates``)."""
    from linli.core.dates import friendly_due

    return friendly_due(value)


@register.filter
def sys_label(value: Any) -> str:
    """A label the system itself defines (a starter category, 同意/反对/弃权) in the
    reader's language; anything else (staff- or resident-written) is shown as it is."""
    from django.utils.translation import gettext

    text = str(value) if value is not None else ""
    return gettext(text) if text else text
