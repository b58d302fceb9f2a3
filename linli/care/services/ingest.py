"""Sensor intake: one service behind the HTTP endpoint and the MQTT bridge.

A request is signed by its sender — a device posting its own readings, or a gateway
posting for the devices registered behind it — with the sender's secret:
``X-Device: <serial>``, ``X-Timestamp: <unix seconds>``, ``X-Signature: hex
HMAC-SHA256(secret, "<timestamp>.<raw body>")``. Refused, with nothing written: an
unknown or disabled sender, a bad signature, a timestamp outside ±``WINDOW`` (stale or
future-dated request), the same signed request twice (replay), more than ``MAX_BATCH``
readings, a reading for a device not behind the sender, a reading dated in the future
or older than ``MAX_AGE``.

Accepted readings go in with one ``INSERT … ON CONFLICT DO NOTHING`` per batch: a
reading already stored (same device and time, or same event id) is counted as a
duplicate, never stored twice, whatever order readings arrive in. Then the arrival
rules run on what was new (see :func:`arrival`); the INSERT hands the new rows back
(``RETURNING``) only when the batch holds something for them to judge."""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.care import rules as care_rules
from linli.care.models import (
    OPEN_STATES,
    Alert,
    CareSettings,
    CareSubject,
    Device,
    DeviceKind,
    Reading,
)
from linli.care.services.alerts import raise_alert, subjects_for_households
from linli.care.services.devices import device_secret, sign
from linli.core import ratelimit
from linli.core.errors import Conflict, DomainError, ValidationFailed

ratelimit.LIMITS.setdefault(
    "care.ingest", {"key": ratelimit.Limit(per_minute=600, per_day=100_000)}
)

WINDOW = timedelta(minutes=5)
MAX_BATCH = 1000
MAX_BODY = 256 * 1024
MAX_AGE = timedelta(days=7)
# The natural event of each device kind; every kind may also send "beat" (heartbeat).
NATURAL = {
    DeviceKind.WATER_METER: "meter",
    DeviceKind.SMOKE: "smoke",
    DeviceKind.SOS: "sos",
    DeviceKind.DOOR: "door",
    DeviceKind.MOTION: "motion",
}
# History the water rules need on arrival (high use compares with the past week).
HISTORY = timedelta(days=8, hours=2)


class DeviceRefused(DomainError):
    code = "device_unauthenticated"
    status = 401
    default_message = _("设备认证失败。")


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    status = 413
    default_message = _("一次最多上传 1000 条读数。")


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    alerts: list[int] = field(default_factory=list)


def _parse_at(raw: Any) -> datetime:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(float(raw), tz=UTC)
    if isinstance(raw, str):
        at = datetime.fromisoformat(raw)  # Python ≥ 3.11 also reads a trailing "Z"
        if at.tzinfo is None:
            raise ValueError
        return at
    raise ValueError


def authenticate(
    *, sender: str, timestamp: str, signature: str, body: bytes, now: datetime
) -> Device:
    """The signing device, or a refusal (401, 409 for a replay, 413 for a body over
    the limit)."""
    if len(body) > MAX_BODY:
        raise BatchTooLarge()
    device = Device.objects.filter(serial=(sender or "")[:40], is_active=True).first()
    if device is None:
        raise DeviceRefused(_("未知或已停用的设备。"), code="unknown_device")
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise DeviceRefused(_("缺少或无效的时间戳。"), code="bad_timestamp") from None
    sent = datetime.fromtimestamp(ts, tz=UTC)
    expected = sign(device_secret(device), str(ts), body)
    given = (signature or "").strip().lower().encode("utf-8", "ignore")
    if not hmac.compare_digest(expected.encode(), given):
        raise DeviceRefused(_("签名校验失败。"), code="bad_signature")
    if sent > now + WINDOW:
        raise DeviceRefused(_("请求时间晚于服务器时间，请校准设备时钟。"), code="future_timestamp")
    if sent < now - WINDOW:
        raise DeviceRefused(
            _("请求已过期（超出5分钟有效期），请重新签名发送。"), code="stale_timestamp"
        )
    # The same signed request twice inside the window is a replay: refused (a reading
    # that arrives again in a new request is a duplicate, counted and skipped).
    if not cache.add(
        f"care:sig:{device.pk}:{expected}", 1, timeout=int(WINDOW.total_seconds()) * 2 + 60
    ):
        raise Conflict(_("重复的请求（重放），已拒绝。"), code="replayed")
    return device


def ingest(
    *, sender: str, timestamp: str, signature: str, body: bytes, now: datetime | None = None
) -> IngestResult:
    now = now or timezone.now()
    holder = authenticate(
        sender=sender, timestamp=timestamp, signature=signature, body=body, now=now
    )
    ratelimit.check("care.ingest", key=holder.serial)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_("请求体不是有效的 JSON。")) from None
    items = data.get("readings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValidationFailed(_("缺少 readings 列表。"), field="readings")
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(
            _("一次最多上传 %(max)d 条读数，本次 %(n)d 条。") % {"max": MAX_BATCH, "n": len(items)}
        )
    return store(holder=holder, items=items, now=now)


class Dev(NamedTuple):
    """The columns of a device the intake needs (no model instances on the hot path),
    and whether someone in its household is on the care roster."""

    pk: int
    serial: str
    community_id: int
    household_id: int | None
    kind: str
    gateway_id: int | None
    watched: bool


def _any(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column`` in ``values``: one array parameter on PostgreSQL (binding 1 000
    placeholders costs more than the query itself), a placeholder list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%b)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _cursor() -> Any:
    """A cursor for the hot statements. On PostgreSQL it binds on the server and the
    arrays (``%b``) travel in binary, where Django's default client-side binding would
    quote and escape 3 000 values into the SQL text. Still Django's cursor wrapper, so
    the statements are logged and counted like any other."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY  # results too: no text parsing of 1 000 times
    # Wrapped exactly as Django wraps its own cursors (query log, execute wrappers).
    django_connection: Any = connection
    return django_connection._prepare_cursor(raw)  # noqa: SLF001


def _devices(serials: set[str], holder: Device) -> list[Dev]:
    """The batch's devices behind ``holder`` with their roster flag: one query."""
    if not serials:
        return []
    qn = connection.ops.quote_name
    where, params = _any("d.serial", sorted(serials))
    sql = (
        "SELECT d.id, d.serial, d.community_id, d.household_id, d.kind, d.gateway_id, "  # noqa: S608
        "CASE WHEN d.household_id IS NOT NULL AND EXISTS ("
        f"SELECT 1 FROM {qn(CareSubject._meta.db_table)} s "
        "WHERE s.household_id = d.household_id AND s.is_active) THEN 1 ELSE 0 END "
        f"FROM {qn(Device._meta.db_table)} d "
        f"WHERE {where} AND d.is_active AND (d.id = %s OR d.gateway_id = %s)"
    )
    with _cursor() as cur:
        cur.execute(sql, [*params, holder.pk, holder.pk])
        return [Dev(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in cur.fetchall()]


def store(*, holder: Device, items: list[Any], now: datetime) -> IngestResult:
    """Validate every reading first (one bad reading refuses the batch, nothing
    written), then insert, then run the arrival rules. A constant number of statements
    whatever the batch size: the devices (one query), the readings (one INSERT), and
    only when the arrival rules have something to look at, one query each for the
    roster, the settings and the readings' windows (see :func:`arrival`)."""
    serials = {str(i.get("device", "")) for i in items if isinstance(i, dict)}
    devices = {d.serial: d for d in _devices(serials, holder)}
    natural = {k.value: v for k, v in NATURAL.items()}
    latest, earliest = now + WINDOW, now - MAX_AGE
    # A gateway stamps a whole round of readings with the same time: parse it once.
    times: dict[Any, datetime] = {}
    rows: dict[tuple[int, datetime], tuple[Dev, datetime, int, str, str]] = {}
    # Whether any reading is for the arrival rules (an alarm, or a meter of a roster
    # household): only then does the INSERT hand back the new rows.
    judge = False
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed(_("第 %(n)d 条读数格式有误。") % {"n": n + 1}, field="readings")
        device = devices.get(str(item.get("device", "")))
        if device is None or device.kind not in natural:
            raise ValidationFailed(
                _("第 %(n)d 条读数的设备未登记或不属于该网关。") % {"n": n + 1},
                code="unknown_device",
                field="readings",
            )
        raw_at = item.get("at")
        at = times.get(raw_at) if isinstance(raw_at, str) else None
        if at is None:
            try:
                at = _parse_at(raw_at)
            except (ValueError, OverflowError, OSError):
                raise ValidationFailed(
                    _("第 %(n)d 条读数的时间无效（须为带时区的 ISO 8601 或 Unix 秒）。")
                    % {"n": n + 1},
                    field="readings",
                ) from None
            if isinstance(raw_at, str):
                times[raw_at] = at
        if at > latest:
            raise ValidationFailed(
                _("第 %(n)d 条读数的时间晚于现在，已拒绝整批。") % {"n": n + 1},
                code="future_reading",
                field="readings",
            )
        if at < earliest:
            raise ValidationFailed(
                _("第 %(n)d 条读数早于7天前，已拒绝整批。") % {"n": n + 1},
                code="stale_reading",
                field="readings",
            )
        own = natural[device.kind]
        kind = str(item.get("kind") or own)
        if kind != own and kind != "beat":
            raise ValidationFailed(
                _("第 %(n)d 条读数的类型与设备不符。") % {"n": n + 1}, field="readings"
            )
        value = 1
        if kind == "meter":
            raw = item.get("value")
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw < 10**7:
                raise ValidationFailed(
                    _("第 %(n)d 条水表读数无效（立方米，非负数）。") % {"n": n + 1},
                    field="readings",
                )
            value = round(raw * 1000)
            judge = judge or device.watched
        elif kind != "beat":
            judge = judge or kind in ("smoke", "sos")
        event_id = str(item.get("event_id") or "")[:40]
        rows.setdefault((device.pk, at), (device, at, value, kind, event_id))
    result = IngestResult(duplicates=len(items) - len(rows))
    stored, new = _insert(list(rows.values()), returning=judge)
    result.accepted = stored
    result.duplicates += len(rows) - stored
    result.alerts = arrival(new, now=now)
    return result


def _insert(
    rows: list[tuple[Dev, datetime, int, str, str]], *, returning: bool
) -> tuple[int, list[tuple[Dev, care_rules.Point]]]:
    """One INSERT … ON CONFLICT DO NOTHING for the batch: a reading already stored is
    skipped, never stored twice. On PostgreSQL the rows
    travel as six arrays (``unnest``), not 6 × 1 000 placeholders. One statement is
    atomic by itself (all rows or none), so no transaction is opened around it: that
    saves the BEGIN and COMMIT round trips on the busiest write. Returns how many rows
    were new and, with ``returning`` (the arrival rules have something to judge), the
    new points themselves; otherwise the row count is enough and nothing comes back."""
    if not rows:
        return 0, []
    # In index order: neighbouring entries of the (device, time) index are then
    # touched together instead of 500 random leaf pages in arrival order.
    rows = sorted(rows, key=lambda r: (r[0].pk, r[1]))
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    table = qn(Reading._meta.db_table)
    cols = f"community_id, device_id, {qn('at')}, {qn('value')}, kind, event_id"
    params: list[Any]
    if connection.vendor == "postgresql":
        params = [
            [r[0].community_id for r in rows],
            [r[0].pk for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            [r[4] for r in rows],
        ]
        source = (
            "SELECT * FROM unnest(%b::integer[], %b::bigint[], %b::timestamptz[], "
            "%b::bigint[], %b::text[], %b::text[])"
        )
    else:
        params = [
            v for r in rows for v in (r[0].community_id, r[0].pk, adapt(r[1]), r[2], r[3], r[4])
        ]
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = f"INSERT INTO {table} ({cols}) {source} ON CONFLICT DO NOTHING"  # noqa: S608
    if not returning:
        with _cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount, []
    index = {(row[0].pk, adapt(row[1])): row for row in rows}
    out: list[tuple[Dev, care_rules.Point]] = []
    with _cursor() as cur:
        cur.execute(f"{sql} RETURNING id, device_id, {qn('at')}", params)
        stored_rows = cur.fetchall()
    for pk, device_id, stored in stored_rows:
        hit = index.get((device_id, stored))
        if hit is None and isinstance(stored, datetime):
            hit = index.get((device_id, adapt(stored)))
        if hit is None:
            continue
        device, at, value, kind, _e = hit
        out.append((device, care_rules.Point(pk, at, value, kind)))
    return len(stored_rows), out


def _windows(device_ids: list[int], now: datetime) -> dict[int, list[care_rules.Point]]:
    """The meter readings the water rules need (the last ``HISTORY``) for many
    devices: one query on the (device, at) index."""
    out: dict[int, list[care_rules.Point]] = defaultdict(list)
    if not device_ids:
        return out
    qn = connection.ops.quote_name
    where, params = _any("device_id", sorted(device_ids))
    sql = (
        f"SELECT id, {qn('at')}, {qn('value')}, kind, device_id "  # noqa: S608
        f"FROM {qn(Reading._meta.db_table)} "
        f"WHERE {where} AND {qn('at')} >= %s AND kind = 'meter' "
        f"ORDER BY device_id, {qn('at')}"
    )
    with _cursor() as cur:
        cur.execute(sql, [*params, connection.ops.adapt_datetimefield_value(now - HISTORY)])
        for pk, at, value, kind, device_id in cur.fetchall():
            if not isinstance(at, datetime):  # SQLite may hand back text
                at = datetime.fromisoformat(str(at))
            if at.tzinfo is None:  # SQLite stores UTC without an offset
                at = at.replace(tzinfo=UTC)
            out[device_id].append(care_rules.Point(pk, at, value, kind))
    return out


def arrival(new: list[tuple[Dev, care_rules.Point]], *, now: datetime) -> list[int]:
    """The rules that run as readings arrive: smoke and SOS at once for every
    household; the water rules for households with someone on the care roster (every
    meter is also covered by the periodic sweep). Returns the alerts opened.

    The whole batch is judged in memory: one query for the roster subjects of the
    households concerned, one for their communities' settings, one for the windows of
    the watched meters, one for the alerts already open — and none of them when the
    batch holds no alarm and no meter of a roster household. Only opening an alert
    writes (its own governed write), and a storm adds to the open alert's count."""
    by_device: dict[int, list[care_rules.Point]] = defaultdict(list)
    devices: dict[int, Dev] = {}
    for device, p in new:
        by_device[device.pk].append(p)
        devices[device.pk] = device
    alarms = {
        pk for pk, points in by_device.items() if any(p.kind in ("smoke", "sos") for p in points)
    }
    water = {
        pk
        for pk, points in by_device.items()
        if devices[pk].watched and any(p.kind == "meter" for p in points)
    }
    judged = alarms | water
    if not judged:
        return []
    households = {devices[pk].household_id for pk in judged if devices[pk].household_id}
    subjects = subjects_for_households({h for h in households if h is not None})
    communities = {devices[pk].community_id for pk in judged}
    found = {s.community_id: s for s in CareSettings.objects.filter(community_id__in=communities)}
    base = {
        cid: care_rules.thresholds_of(found.get(cid) or CareSettings(community_id=cid))
        for cid in communities
    }
    windows = _windows(sorted(water), now)
    verdicts: list[tuple[int, care_rules.Verdict, CareSubject | None]] = []
    for pk in sorted(judged):
        device = devices[pk]
        subject = subjects.get((device.community_id, device.household_id or 0))
        thresholds = base[device.community_id]
        if subject is not None:
            thresholds = thresholds.with_overrides(subject.overrides)
        points = by_device[pk]
        for kind in ("smoke", "sos"):
            if pk in alarms and kind not in thresholds.off:
                v = care_rules.alarm(points, kind)
                if v is not None:
                    verdicts.append((pk, v, subject))
        if pk in water:
            series = windows.get(pk, [])
            for v in care_rules.meter_verdicts(series, now=now, t=thresholds, care=True):
                verdicts.append((pk, v, subject))
    if not verdicts:
        return []
    concerned = sorted({pk for pk, _v, _s in verdicts})
    already = set(
        Alert.objects.filter(device_id__in=concerned, status__in=OPEN_STATES).values_list(
            "device_id", "rule"
        )
    )
    rows = Device.objects.in_bulk(
        sorted({pk for pk, v, _s in verdicts if (pk, v.rule) not in already})
    )
    opened: list[int] = []
    for pk, v, subject in verdicts:
        # Every press counts (the evidence keeps at most EVIDENCE_MAX of them).
        alarm_count = (
            sum(1 for p in by_device[pk] if p.kind == v.rule) if v.rule in ("smoke", "sos") else 0
        )
        if (pk, v.rule) in already:
            # One alert per device and rule while it is open: a storm only counts.
            if alarm_count:
                Alert.objects.filter(device_id=pk, rule=v.rule, status__in=OPEN_STATES).update(
                    repeats=F("repeats") + alarm_count
                )
            continue
        alert = raise_alert(
            device=rows[pk], verdict=v, subject=subject, now=now, repeats=alarm_count
        )
        if alert is not None:
            opened.append(alert.pk)
    return opened
