"""Finding 12 of issue 9: an earning claim honours the form's one-time key and the
API's Idempotency-Key: a double submit makes one claim."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.utils import timezone

from linli.ledger.models import EarningClaim

pytestmark = pytest.mark.django_db


def test_claim_form_double_submit_makes_one_claim(client: Any, world: Any, rules: Any) -> None:
    client.force_login(world.user("resident"))
    page = client.get("/ledger/timebank/?q=ABCD").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert key, "the claim form carries a one-time key"
    data = {
        "kind": "garbage_sorting",
        "service_date": timezone.localdate().isoformat(),
        "idempotency_key": key.group(1),
    }
    client.post("/ledger/claims/new/", data)
    client.post("/ledger/claims/new/", data)
    assert EarningClaim.objects.count() == 1


def test_claim_api_replay(client: Any, world: Any, rules: Any) -> None:
    client.force_login(world.user("resident"))

    def post() -> Any:
        return client.post(
            "/api/v1/ledger/claims",
            json.dumps(
                {"kind": "garbage_sorting", "service_date": timezone.localdate().isoformat()}
            ),
            content_type="application/json",
            headers={"Idempotency-Key": "claim-1"},
        )

    one, two = post(), post()
    assert one.status_code == two.status_code == 201, one.content
    assert one.json() == two.json()
    assert EarningClaim.objects.count() == 1
