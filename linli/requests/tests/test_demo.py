from __future__ import annotations

from typing import Any

import pytest

from linli.core import demo as core_demo
from linli.core import ratelimit
from linli.core.audit import verify_all
from linli.requests import demo
from linli.requests.models import Open311Client, ServiceRequest
from linli.requests.services import open311_client_for_key

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    ctx = core_demo.load(households=300)
    with ratelimit.suspended():  # as seed_demo does: bulk seeding is not a user's pace
        demo.seed(ctx)
    assert ServiceRequest.objects.filter(community=ctx.main).count() >= 360
    assert {"submitted", "accepted", "resolved", "closed"} <= set(
        ServiceRequest.objects.values_list("status", flat=True)
    )
    assert open311_client_for_key(demo.DEMO_OPEN311_KEY) == Open311Client.objects.get()
    assert any(label == "Open311" for label, _l, _n in ctx.logins)
    assert verify_all().ok
    client.force_login(ctx.users["secretary"])
    assert client.get("/requests/desk/").status_code == 200
    assert client.get("/requests/desk/metrics/").status_code == 200
