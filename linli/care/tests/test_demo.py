"""The demo shows care in use: a roster with visits (some overdue), devices, readings
and the alerts they raise (open SOS, no water, a leak, a held alarm, resolved ones)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from linli.care import demo
from linli.care.models import Alert, CareSubject, Reading, Visit
from linli.core import demo as core_demo
from linli.core.audit import verify_all

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    ctx = core_demo.load(households=300)
    t0 = time.perf_counter()
    demo.seed(ctx)
    took = time.perf_counter() - t0
    assert CareSubject.objects.filter(community=ctx.main).count() >= 5
    assert Visit.objects.exists() and Reading.objects.count() > 200
    rules = set(Alert.objects.values_list("rule", "status"))
    assert ("sos", "open") in rules and ("no_water", "open") in rules and ("leak", "open") in rules
    assert ("no_water", "held") in rules
    assert ("smoke", "resolved") in rules
    assert verify_all().ok
    client.force_login(ctx.users["grid_worker"])
    body = client.get("/care/").content.decode()
    assert "一键呼救" in body
    assert took < 10  # ~1–2 s on an idle machine; generous for a loaded CI box
