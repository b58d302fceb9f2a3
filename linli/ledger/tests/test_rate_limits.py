"""Finding 3 of issue 9: earning claims are rate limited per user (429 + Retry-After,
nothing written)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from linli.core import ratelimit
from linli.ledger.models import EarningClaim

pytestmark = pytest.mark.django_db

T0 = 1_772_442_010.0  # ten seconds into a minute


@pytest.fixture
def clock() -> Iterator[list[float]]:
    now = [T0]
    with ratelimit.use_clock(lambda: now[0]):
        yield now


def test_claim_flood_gets_429(client: Any, world: Any, rules: Any, clock: list[float]) -> None:
    client.force_login(world.user("resident"))
    data = {"kind": "garbage_sorting", "service_date": timezone.localdate().isoformat()}
    for _ in range(5):
        assert client.post("/ledger/claims/new/", data).status_code == 302
    r = client.post("/ledger/claims/new/", data)
    assert r.status_code == 429 and r["Retry-After"] == "50"
    assert EarningClaim.objects.count() == 5
