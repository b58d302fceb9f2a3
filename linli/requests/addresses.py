"""Chinese building addresses: one key for the many ways a building is written.

Residents, hotline staff and third-party apps write the same building as "1幢", "1栋",
"1号楼", "1座", "一号楼", "１号楼" (full-width), "第一栋", "1-2-301" (楼-单元-室), often
with the community's name in front and the unit (单元) and room (室) after it. Staff
name buildings one way ("1幢"). :func:`building_key` reduces both sides to the same key
("1"; a lettered block "A座" → "A"), so matching does not depend on the writing.

Pure functions (no database): :func:`match_building` takes the candidate buildings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol

_CN_DIGITS = "零〇一二两三四五六七八九十百"
_NUM = rf"(?:\d+|[{_CN_DIGITS}]+)"
# "第3栋", "3 号 楼", "十二幢", "A座": a number or one latin letter, then a marker.
# "号" alone (a street number, "阳光路18号") is only a building when a 单元 follows;
# "楼" alone is usually a floor ("3楼") and is not a building marker.
_BUILDING = re.compile(
    rf"(?:第\s*)?(?P<n>{_NUM}|[A-Z])\s*(?:(?P<m>号\s*楼|号\s*栋|号\s*幢|号\s*座|栋|幢|座)"
    rf"|号(?=\s*{_NUM}\s*单元))"
)
# "1-2-301" / "1－2－301" (楼-单元-室) and "1-301" (楼-室).
_DASHED = re.compile(r"(?<![\d.\-])(?P<n>\d{1,3})\s*-\s*\d{1,2}(?:\s*-\s*\d{2,5})?(?![\d.\-])")
# "Building 5", "Bldg. 5", "Block 5".
_LATIN = re.compile(r"\b(?:building|bldg\.?|block|blk\.?)\s*(?P<n>\d+|[A-Z])\b", re.IGNORECASE)
# Unit and room parts: "2单元", "二单元", "301室", "301房", "5层", "5楼" after a unit.
_UNIT_ROOM = re.compile(
    rf"{_NUM}\s*单元|\d+\s*(?:室|房|号房)|{_NUM}\s*层|(?<=单元)\s*\d+\s*楼?\s*\d*\s*(?:室|房)?"
)

_CN_VALUES = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def normalise(text: str) -> str:
    """Full-width letters, digits and spaces to ASCII (NFKC), dashes unified, spaces
    collapsed, latin letters upper-cased."""
    s = unicodedata.normalize("NFKC", text or "")
    s = re.sub(r"[‐‑‒–—―－]", "-", s)
    return re.sub(r"\s+", " ", s).strip().upper()


def chinese_number(raw: str) -> int | None:
    """'十二' → 12, '二十一' → 21, '一百零五' → 105, '一二' → 12 (digit by digit);
    Arabic digits pass through. None when it is not a number."""
    if raw.isdigit():
        return int(raw)
    if not raw or any(ch not in _CN_DIGITS for ch in raw):
        return None
    if "十" not in raw and "百" not in raw:
        return int("".join(str(_CN_VALUES[ch]) for ch in raw))
    total, current = 0, 0
    for ch in raw:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_VALUES[ch]
    return total + current


def _key_of(raw: str) -> str | None:
    if len(raw) == 1 and "A" <= raw <= "Z":
        return raw
    n = chinese_number(raw)
    return str(n) if n is not None else None


def strip_noise(text: str, community_names: Iterable[str] = ()) -> str:
    """The address without the community's name and without unit/room parts."""
    s = normalise(text)
    for name in community_names:
        name = normalise(name)
        if name:
            s = s.replace(name, " ")
    s = _UNIT_ROOM.sub(" ", s)
    return re.sub(r"\s+", " ", s).strip()


def building_key(text: str, community_names: Iterable[str] = ()) -> str | None:
    """The building an address or a building name refers to, as a key ("1", "12", "A"),
    or None when it names no building in a known way."""
    s = normalise(text)
    for name in community_names:
        name = normalise(name)
        if name:
            s = s.replace(name, " ")
    m = _BUILDING.search(s)
    if m:
        return _key_of(m.group("n"))
    m = _DASHED.search(s) or _LATIN.search(s)
    if m:
        return _key_of(m.group("n").upper())
    # A bare number ("3") or letter is a building name only when nothing else is there.
    bare = strip_noise(s)
    if re.fullmatch(r"\d{1,3}|[A-Z]", bare):
        return _key_of(bare)
    return None


def name_variants(text: str) -> list[str]:
    """The usual ways of writing the building ``text`` names ("1号楼" → "1幢", "1栋",
    "1号楼", "一号楼", …): for a plain ``name__in`` filter in SQL. Empty when ``text``
    names no building."""
    key = building_key(text)
    if key is None:
        return []
    out = [f"{key}{suffix}" for suffix in ("幢", "栋", "号楼", "座", "号", "")]
    if key.isdigit():
        cn = _to_chinese(int(key))
        out += [f"{cn}{suffix}" for suffix in ("幢", "栋", "号楼", "座")]
    out += [f"第{v}" for v in list(out) if v and not v.startswith("第")]
    return list(dict.fromkeys(out))


def _to_chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


class _Named(Protocol):
    name: str
    address: str


def match_building[B: _Named](
    text: str, buildings: Sequence[B], community_names: Iterable[str] = ()
) -> B | None:
    """The building ``text`` refers to among ``buildings`` (one community's), or None.

    In order: the exact name or address; the same building key ("1号楼2单元" ↔ "1幢");
    a building whose full name appears in the text (names that follow no pattern,
    e.g. "综合楼"), longest name first."""
    names = list(community_names)
    raw = normalise(text)
    if not raw:
        return None
    for b in buildings:
        if raw in (normalise(b.name), normalise(b.address)):
            return b
    key = building_key(raw, names)
    if key is not None:
        same = [b for b in buildings if building_key(b.name) == key]
        if len(same) == 1:
            return same[0]
        if same:
            return None  # ambiguous: two buildings share a key; let staff decide
    cleaned = strip_noise(raw, names)
    for b in sorted(buildings, key=lambda b: -len(b.name or "")):
        name = normalise(b.name)
        if name and building_key(name) is None and name in cleaned:
            return b
    return None
