"""Sensor intake: one service behind the HTTP endpoint and the MQTT bridge.

A request is signed by its sender — a device posting its own readings, or a gateway
posting for the devices registered behind it — with the sender's secret:
``X-Device: <serial>``, ``X-Timestamp: <unix seconds>``, ``X-Signature: hex
HMAC-SHA256(secret, "<timestamp>.<raw body>")``. Refused, with nothing written: an
unknown or disabled sender, a bad signature, a timestamp outside ±``WINDOW`` (stale or
future-dated request), the same signed request twice (replay), more than ``MAX_BATCH``
readings, a reading for a device not behind the sender, a reading dated in the future
or older than ``MAX_AGE``.

Accepted readings go in with one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per
batch: a reading already stored (same device and time, or same event id) is counted as
a duplicate, never stored twice, whatever order readings arrive in. Then the arrival
rules run on what was new (see :func:`arrival`)."""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.care import rules as care_rules
from linli.care.models import CareSubject, Device, DeviceKind, Reading
from linli.care.services.alerts import raise_alert, subject_for_household
from linli.care.services.devices import device_secret, sign
from linli.care.services.roster import settings_for
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
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
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
    """The columns of a device the intake needs (no model instances on the hot path)."""

    pk: int
    serial: str
    community_id: int
    household_id: int | None
    kind: str
    gateway_id: int | None


def _devices(serials: set[str]) -> list[Dev]:
    cols = "id, serial, community_id, household_id, kind, gateway_id"
    if connection.vendor == "postgresql":
        # One array parameter instead of one placeholder per serial: binding 500
        # placeholders costs more than the query itself.
        table = connection.ops.quote_name(Device._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {cols} FROM {table} WHERE serial = ANY(%s) AND is_active",  # noqa: S608
                [list(serials)],
            )
            return [Dev(*r) for r in cur.fetchall()]
    return [
        Dev(*r)
        for r in Device.objects.filter(serial__in=serials, is_active=True).values_list(
            "id", "serial", "community_id", "household_id", "kind", "gateway_id"
        )
    ]


def store(*, holder: Device, items: list[Any], now: datetime) -> IngestResult:
    """Validate every reading first (one bad reading refuses the batch, nothing
    written), then insert, then run the arrival rules."""
    serials = {str(i.get("device", "")) for i in items if isinstance(i, dict)}
    devices = {
        d.serial: d for d in _devices(serials) if d.pk == holder.pk or d.gateway_id == holder.pk
    }
    rows: dict[tuple[int, datetime], tuple[Dev, datetime, int, str, str]] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed(_("第 %(n)d 条读数格式有误。") % {"n": n + 1}, field="readings")
        device = devices.get(str(item.get("device", "")))
        if device is None or device.kind == DeviceKind.GATEWAY:
            raise ValidationFailed(
                _("第 %(n)d 条读数的设备未登记或不属于该网关。") % {"n": n + 1},
                code="unknown_device",
                field="readings",
            )
        try:
            at = _parse_at(item.get("at"))
        except (ValueError, OverflowError, OSError):
            raise ValidationFailed(
                _("第 %(n)d 条读数的时间无效（须为带时区的 ISO 8601 或 Unix 秒）。") % {"n": n + 1},
                field="readings",
            ) from None
        if at > now + WINDOW:
            raise ValidationFailed(
                _("第 %(n)d 条读数的时间晚于现在，已拒绝整批。") % {"n": n + 1},
                code="future_reading",
                field="readings",
            )
        if at < now - MAX_AGE:
            raise ValidationFailed(
                _("第 %(n)d 条读数早于7天前，已拒绝整批。") % {"n": n + 1},
                code="stale_reading",
                field="readings",
            )
        kind = str(item.get("kind") or NATURAL[DeviceKind(device.kind)])
        if kind not in (NATURAL[DeviceKind(device.kind)], "beat"):
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
        event_id = str(item.get("event_id") or "")[:40]
        rows.setdefault((device.pk, at), (device, at, value, kind, event_id))
    result = IngestResult(duplicates=len(items) - len(rows))
    new = _insert(list(rows.values()))
    result.accepted = len(new)
    result.duplicates += len(rows) - len(new)
    result.alerts = arrival(new, now=now)
    return result


def _insert(rows: list[tuple[Dev, datetime, int, str, str]]) -> list[tuple[Dev, care_rules.Point]]:
    """One INSERT … ON CONFLICT DO NOTHING RETURNING for the batch; the points that
    were new (a reading already stored comes back as nothing). On PostgreSQL the rows
    travel as six arrays (``unnest``), not 6 × 1 000 placeholders."""
    if not rows:
        return []
    # In index order: neighbouring entries of the (device, time) index are then
    # touched together instead of 500 random leaf pages in arrival order.
    rows = sorted(rows, key=lambda r: (r[0].pk, r[1]))
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    table = qn(Reading._meta.db_table)
    cols = f"community_id, device_id, {qn('at')}, {qn('value')}, kind, event_id"
    index: dict[tuple[int, Any], tuple[Dev, datetime, int, str, str]] = {}
    for row in rows:
        index[(row[0].pk, adapt(row[1]))] = row
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
            "SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::timestamptz[], "
            "%s::bigint[], %s::text[], %s::text[])"
        )
    else:
        params = [
            v for r in rows for v in (r[0].community_id, r[0].pk, adapt(r[1]), r[2], r[3], r[4])
        ]
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({cols}) {source} "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING id, device_id, {qn('at')}"
    )
    out: list[tuple[Dev, care_rules.Point]] = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        for pk, device_id, stored in cur.fetchall():
            hit = index.get((device_id, stored))
            if hit is None and isinstance(stored, datetime):
                hit = index.get((device_id, adapt(stored)))
            if hit is None:
                continue
            device, at, value, kind, _e = hit
            out.append((device, care_rules.Point(pk, at, value, kind)))
    return out


def arrival(new: list[tuple[Dev, care_rules.Point]], *, now: datetime) -> list[int]:
    """The rules that run as readings arrive: smoke and SOS at once for every
    household; the water rules for households with someone on the care roster (every
    meter is also covered by the periodic sweep). Returns the alerts opened."""
    if not new:
        return []
    by_device: dict[int, list[care_rules.Point]] = defaultdict(list)
    devices: dict[int, Dev] = {}
    for device, p in new:
        by_device[device.pk].append(p)
        devices[device.pk] = device
    households = {d.household_id for d in devices.values() if d.household_id}
    watched = set(
        CareSubject.objects.filter(household_id__in=households, is_active=True).values_list(
            "household_id", flat=True
        )
    )
    opened: list[int] = []
    for pk, points in by_device.items():
        device = devices[pk]
        kinds = {p.kind for p in points}
        verdicts: list[care_rules.Verdict] = []
        thresholds: care_rules.Thresholds | None = None
        subject: CareSubject | None = None
        if kinds & {"smoke", "sos"} or (device.household_id in watched and "meter" in kinds):
            subject = subject_for_household(device.household_id or 0, device.community_id)
            thresholds = care_rules.thresholds_of(settings_for(device.community_id))
            if subject is not None:
                thresholds = thresholds.with_overrides(subject.overrides)
        assert thresholds is not None or not (kinds & {"smoke", "sos"})
        for kind in ("smoke", "sos"):
            if kind in kinds and thresholds is not None and kind not in thresholds.off:
                v = care_rules.alarm(points, kind)
                if v is not None:
                    verdicts.append(v)
        if device.household_id in watched and "meter" in kinds and thresholds is not None:
            history = [
                care_rules.Point(*row)
                for row in Reading.objects.filter(
                    device_id=pk, at__gte=now - HISTORY, kind="meter"
                ).values_list("id", "at", "value", "kind")
            ]
            verdicts += care_rules.meter_verdicts(history, now=now, t=thresholds, care=True)
        row = Device.objects.get(pk=pk) if verdicts else None
        for v in verdicts:
            assert row is not None
            alarm_count = len(v.evidence) if v.rule in ("smoke", "sos") else 0
            alert = raise_alert(
                device=row, verdict=v, subject=subject, now=now, repeats=alarm_count
            )
            if alert is not None:
                opened.append(alert.pk)
    return opened
