"""Simple line icons for the home tiles, drawn as inline SVG (24 × 24, stroke only), so
tiles need no emoji font — which many phones and servers lack — and no two tiles show
the same badge. Keyed by the emoji an app declares as its ``NavItem.icon``."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

PATHS: dict[str, str] = {
    # resident home
    "📷": '<path d="M3 8h4l2-3h6l2 3h4v11H3z"/><circle cx="12" cy="13" r="4"/>',
    "📢": '<path d="M3 10v4h4l8 5V5l-8 5z"/><path d="M18 9a4 4 0 0 1 0 6"/>',
    "📋": '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 3h6v3H9zM8 11h8M8 15h6"/>',
    "🗣️": '<path d="M4 5h16v10H10l-5 4v-4H4z"/><path d="M8 9h8M8 12h5"/>',
    "✅": '<circle cx="12" cy="12" r="9"/><path d="M8 12l3 3 5-6"/>',
    "🗳️": '<path d="M3 12h18v9H3z"/><path d="M7 12V3h10v9"/><path d="M9.5 7.5l2 2 3.5-4"/>',
    "🪙": '<circle cx="12" cy="12" r="9"/><circle cx="12" cy="12" r="5"/>',
    "⏳": '<path d="M6 3h12M6 21h12M7 3v3l5 6 5-6V3M7 21v-3l5-6 5 6v3"/>',
    "🎁": '<rect x="3" y="9" width="18" height="12" rx="1"/><path d="M3 13h18M12 9v12"/>'
    '<path d="M12 9c-2-4-6-4-6-2s4 2 6 2c2 0 6 0 6-2s-4-2-6 2"/>',
    "🙋": '<path d="M12 20s-8-5-8-11a4.5 4.5 0 0 1 8-2.8A4.5 4.5 0 0 1 20 9c0 6-8 11-8 11z"/>',
    "🪜": '<path d="M8 3L5 21M16 3l3 18M7.3 8h9.4M6.6 13h10.8M5.8 18h12.4"/>',
    "🧰": '<rect x="3" y="8" width="18" height="12" rx="1"/><path d="M9 8V5h6v3M3 13h18M12 12v3"/>',
    "🏅": '<circle cx="12" cy="15" r="5"/><path d="M8 3l4 7 4-7M12 13v4"/>',
    "🔒": '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/>',
    # staff workbench
    "🗂": '<path d="M3 6h6l2 2h10v11H3z"/><path d="M3 11h18"/>',
    "☎": '<path d="M5 4h4l2 5-3 2a11 11 0 0 0 5 5l2-3 5 2v4a2 2 0 0 1-2 2'
    'A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"/>',
    "📈": '<path d="M3 3v18h18"/><path d="M7 15l4-4 3 3 6-7"/>',
    "📇": '<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="11" r="2"/>'
    '<path d="M6 16c1-2 5-2 6 0M14 10h4M14 14h4"/>',
    "📥": '<path d="M12 3v11M7 9l5 5 5-5M4 16v4h16v-4"/>',
    "🔐": '<rect x="5" y="11" width="14" height="10" rx="2"/>'
    '<path d="M8 11V8a4 4 0 0 1 8 0v3M12 15v2"/>',
    "📅": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>',
    "👥": '<circle cx="9" cy="8" r="3"/>'
    '<path d="M3 20v-1a6 6 0 0 1 12 0v1M16 5a3 3 0 0 1 0 6M18 14a5 5 0 0 1 3 5v1"/>',
    "🎓": '<path d="M2 9l10-5 10 5-10 5z"/><path d="M6 11v5c3 2 9 2 12 0v-5"/>',
    "📒": '<path d="M6 3h12a1 1 0 0 1 1 1v17H7a2 2 0 0 1-2-2V4a1 1 0 0 1 1-1z"/>'
    '<path d="M9 7h6M9 11h6"/>',
    "📐": '<path d="M3 21L21 3v18z"/><path d="M9 16h6v-6"/>',
    # the capabilities added together in one session (projects, care, mediation, …)
    "🛠": '<path d="M14 6a4 4 0 0 0 5 5l-9 9a2 2 0 0 1-3-3z"/><path d="M4 4l5 5M3 6l3-3"/>',
    "🏗": '<path d="M4 21V8l8-5 8 5v13"/><path d="M9 21v-6h6v6M4 11h16"/>',
    "🏠": '<path d="M3 11l9-8 9 8"/><path d="M5 10v11h14V10M10 21v-6h4v6"/>',
    "🧓": '<circle cx="10" cy="5" r="2.5"/><path d="M10 8v7l-3 6M10 15l3 6M7 11h6"/>'
    '<path d="M16 10v11"/><path d="M16 10a2 2 0 0 1 3 0"/>',
    "🤝": '<path d="M2 12l4-4 4 2 4-2 4 2 4 4"/><path d="M6 8l6 6a1.5 1.5 0 0 0 2-2l-3-3"/>'
    '<path d="M9 15l2 2M7 13l2 2M2 12l5 5"/>',
    "⚖": '<path d="M12 3v18M7 21h10M4 7h16"/>'
    '<path d="M6 7l-3 6a3 3 0 0 0 6 0zM18 7l-3 6a3 3 0 0 0 6 0z"/>',
    "📊": '<path d="M4 20h16"/><rect x="5" y="11" width="3" height="9"/><rect x="10.5" y="6" '
    'width="3" height="14"/><rect x="16" y="14" width="3" height="6"/>',
    "📝": '<path d="M5 3h10l4 4v14H5z"/><path d="M15 3v4h4M8 11h8M8 15h5"/>',
    "🌟": '<path d="M12 3l2.6 5.6 6 .7-4.5 4.1 1.2 6L12 16.4 6.7 19.4l1.2-6L3.4 9.3l6-.7z"/>',
    # 社区考核结果 (the residents' public card): a report card with a tick
    "🧾": '<rect x="5" y="3" width="14" height="18" rx="2"/><path d="M8 7h8M8 11h5"/>'
    '<path d="M9 16l2 2 4-4"/>',
    # 物业红黑榜: a trophy
    "🏆": '<path d="M8 4h8v5a4 4 0 0 1-8 0z"/><path d="M8 6H5a3 3 0 0 0 3 4M16 6h3a3 3 0 0 1-3 4"/>'
    '<path d="M12 13v4M8 21h8M9 17h6v4H9z"/>',
    "🏢": '<rect x="4" y="3" width="12" height="18"/><path d="M16 9h4v12h-4M8 7h4M8 11h4'
    'M8 15h4M9 21v-3h2v3"/>',
}


def svg_for(emoji: str) -> SafeString | None:
    path = PATHS.get(emoji) or PATHS.get(emoji.rstrip("\ufe0f"))
    if path is None:
        return None
    return format_html(
        '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" '
        'stroke-linejoin="round" aria-hidden="true" focusable="false">{}</svg>',
        mark_safe(path),  # noqa: S308  (constant markup defined above)
    )
