"""The alarm rules, as pure functions over a device's readings (fixed clock in, verdict
out). The arrival check and the periodic sweep both call these; the sweep's SQL only
narrows which devices to look at, the verdict is always reached here.

A reading is ``Point(id, at, value, kind)``; water-meter ``value`` is the cumulative
meter index in litres, so use over an interval is the difference of two readings —
readings may arrive late or twice: they are sorted and de-duplicated by time first.

* ``no_water`` — less than ``no_water_litres`` used over the last ``no_water_hours``
  (window ending at the latest reading; a meter already silent for ``silent_hours``
  is a maintenance matter, not evidence that nobody used water).
* ``leak`` — water flowed in every half-hour for ``leak_hours``: every interval between
  consecutive readings in the window used water and none is longer than
  ``MAX_INTERVAL`` (with a longer gap we cannot say every half-hour had flow).
* ``high_use`` — the last 24 h used more than ``high_use_factor`` × the median of the
  previous days (≥ 3 days of history) and at least ``high_use_min_litres``.
* ``smoke`` / ``sos`` — an alarm event from the device.
* ``not_seen`` — no door or motion event for ``not_seen_days``.
* ``silent`` — no reading at all for ``silent_hours``: a maintenance task.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _

MAX_INTERVAL = timedelta(minutes=65)
# Event devices (smoke, SOS, door, motion) send a heartbeat at least daily.
EVENT_SILENT_HOURS = 26
EVIDENCE_MAX = 60

RULES: dict[str, Any] = {
    "no_water": _("长时间无用水"),
    "leak": _("持续流水（疑似漏水）"),
    "high_use": _("用水量异常偏高"),
    "smoke": _("烟感报警"),
    "sos": _("一键呼救"),
    "not_seen": _("多日未见活动"),
    "silent": _("设备离线"),
}
# Rules about the person: only for households with someone on the care roster.
CARE_ONLY = frozenset({"no_water", "high_use", "not_seen"})
MAINTENANCE = frozenset({"silent"})
# A held (away) household still raises these: a fire endangers the neighbours.
NEVER_HELD = frozenset({"smoke", "leak"})


class Point(NamedTuple):
    id: int
    at: datetime
    value: int
    kind: str


@dataclass(frozen=True)
class Thresholds:
    no_water_hours: int = 12
    no_water_litres: int = 10
    leak_hours: int = 24
    high_use_factor: Decimal = Decimal("3.0")
    high_use_min_litres: int = 500
    not_seen_days: int = 3
    silent_hours: int = 6
    off: frozenset[str] = field(default_factory=frozenset)

    def with_overrides(self, overrides: dict[str, Any] | None) -> Thresholds:
        """Apply a resident's own settings (validated when saved)."""
        if not overrides:
            return self
        changes: dict[str, Any] = {}
        for name in (
            "no_water_hours",
            "no_water_litres",
            "leak_hours",
            "high_use_min_litres",
            "not_seen_days",
        ):
            if name in overrides:
                changes[name] = int(overrides[name])
        if "high_use_factor" in overrides:
            changes["high_use_factor"] = Decimal(str(overrides["high_use_factor"]))
        if overrides.get("off"):
            changes["off"] = self.off | frozenset(overrides["off"])
        return replace(self, **changes)


def thresholds_of(settings_row: Any) -> Thresholds:
    return Thresholds(
        no_water_hours=settings_row.no_water_hours,
        no_water_litres=settings_row.no_water_litres,
        leak_hours=settings_row.leak_hours,
        high_use_factor=settings_row.high_use_factor,
        high_use_min_litres=settings_row.high_use_min_litres,
        not_seen_days=settings_row.not_seen_days,
        silent_hours=settings_row.silent_hours,
        off=frozenset(settings_row.rules_off or ()),
    )


@dataclass(frozen=True)
class Verdict:
    rule: str
    summary: str
    evidence: list[Point]


def series(points: Iterable[Point]) -> list[Point]:
    """Sorted by time, one point per instant (a duplicate reading counts once)."""
    seen: dict[datetime, Point] = {}
    for p in points:
        seen.setdefault(p.at, p)
    return [seen[k] for k in sorted(seen)]


def _stale(s: Sequence[Point], now: datetime, t: Thresholds) -> bool:
    """No readings, or the meter is already silent (then the silence rule speaks)."""
    return not s or now - s[-1].at >= timedelta(hours=t.silent_hours)


def _baseline(s: Sequence[Point], start: datetime) -> int | None:
    """Index of the last reading at or before ``start`` (None if the series starts
    later: not enough history to judge the window)."""
    idx = None
    for i, p in enumerate(s):
        if p.at <= start:
            idx = i
        else:
            break
    return idx


def _evidence(points: Sequence[Point]) -> list[Point]:
    if len(points) <= EVIDENCE_MAX:
        return list(points)
    return [*points[: EVIDENCE_MAX // 2], *points[-EVIDENCE_MAX // 2 :]]


def no_water(points: Iterable[Point], *, now: datetime, t: Thresholds) -> Verdict | None:
    s = series(p for p in points if p.kind == "meter")
    if _stale(s, now, t):
        return None
    last = s[-1]
    b = _baseline(s, last.at - timedelta(hours=t.no_water_hours))
    if b is None:
        return None
    used = last.value - s[b].value
    if used >= t.no_water_litres:
        return None
    return Verdict(
        "no_water",
        str(_("%(h)d 小时内用水 %(l)d 升")) % {"h": t.no_water_hours, "l": max(used, 0)},
        _evidence(s[b:]),
    )


def leak(points: Iterable[Point], *, now: datetime, t: Thresholds) -> Verdict | None:
    s = series(p for p in points if p.kind == "meter")
    if _stale(s, now, t):
        return None
    last = s[-1]
    b = _baseline(s, last.at - timedelta(hours=t.leak_hours))
    if b is None:
        return None
    window = s[b:]
    for a, c in zip(window, window[1:], strict=False):
        if c.value - a.value <= 0 or c.at - a.at > MAX_INTERVAL:
            return None
    used = last.value - window[0].value
    return Verdict(
        "leak",
        str(_("连续 %(h)d 小时每半小时都有流水，共 %(l)d 升")) % {"h": t.leak_hours, "l": used},
        _evidence(window),
    )


def high_use(points: Iterable[Point], *, now: datetime, t: Thresholds) -> Verdict | None:
    s = series(p for p in points if p.kind == "meter")
    if _stale(s, now, t):
        return None
    last = s[-1]
    day = timedelta(hours=24)
    b = _baseline(s, last.at - day)
    if b is None:
        return None
    today = last.value - s[b].value
    past: list[int] = []
    end_i = b
    for k in range(1, 8):
        start_i = _baseline(s, last.at - day * (k + 1))
        if start_i is None:
            break
        past.append(s[end_i].value - s[start_i].value)
        end_i = start_i
    if len(past) < 3:
        return None
    normal = statistics.median(past)
    if today < t.high_use_min_litres or Decimal(today) <= t.high_use_factor * Decimal(normal):
        return None
    return Verdict(
        "high_use",
        str(_("24 小时用水 %(l)d 升，平时约 %(n)d 升")) % {"l": today, "n": int(normal)},
        _evidence([s[b], last]),
    )


def alarm(points: Iterable[Point], kind: str) -> Verdict | None:
    """Smoke or SOS: the alarm events (all of them are evidence; one alert)."""
    events = series(p for p in points if p.kind == kind)
    if not events:
        return None
    label = _("烟感报警 %(n)d 次") if kind == "smoke" else _("一键呼救 %(n)d 次")
    return Verdict(kind, str(label) % {"n": len(events)}, _evidence(events))


def not_seen(
    last_event: Point | None, *, watched_since: datetime, now: datetime, t: Thresholds
) -> Verdict | None:
    """``last_event`` is the latest door/motion event of the household's sensors;
    ``watched_since`` when the first of them was registered."""
    limit = timedelta(days=t.not_seen_days)
    since = last_event.at if last_event is not None else watched_since
    if now - since < limit:
        return None
    return Verdict(
        "not_seen",
        str(_("已 %(d)d 天未检测到开门或活动")) % {"d": (now - since).days},
        [last_event] if last_event is not None else [],
    )


def silent(
    last_at: datetime | None, *, registered_at: datetime, kind: str, now: datetime, t: Thresholds
) -> Verdict | None:
    hours = t.silent_hours if kind == "water_meter" else max(t.silent_hours, EVENT_SILENT_HOURS)
    since = last_at or registered_at
    if now - since < timedelta(hours=hours):
        return None
    return Verdict(
        "silent",
        str(_("已 %(h)d 小时未收到数据")) % {"h": int((now - since).total_seconds() // 3600)},
        [],
    )


def meter_verdicts(
    points: Sequence[Point], *, now: datetime, t: Thresholds, care: bool
) -> list[Verdict]:
    """All water-meter rules that fire on this series (care rules only when someone on
    the care roster lives there; rules switched off are skipped)."""
    out: list[Verdict] = []
    checks = [("leak", leak)]
    if care:
        checks += [("no_water", no_water), ("high_use", high_use)]
    for name, fn in checks:
        if name in t.off:
            continue
        v = fn(points, now=now, t=t)
        if v is not None:
            out.append(v)
    return out


def evidence_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"id": p.id, "at": p.at.isoformat(), "value": p.value, "kind": p.kind} for p in points]
