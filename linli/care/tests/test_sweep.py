"""The periodic sweep on a fixed clock: planted leaks and silent meters are found,
no others; care households get the care rules; a silent meter that reports again
closes its own maintenance task."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from conftest import make_household
from linli.care import services
from linli.care.models import Alert
from linli.care.services.ingest import store
from linli.care.tests.conftest import NOW, Care

pytestmark = pytest.mark.django_db


def _day(
    serial: str, *, leak: bool = False, stop_after: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """A day of half-hourly readings ending at NOW: normal use has dry half-hours."""
    rng = random.Random(seed)
    total, out = 100_000, []
    for i in range(49):
        at = NOW - timedelta(minutes=30 * (48 - i))
        if stop_after is not None and i > stop_after:
            break
        total += rng.randint(1, 9) if leak else rng.choice([0, 0, 0, 5, 20, 40])
        out.append({"device": serial, "at": at.isoformat(), "value": total / 1000})
    return out


@pytest.fixture
def street(care: Care) -> dict[str, Any]:
    sec = care.world.user("secretary")
    meters = {}
    for i in range(12):
        hh = make_household(care.world.building2, f"3{i:02d}")
        d, _s = services.device_register(
            actor=sec,
            community=care.world.community,
            kind="water_meter",
            serial=f"WM-B{i}",
            household=hh,
            gateway=care.gateway,
            now=NOW - timedelta(days=10),
        )
        meters[d.serial] = d
    return meters


def test_sweep_finds_planted_leaks_and_silences_and_nothing_else(
    care: Care, street: dict[str, Any]
) -> None:
    items: list[dict[str, Any]] = []
    for i, serial in enumerate(street):
        items += _day(serial, leak=i in (2, 7), stop_after=20 if i in (4, 9) else None, seed=i)
    # The care household's meter: ordinary use (care rules quiet).
    items += _day("WM-101", seed=99)
    random.Random(1).shuffle(items)  # out of order
    for k in range(0, len(items), 200):
        store(holder=care.gateway, items=items[k : k + 200], now=NOW)
    res = services.sweep_rules(now=NOW)
    found = {(a.device.serial, a.rule) for a in Alert.objects.select_related("device")}
    assert found == {
        ("WM-B2", "leak"),
        ("WM-B7", "leak"),
        ("WM-B4", "silent"),
        ("WM-B9", "silent"),
        # Event devices of the fixture have never reported in 30 days.
        ("SM-101", "silent"),
        ("SOS-101", "silent"),
    }
    assert res.alerts["leak"] == 2
    leak = Alert.objects.get(device__serial="WM-B2")
    assert leak.subject is None and not leak.maintenance and len(leak.evidence) >= 48
    assert Alert.objects.get(device__serial="WM-B4").maintenance
    # A second sweep finds the same conditions and opens nothing new.
    services.sweep_rules(now=NOW + timedelta(minutes=5))
    assert Alert.objects.count() == 6
    # The silent meter reports again: its task closes itself.
    store(
        holder=care.gateway,
        items=[{"device": "WM-B4", "at": (NOW + timedelta(minutes=20)).isoformat(), "value": 200}],
        now=NOW + timedelta(minutes=21),
    )
    res = services.sweep_rules(now=NOW + timedelta(minutes=30))
    assert res.recovered == 1
    assert Alert.objects.get(device__serial="WM-B4").outcome == "recovered"


def test_sweep_care_rules_and_not_seen(care: Care) -> None:
    sec = care.world.user("secretary")
    household = care.subject.household
    door, _s = services.device_register(
        actor=sec,
        community=care.world.community,
        kind="door",
        serial="DC-101",
        household=household,
        gateway=care.gateway,
        now=NOW - timedelta(days=10),
    )
    dry = [
        {"device": "WM-101", "at": (NOW - timedelta(minutes=30 * k)).isoformat(), "value": 50.0}
        for k in range(30)
    ]
    store(
        holder=care.gateway,
        items=dry + [{"device": "DC-101", "at": (NOW - timedelta(days=4)).isoformat()}],
        now=NOW,
    )
    services.sweep_rules(now=NOW)
    rules = set(Alert.objects.values_list("rule", flat=True))
    assert {"no_water", "not_seen"} <= rules
    assert Alert.objects.get(rule="not_seen").subject_id == care.subject.pk


def test_per_resident_switch_turns_a_rule_off(care: Care) -> None:
    services.subject_update(
        actor=care.world.user("secretary"),
        subject=care.subject,
        tier="alone",
        worker=care.world.user("grid_worker"),
        overrides={"off": ["no_water"]},
    )
    dry = [
        {"device": "WM-101", "at": (NOW - timedelta(minutes=30 * k)).isoformat(), "value": 50.0}
        for k in range(30)
    ]
    store(holder=care.gateway, items=dry, now=NOW)
    services.sweep_rules(now=NOW)
    assert not Alert.objects.filter(rule="no_water").exists()
