"""Care fixtures: 张三 (独居, disabled) of 1幢 on the roster of the grid-1 worker, with a
volunteer pair, a family contact, a water meter behind a gateway, a smoke alarm and an
SOS button; and a signing client for the ingest endpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from linli.care import services
from linli.care.models import CareSubject, Device

# A fixed clock: Monday 2026-11-30 10:00 Beijing = 02:00 UTC.
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@dataclass
class Care:
    world: Any
    subject: CareSubject
    gateway: Device
    gateway_secret: str
    meter: Device
    meter_secret: str
    smoke: Device
    sos: Device
    sos_secret: str


@pytest.fixture
def care(world: Any) -> Care:
    from linli.core import ratelimit

    with ratelimit.suspended():
        subject = services.subject_enrol(
            actor=world.user("secretary"),
            resident=world.residents["resident"],
            worker=world.user("grid_worker"),
            volunteer=world.user("neighbour"),
            now=NOW,
        )
        services.contact_add(
            actor=world.user("secretary"),
            subject=subject,
            name="张小明",
            relation="儿子",
            phone="13900001111",
            consent=True,
            consent_channel="in_person",
        )
        household = world.residents["resident"].household
        gw, gw_secret = services.device_register(
            actor=world.user("secretary"),
            community=world.community,
            kind="gateway",
            serial="GW-1",
            now=NOW - timedelta(days=30),
        )
        meter, meter_secret = services.device_register(
            actor=world.user("secretary"),
            community=world.community,
            kind="water_meter",
            serial="WM-101",
            household=household,
            gateway=gw,
            now=NOW - timedelta(days=30),
        )
        smoke, _s = services.device_register(
            actor=world.user("secretary"),
            community=world.community,
            kind="smoke",
            serial="SM-101",
            household=household,
            gateway=gw,
            now=NOW - timedelta(days=30),
        )
        sos, sos_secret = services.device_register(
            actor=world.user("secretary"),
            community=world.community,
            kind="sos",
            serial="SOS-101",
            household=household,
            now=NOW - timedelta(days=30),
        )
    subject.refresh_from_db()
    return Care(world, subject, gw, gw_secret, meter, meter_secret, smoke, sos, sos_secret)


def signed_post(
    client: Client,
    sender: str,
    secret: str,
    payload: Any,
    *,
    ts: int | None = None,
    body: bytes | None = None,
) -> Any:
    raw = body if body is not None else json.dumps(payload).encode()
    stamp = str(ts if ts is not None else int(datetime.now(UTC).timestamp()))
    return client.post(
        "/api/v1/care/ingest",
        data=raw,
        content_type="application/json",
        headers={
            "X-Device": sender,
            "X-Timestamp": stamp,
            "X-Signature": services.sign(secret, stamp, raw),
        },
    )


def meter_series(
    serial: str, start: datetime, litres: list[int], *, step: timedelta = timedelta(minutes=30)
) -> list[dict[str, Any]]:
    """Readings every ``step`` from ``start`` with the given cumulative litres."""
    return [
        {"device": serial, "at": (start + i * step).isoformat(), "value": v / 1000}
        for i, v in enumerate(litres)
    ]
