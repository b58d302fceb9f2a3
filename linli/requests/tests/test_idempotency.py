"""Finding 12 of issue 9: creates honour an Idempotency-Key (API, Open311) and a
one-time form key (pages): a replay returns the first request — same status and body —
and never makes a second row, audit event or notification."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from linli.core.models import AuditEvent
from linli.core.notify import MemorySender
from linli.requests.models import ServiceRequest
from linli.requests.services import open311_client_issue

pytestmark = pytest.mark.django_db


def _api(client: Any, world: Any, key: str, text: str = "1幢楼道灯坏了，晚上很黑") -> Any:
    return client.post(
        "/api/v1/requests/",
        json.dumps(
            {"category": "fac-light", "description": text, "building_id": world.building.pk}
        ),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_api_replay_returns_the_first_request(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    first = _api(client, world, "k-2026-0001")
    assert first.status_code == 201, first.content
    events, sent = AuditEvent.objects.count(), len(MemorySender.outbox)
    again = _api(client, world, "k-2026-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert ServiceRequest.objects.count() == 1
    assert AuditEvent.objects.count() == events and len(MemorySender.outbox) == sent
    assert _api(client, world, "k-2026-0002").json()["id"] != first.json()["id"]
    assert ServiceRequest.objects.count() == 2


def test_someone_elses_key_is_refused_and_reveals_nothing(
    client: Any, world: Any, cats: Any
) -> None:
    client.force_login(world.user("resident"))
    first = _api(client, world, "shared-key")
    client.force_login(world.user("neighbour"))
    r = _api(client, world, "shared-key", "邻居的诉求：2幢门口积水")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"
    assert "id" not in r.json() and first.json()["description"] not in r.content.decode()
    assert ServiceRequest.objects.count() == 1


def test_malformed_key_is_refused(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    assert _api(client, world, "x" * 65).status_code == 400
    assert ServiceRequest.objects.count() == 0


def test_form_double_submit_makes_one_request(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    page = client.get("/requests/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert key, "the report form carries a one-time key"
    data = {
        "category": cats["fac-light"].pk,
        "building": world.building.pk,
        "description": "1幢二单元楼道灯坏了一周",
        "confirm_new": "1",  # a double click on "submit anyway" below the similar ones
        "idempotency_key": key.group(1),
    }
    one = client.post("/requests/new/", data)
    two = client.post("/requests/new/", data)
    req = ServiceRequest.objects.get()
    assert one.status_code == two.status_code == 302
    assert one["Location"] == two["Location"] == f"/requests/{req.pk}/"


def test_open311_replay_with_header(client: Any, world: Any, cats: Any) -> None:
    _c, key = open311_client_issue(
        actor=world.user("secretary"), name="市民通 App", community=world.community
    )
    payload = {
        "api_key": key,
        "service_code": "fac-light",
        "lat": "30.300100",
        "long": "120.100050",
        "description": "1幢门口路灯不亮了",
    }
    url = "/open311/v2/requests.json"
    one = client.post(url, payload, headers={"Idempotency-Key": "partner-77"})
    two = client.post(url, payload, headers={"Idempotency-Key": "partner-77"})
    assert one.status_code == two.status_code == 201
    assert one.json()[0]["service_request_id"] == two.json()[0]["service_request_id"]
    assert ServiceRequest.objects.count() == 1
