"""The HTTP ingest endpoint: signature, replay window, refusals (nothing written),
idempotency on (device, time) and (device, event id), storms, and the arrival rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.care import services
from linli.care.models import Alert, AlertStep, Reading
from linli.care.tests.conftest import Care, meter_series, signed_post
from linli.core.notify import MemorySender

pytestmark = pytest.mark.django_db


def _now() -> datetime:
    return timezone.now().replace(microsecond=0)


def test_gateway_batch_is_stored_and_duplicates_counted(care: Care, client: Client) -> None:
    start = _now() - timedelta(hours=5)
    batch = meter_series("WM-101", start, [1000 + 10 * i for i in range(10)])
    r = signed_post(client, "GW-1", care.gateway_secret, {"readings": batch})
    assert r.status_code == 200, r.content
    assert r.json()["accepted"] == 10 and r.json()["duplicates"] == 0
    # The same readings again, out of order and with a repeat inside the batch.
    again = list(reversed(batch)) + batch[:3]
    r = signed_post(client, "GW-1", care.gateway_secret, {"readings": again})
    assert r.json() == {"accepted": 0, "duplicates": 13, "alerts": []}
    assert Reading.objects.filter(device=care.meter).count() == 10


def test_event_id_makes_a_retry_idempotent(care: Care, client: Client) -> None:
    at = _now() - timedelta(minutes=1)
    ev = {"device": "SOS-101", "at": at.isoformat(), "kind": "beat", "event_id": "e-1"}
    signed_post(client, "SOS-101", care.sos_secret, {"readings": [ev]})
    # The device re-sends the event with a different clock reading: still one row.
    ev2 = dict(ev, at=(at + timedelta(seconds=2)).isoformat())
    r = signed_post(client, "SOS-101", care.sos_secret, {"readings": [ev2]})
    assert r.json()["duplicates"] == 1
    assert Reading.objects.filter(device=care.sos).count() == 1


def _refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert r.json()["message"]
    assert Reading.objects.count() == 0


def test_bad_signature_refused(care: Care, client: Client) -> None:
    batch = meter_series("WM-101", _now() - timedelta(hours=1), [1000])
    _refused(
        signed_post(client, "GW-1", "not-the-secret", {"readings": batch}), 401, "bad_signature"
    )


def test_body_changed_after_signing_refused(care: Care, client: Client) -> None:
    batch = meter_series("WM-101", _now() - timedelta(hours=1), [1000])
    raw = json.dumps({"readings": batch}).encode()
    stamp = str(int(_now().timestamp()))
    sig = services.sign(care.gateway_secret, stamp, raw)
    tampered = raw.replace(b"1.0", b"9.0")
    r = client.post(
        "/api/v1/care/ingest",
        data=tampered,
        content_type="application/json",
        headers={"X-Device": "GW-1", "X-Timestamp": stamp, "X-Signature": sig},
    )
    _refused(r, 401, "bad_signature")


def test_stale_and_future_dated_requests_refused(care: Care, client: Client) -> None:
    batch = {"readings": meter_series("WM-101", _now() - timedelta(hours=1), [1000])}
    old = int((_now() - timedelta(minutes=6)).timestamp())
    _refused(
        signed_post(client, "GW-1", care.gateway_secret, batch, ts=old), 401, "stale_timestamp"
    )
    future = int((_now() + timedelta(minutes=6)).timestamp())
    _refused(
        signed_post(client, "GW-1", care.gateway_secret, batch, ts=future), 401, "future_timestamp"
    )


def test_replayed_request_refused(care: Care, client: Client) -> None:
    batch = {"readings": meter_series("WM-101", _now() - timedelta(hours=1), [1000])}
    ts = int(_now().timestamp())
    assert signed_post(client, "GW-1", care.gateway_secret, batch, ts=ts).status_code == 200
    r = signed_post(client, "GW-1", care.gateway_secret, batch, ts=ts)
    assert r.status_code == 409 and r.json()["code"] == "replayed"
    assert Reading.objects.count() == 1


def test_future_dated_reading_refuses_the_whole_batch(care: Care, client: Client) -> None:
    batch = meter_series("WM-101", _now() - timedelta(hours=1), [1000, 1001])
    batch.append(
        {"device": "WM-101", "at": (_now() + timedelta(hours=1)).isoformat(), "value": 1.002}
    )
    _refused(
        signed_post(client, "GW-1", care.gateway_secret, {"readings": batch}), 400, "future_reading"
    )


def test_unknown_sender_and_unknown_device_refused(care: Care, client: Client) -> None:
    batch = {"readings": meter_series("WM-101", _now() - timedelta(hours=1), [1000])}
    _refused(signed_post(client, "GW-404", care.gateway_secret, batch), 401, "unknown_device")
    stray = {"readings": meter_series("WM-999", _now() - timedelta(hours=1), [1000])}
    _refused(signed_post(client, "GW-1", care.gateway_secret, stray), 400, "unknown_device")
    # A device may post only its own readings, not another household device's.
    _refused(signed_post(client, "SOS-101", care.sos_secret, batch), 400, "unknown_device")


def test_disabled_device_refused(care: Care, client: Client) -> None:
    services.device_set_active(
        actor=care.world.user("secretary"), device=care.gateway, active=False
    )
    batch = {"readings": meter_series("WM-101", _now() - timedelta(hours=1), [1000])}
    _refused(signed_post(client, "GW-1", care.gateway_secret, batch), 401, "unknown_device")


def test_over_size_batch_refused(care: Care, client: Client) -> None:
    start = _now() - timedelta(days=6)
    batch = meter_series("WM-101", start, list(range(1001)), step=timedelta(minutes=5))
    r = signed_post(client, "GW-1", care.gateway_secret, {"readings": batch})
    _refused(r, 413, "batch_too_large")
    assert "1000" in r.json()["message"]


def test_rotated_secret_stops_the_old_one(care: Care, client: Client) -> None:
    new = services.device_rotate(actor=care.world.user("secretary"), device=care.gateway)
    batch = {"readings": meter_series("WM-101", _now() - timedelta(hours=1), [1000])}
    _refused(signed_post(client, "GW-1", care.gateway_secret, batch), 401, "bad_signature")
    assert signed_post(client, "GW-1", new, batch).status_code == 200


def test_sos_storm_makes_one_alert(
    care: Care, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    MemorySender.outbox.clear()
    base = _now() - timedelta(minutes=2)
    for burst in range(3):
        events = [
            {"device": "SOS-101", "at": (base + timedelta(seconds=burst * 40 + i)).isoformat()}
            for i in range(30)
        ]
        with django_capture_on_commit_callbacks(execute=True):
            r = signed_post(client, "SOS-101", care.sos_secret, {"readings": events})
        assert r.status_code == 200
    alerts = Alert.objects.filter(device=care.sos, rule="sos")
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.repeats == 60 and len(alert.evidence) == 30
    assert alert.subject_id == care.subject.pk
    # The grid worker's ladder step and the family SMS went out once.
    assert AlertStep.objects.filter(alert=alert).count() == 1
    family = [m for m in MemorySender.outbox if m.to == "13900001111"]
    assert len(family) == 1


def test_no_water_on_arrival_for_a_care_household(care: Care, client: Client) -> None:
    start = _now() - timedelta(hours=13)
    batch = meter_series("WM-101", start, [1000] * 26 + [1004])
    r = signed_post(client, "GW-1", care.gateway_secret, {"readings": batch})
    assert r.status_code == 200
    alert = Alert.objects.get(rule="no_water")
    assert r.json()["alerts"] == [alert.pk]
    assert alert.subject_id == care.subject.pk and alert.status == "open"
    ids = {e["id"] for e in alert.evidence}
    assert ids <= set(Reading.objects.values_list("id", flat=True)) and len(ids) >= 2


def test_away_household_alert_is_held_not_dropped(care: Care, client: Client) -> None:
    services.away_set(
        actor=care.world.user("resident"),
        subject=care.subject,
        until=_now() + timedelta(days=5),
        reason="住院",
    )
    MemorySender.outbox.clear()
    start = _now() - timedelta(hours=13)
    signed_post(
        client,
        "GW-1",
        care.gateway_secret,
        {"readings": meter_series("WM-101", start, [1000] * 27)},
    )
    alert = Alert.objects.get(rule="no_water")
    assert alert.status == "held" and alert.ack_due_at is None
    assert not AlertStep.objects.exists() and MemorySender.outbox == []
    # A smoke alarm is never held: neighbours are at risk too.
    smoke = {"device": "SM-101", "at": _now().isoformat()}
    signed_post(client, "GW-1", care.gateway_secret, {"readings": [smoke]})
    assert Alert.objects.get(rule="smoke").status == "open"


def test_epoch_timestamps_and_heartbeats(care: Care, client: Client) -> None:
    at = int((_now() - timedelta(minutes=3)).timestamp())
    r = signed_post(
        client,
        "GW-1",
        care.gateway_secret,
        {"readings": [{"device": "SM-101", "at": at, "kind": "beat"}]},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert not Alert.objects.exists()
    bad = {"readings": [{"device": "SM-101", "at": at, "kind": "meter", "value": 1}]}
    r = signed_post(client, "GW-1", care.gateway_secret, bad)
    assert r.status_code == 400


def test_ingest_is_in_the_openapi_document(client: Client, db: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/care/ingest"]["post"]
    names = {p["name"] for p in op["parameters"]}
    assert {"X-Device", "X-Timestamp", "X-Signature"} <= names
    assert "HMAC" in op["description"]


def test_fixed_clock_service_call(care: Care) -> None:
    """The service takes the clock: a replay window judged against ``now``."""
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    raw = json.dumps(
        {"readings": meter_series("WM-101", now - timedelta(hours=1), [5, 6])}
    ).encode()
    stamp = str(int(now.timestamp()))
    r = services.ingest(
        sender="GW-1",
        timestamp=stamp,
        signature=services.sign(care.gateway_secret, stamp, raw),
        body=raw,
        now=now,
    )
    assert r.accepted == 2


def _meters(care: Care, prefix: str, n: int, *, watched: bool) -> list[str]:
    """``n`` water meters behind GW-1: in 张三's household (on the care roster, so the
    water rules run on arrival) or each in an ordinary household of 2幢."""
    from conftest import make_household

    serials = []
    for i in range(n):
        household = (
            care.meter.household
            if watched
            else make_household(care.world.building2, f"{prefix}{i:02d}")
        )
        services.device_register(
            actor=care.world.user("secretary"),
            community=care.world.community,
            kind="water_meter",
            serial=f"WM-{prefix}{i}",
            household=household,
            gateway=care.gateway,
        )
        serials.append(f"WM-{prefix}{i}")
    return serials


def _ingest_counted(care: Care, readings: list[dict[str, Any]]) -> tuple[Any, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    raw = json.dumps({"readings": readings}).encode()
    stamp = str(int(_now().timestamp()))
    with CaptureQueriesContext(connection) as ctx:
        r = services.ingest(
            sender="GW-1",
            timestamp=stamp,
            signature=services.sign(care.gateway_secret, stamp, raw),
            body=raw,
        )
    return r, len(ctx.captured_queries)


def _day_of(serials: list[str], per: int, first: int = 0) -> list[dict[str, Any]]:
    """``per`` readings of each meter, every 5 minutes, steady use (no rule fires)."""
    start = _now() - timedelta(hours=40) + timedelta(minutes=5 * first)
    step = timedelta(minutes=5)
    return [
        r
        for k, s in enumerate(serials)
        for r in meter_series(s, start, [1000 * k + 7 * i for i in range(per)], step=step)
    ]


def test_statement_budget_of_a_1000_reading_batch(care: Care) -> None:
    """A full gateway batch costs the same few statements whatever its size and however
    many devices it spans: ordinary households — sender, devices (with the roster flag),
    one INSERT; with meters of roster households the arrival rules add one query each
    for the subjects, the settings and the readings' windows, never one per device."""
    plain = _meters(care, "P", 20, watched=False)
    watched = _meters(care, "W", 20, watched=True)

    r, n = _ingest_counted(care, _day_of(plain, 50))
    assert (r.accepted, r.duplicates, n) == (1000, 0, 3)
    # Half of them again (duplicates) plus 500 new: still three.
    r, n = _ingest_counted(care, _day_of(plain[:10], 50) + _day_of(plain[10:], 50, first=50))
    assert (r.accepted, r.duplicates, n) == (500, 500, 3)
    r, n = _ingest_counted(care, _day_of(plain[:4], 250, first=100))
    assert (r.accepted, n) == (1000, 3)

    # Roster households: 20 meters × 50, then 4 meters × 250 — the same six statements.
    r, n = _ingest_counted(care, _day_of(watched, 50))
    assert (r.accepted, r.alerts, n) == (1000, [], 6)
    r, n = _ingest_counted(care, _day_of(watched[:4], 250, first=50))
    assert (r.accepted, r.alerts, n) == (1000, [], 6)
    assert Reading.objects.count() == 4500


def test_statement_budget_of_an_alarm_storm(care: Care) -> None:
    """1 000 SOS presses in one batch open one alert; the next 1 000 add to its count
    (every press, not only the 60 kept as evidence) with one UPDATE — no statement per
    event."""
    base = _now() - timedelta(minutes=4)

    def presses(first: int) -> list[dict[str, Any]]:
        return [
            {
                "device": "SOS-101",
                "at": (base + timedelta(milliseconds=100 * (first + i))).isoformat(),
            }
            for i in range(1000)
        ]

    raw = json.dumps({"readings": presses(0)}).encode()
    stamp = str(int(_now().timestamp()))
    r = services.ingest(
        sender="SOS-101",
        timestamp=stamp,
        signature=services.sign(care.sos_secret, stamp, raw),
        body=raw,
    )
    assert r.accepted == 1000 and len(r.alerts) == 1
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    raw = json.dumps({"readings": presses(1000)}).encode()
    with CaptureQueriesContext(connection) as ctx:
        r = services.ingest(
            sender="SOS-101",
            timestamp=stamp,
            signature=services.sign(care.sos_secret, stamp, raw),
            body=raw,
        )
    # sender, devices, INSERT, subjects, settings, open alerts, one UPDATE of the count
    assert (r.accepted, r.alerts, len(ctx.captured_queries)) == (1000, [], 7)
    alert = Alert.objects.get(device=care.sos, rule="sos")
    assert alert.repeats == 1000 and len(alert.evidence) == 60


def test_an_alarm_at_the_end_of_an_ordinary_batch_is_judged(care: Care) -> None:
    """The INSERT hands rows back only when the batch holds something for the arrival
    rules: one smoke alarm after 999 ordinary readings still opens its alert."""
    plain = _meters(care, "S", 9, watched=False)
    readings = _day_of(plain, 111)
    readings.append({"device": "SM-101", "at": (_now() - timedelta(minutes=1)).isoformat()})
    r, n = _ingest_counted(care, readings)
    assert r.accepted == 1000 and len(r.alerts) == 1
    assert Alert.objects.get(pk=r.alerts[0]).rule == "smoke"
    # Without the alarm the same kind of batch asks nothing back and judges nothing.
    r, n = _ingest_counted(care, _day_of(plain, 111, first=111))
    assert (r.accepted, r.alerts, n) == (999, [], 3)
