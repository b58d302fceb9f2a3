"""/api/v1/requests/ with session auth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linli.requests.models import ServiceRequest

pytestmark = pytest.mark.django_db


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def test_api_flow(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    assert any(c["code"] == "fac-light" for c in client.get("/api/v1/requests/categories").json())
    r = _post(
        client,
        "/api/v1/requests/",
        {"category": "fac-light", "description": "1幢楼道灯坏了", "building_id": world.building.pk},
    )
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert r.json()["reporter_name"] is None and r.json()["status"] == "submitted"
    dup = client.get(
        "/api/v1/requests/duplicates",
        {"description": "1幢楼道的灯坏了", "building_id": world.building.pk},
    ).json()
    assert [d["id"] for d in dup] == [rid]

    client.force_login(world.user("property"))
    assert _post(client, f"/api/v1/requests/{rid}/accept", {}).json()["status"] == "accepted"
    out = _post(client, f"/api/v1/requests/{rid}/resolve", {"resolution": "已修复"}).json()
    assert out["status"] == "resolved" and out["reporter_name"] == "张三"

    client.force_login(world.user("resident"))
    r = _post(client, f"/api/v1/requests/{rid}/rate", {"rating": 7})
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert _post(client, f"/api/v1/requests/{rid}/rate", {"rating": 4}).json()["status"] == "closed"
    d = client.get(f"/api/v1/requests/{rid}").json()
    assert [e["kind"] for e in d["timeline"]][0] == "submitted"

    client.force_login(world.user("stranger"))
    assert client.get(f"/api/v1/requests/{rid}").status_code == 404


def test_api_bad_input(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    for payload in [
        {"category": "nope", "description": "楼道灯坏了好久", "building_id": world.building.pk},
        {"category": "fac-light", "description": "", "building_id": world.building.pk},
        {"category": "fac-light", "description": "楼道灯坏了好久", "lat": 40.0, "lng": 116.0},
    ]:
        r = _post(client, "/api/v1/requests/", payload)
        assert r.status_code == 400 and r.json()["message"]
    assert ServiceRequest.objects.count() == 0
    client.logout()
    assert client.get("/api/v1/requests/mine").status_code == 401


def test_negative_offsets_are_the_first_page_not_a_crash(world) -> None:
    from django.test import Client

    c = Client()
    c.force_login(world.user("secretary"))
    r = c.get("/api/v1/requests/queue?offset=-82&limit=-5")
    assert r.status_code == 200


def test_api_merge_only_into_a_related_request(client: Any, world: Any, submit: Any) -> None:
    """The API may not merge a request into an unrelated one (other category, other
    building): the same rule as the candidates the staff page offers. Nothing changes."""
    src = submit("fac-light", "1幢楼道灯坏了，晚上很黑")
    unrelated = submit("env-garbage", "2幢门口垃圾堆了三天没人收", building=world.building2)
    related = submit("fac-light", "1幢三楼楼道灯也不亮", building=world.building2)
    client.force_login(world.user("secretary"))
    r = _post(client, f"/api/v1/requests/{src.pk}/merge", {"into": unrelated.pk})
    assert r.status_code == 400 and "同类别或同楼栋" in r.json()["message"]
    src.refresh_from_db()
    assert src.merged_into_id is None and src.status == "submitted"
    r = _post(client, f"/api/v1/requests/{src.pk}/merge", {"into": related.pk})
    assert r.status_code == 200, r.content
    src.refresh_from_db()
    assert src.merged_into_id == related.pk
