"""The JSON API: every action, idempotency keys, refusals as JSON with nothing written,
and the routes in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from linli.resources.models import Booking
from linli.resources.tests.conftest import NOW, TOMORROW, at, png

pytestmark = pytest.mark.django_db
API = "/api/v1/resources"


def client_for(world: Any, who: str) -> Client:
    c = Client()
    c.force_login(world.user(who))
    return c


def test_book_pick_up_return_through_the_api(world: Any, ladder: Any, fixed_clock: Any) -> None:
    c = client_for(world, "resident")
    found = c.get(f"{API}/?q=梯").json()
    assert [r["id"] for r in found] == [ladder.pk] and "book" in found[0]["actions"]
    cal = c.get(f"{API}/{ladder.pk}/calendar?start={TOMORROW:%Y-%m-%d}&days=7").json()
    assert len(cal) == 7 and cal[0]["free"]
    body = {
        "resource_id": ladder.pk,
        "starts_at": at(NOW.date(), 8, 15).isoformat(),
        "ends_at": at(NOW.date(), 9, 15).isoformat(),
    }
    r1 = c.post(f"{API}/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1")
    assert r1.status_code == 201, r1.content
    b = r1.json()
    assert b["status"] == "confirmed" and "check_out" in b["actions"]
    r2 = c.post(f"{API}/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1")
    assert r2.json()["id"] == b["id"] and Booking.objects.count() == 1
    clash = client_for(world, "neighbour").post(
        f"{API}/bookings", body, content_type="application/json"
    )
    assert clash.status_code == 409 and clash.json()["code"] == "overlap"
    bad_return = c.post(f"{API}/bookings/{b['id']}/return", {"condition": "good"})
    assert bad_return.status_code == 409
    out = c.post(f"{API}/bookings/{b['id']}/check-out", {"note": "完好", "photos": [png()]})
    assert out.status_code == 200 and out.json()["status"] == "checked_out"
    back = c.post(f"{API}/bookings/{b['id']}/return", {"condition": "good"})
    assert back.json()["status"] == "returned"
    assert [x["id"] for x in c.get(f"{API}/bookings/mine").json()] == [b["id"]]


def test_refusals_are_clear_json(world: Any, ladder: Any, fixed_clock: Any) -> None:
    c = client_for(world, "resident")
    late = {
        "resource_id": ladder.pk,
        "starts_at": at(TOMORROW, 6).isoformat(),
        "ends_at": at(TOMORROW, 7).isoformat(),
    }
    r = c.post(f"{API}/bookings", late, content_type="application/json")
    assert r.status_code == 400 and "不在开放时间内" in r.json()["message"]
    long = {
        **late,
        "starts_at": at(TOMORROW, 9).isoformat(),
        "ends_at": at(TOMORROW, 15).isoformat(),
    }
    r = c.post(f"{API}/bookings", long, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "too_long"
    r = client_for(world, "stranger").post(
        f"{API}/bookings",
        {**late, "starts_at": at(TOMORROW, 9).isoformat(), "ends_at": at(TOMORROW, 10).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert Booking.objects.count() == 0


def test_staff_api_series_approve_utilisation(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    staff = client_for(world, "secretary")
    created = staff.post(
        f"{API}/",
        {
            "community_id": world.community.pk,
            "kind": "venue",
            "name": "多功能厅",
            "approval_required": True,
            "max_minutes": 180,
            "hours": [{"weekday": 2, "opens": "18:00", "closes": "22:00"}],
            "idempotency_key": "res-1",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    room = created.json()["id"]
    series = {
        "resource_id": room,
        "first_date": f"{NOW.date() + timedelta(days=7):%Y-%m-%d}",
        "last_date": f"{NOW.date() + timedelta(days=35):%Y-%m-%d}",
        "start_time": "19:00",
        "end_time": "21:00",
    }
    c = client_for(world, "resident")
    report = c.post(f"{API}/series/preview", series, content_type="application/json").json()
    assert [o["status"] for o in report] == ["ok"] * 5
    made = c.post(
        f"{API}/series", {**series, "idempotency_key": "s1"}, content_type="application/json"
    )
    assert made.status_code == 201 and len(made.json()["bookings"]) == 5
    first = made.json()["bookings"][0]
    assert (
        c.post(f"{API}/bookings/{first}/approve", {}, content_type="application/json").status_code
        == 403
    )
    ok = staff.post(f"{API}/bookings/{first}/approve", {}, content_type="application/json")
    assert ok.json()["status"] == "confirmed"
    rej = staff.post(
        f"{API}/bookings/{made.json()['bookings'][1]}/reject", {}, content_type="application/json"
    )
    assert rej.status_code == 400  # a reason is required
    queue = staff.get(f"{API}/queue?community_id={world.community.pk}").json()
    assert len(queue["requested"]) == 4
    usage = staff.get(f"{API}/utilisation?community_id={world.community.pk}").json()
    assert {u["name"] for u in usage} == {"多功能厅"}
    assert c.get(f"{API}/utilisation?community_id={world.community.pk}").status_code == 404
    status = staff.post(
        f"{API}/{room}/status", {"action": "suspend"}, content_type="application/json"
    )
    assert status.json()["status"] == "suspended"


def test_openapi_lists_the_routes(world: Any) -> None:
    doc = client_for(world, "resident").get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for p in ("/bookings", "/series/preview", "/bookings/{pk}/return", "/utilisation"):
        assert f"/api/v1/resources{p}" in paths, p
