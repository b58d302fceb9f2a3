"""Issue 9, findings 1 and 2: the Open311 read publishes no free text, exact position,
staff-entered or anonymous items; a key reads only its own community; an Open311 POST
never texts a number the caller typed unless it belongs to a resident of that community."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - parsing our own responses

import pytest
from django.utils import timezone

from linli.core.notify import MemorySender
from linli.requests.models import Channel, ServiceRequest
from linli.requests.services import (
    open311_client_issue,
    request_accept,
    request_resolve,
    request_submit,
)

pytestmark = pytest.mark.django_db

SECRET_PHONE = "13987654321"
TEXT = f"3幢楼道灯坏了，有事请打我电话{SECRET_PHONE}"


@pytest.fixture
def key(world: Any, cats: Any) -> str:
    _client, k = open311_client_issue(
        actor=world.user("secretary"), name="市民通 App", community=world.community
    )
    return k


@pytest.fixture
def items(world: Any, cats: Any, submit: Any, client: Any, key: str) -> dict[str, Any]:
    """One request of each kind: a resident's (with a phone number and exact point in
    the text), a resolved one with a result note, a hotline record, an Open311 post
    without an account and a request of another community."""
    now = timezone.now()  # inside the default 90-day window
    mine = submit(
        text=TEXT,
        building=None,
        lat="30.300123",
        lng="120.100456",
        address="3幢2单元东侧",
        now=now,
    )
    done = submit(text="2幢门口垃圾没人清理，味道很大", now=now)
    p = world.user("property")
    request_accept(actor=p, request=done)
    request_resolve(actor=p, request=done, resolution=f"已清理，联系人{SECRET_PHONE}")
    hotline = request_submit(
        actor=world.user("worker"),
        category=cats["fac-light"],
        description="热线来电：1幢灯坏了，老人独居",
        building=world.building,
        channel=Channel.HOTLINE,
        community=world.community,
        reporter_phone="13700000000",
    )
    r = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "fac-light",
            "lat": "30.300100",
            "long": "120.100050",
            "description": "路灯不亮了，联系13600000000",
        },
    )
    assert r.status_code == 201, r.content
    anon = ServiceRequest.objects.get(pk=r.json()[0]["service_request_id"])
    other = submit(
        user="stranger", building=world.other_building, text="9幢电梯坏了三天了", now=now
    )
    return {"mine": mine, "done": done, "hotline": hotline, "anon": anon, "other": other}


def _ids(rows: list[dict[str, Any]]) -> set[int]:
    return {int(x["service_request_id"]) for x in rows}


def test_anonymous_read_shows_no_free_text_and_no_staff_or_anonymous_items(
    client: Any, items: dict[str, Any]
) -> None:
    r = client.get("/open311/v2/requests.json")
    assert r.status_code == 200
    rows = r.json()
    body = r.content.decode()
    assert _ids(rows) == {items["mine"].pk, items["done"].pk, items["other"].pk}
    for needle in (SECRET_PHONE, "13700000000", "13600000000", "3幢2单元东侧", "楼道灯坏了"):
        assert needle not in body
    by_id = {int(x["service_request_id"]): x for x in rows}
    mine = by_id[items["mine"].pk]
    assert mine["description"] is None and mine["media_url"] is None
    assert mine["service_code"] == "fac-light" and mine["status"] == "open"
    # ~100 m cell: three decimals, never the point the resident tapped.
    assert mine["lat"] == 30.3 and mine["long"] == 120.1
    done = by_id[items["done"].pk]
    assert done["status"] == "closed" and "已清理" not in str(done["status_notes"])
    assert done["address"] == "1幢"  # the building name is the coarse location

    xml = client.get("/open311/v2/requests.xml").content.decode()
    assert SECRET_PHONE not in xml and "3幢2单元东侧" not in xml
    root = ET.fromstring(xml)  # noqa: S314
    assert {int(e.text or 0) for e in root.iter("service_request_id")} == _ids(rows)

    for hidden in ("hotline", "anon"):
        pk = items[hidden].pk
        assert client.get(f"/open311/v2/requests/{pk}.json").status_code == 404
        r = client.get("/open311/v2/requests.json", {"service_request_id": str(pk)})
        assert r.json() == []
    one = client.get(f"/open311/v2/requests/{items['mine'].pk}.json")
    assert one.status_code == 200 and SECRET_PHONE not in one.content.decode()


def test_keyed_read_is_own_community_only_and_still_no_free_text(
    client: Any, items: dict[str, Any], key: str
) -> None:
    r = client.get("/open311/v2/requests.json", {"api_key": key})
    assert r.status_code == 200
    ids = _ids(r.json())
    # Its own post is there (the client can follow it); the other community and the
    # hotline record are not.
    assert ids == {items["mine"].pk, items["done"].pk, items["anon"].pk}
    body = r.content.decode()
    for needle in (SECRET_PHONE, "13700000000", "13600000000", "3幢2单元东侧", "已清理"):
        assert needle not in body
    other = items["other"].pk
    assert client.get(f"/open311/v2/requests/{other}.json", {"api_key": key}).status_code == 404
    assert client.get("/open311/v2/requests.json", {"api_key": "wrong"}).status_code == 403


def test_resident_may_publish_the_text(client: Any, world: Any, submit: Any, cats: Any) -> None:
    req = submit(text="小区东门路灯坏了一排", public=True)
    p = world.user("property")
    request_accept(actor=p, request=req)
    request_resolve(actor=p, request=req, resolution="已更换灯泡")
    row = client.get(f"/open311/v2/requests/{req.pk}.json").json()[0]
    assert row["description"] == "小区东门路灯坏了一排" and row["status_notes"] == "已更换灯泡"
    # Staff cannot publish on a resident's behalf: a hotline record stays out.
    hot = request_submit(
        actor=world.user("worker"),
        category=cats["fac-light"],
        description="热线来电：路灯坏了",
        building=world.building,
        channel=Channel.HOTLINE,
        community=world.community,
        public=True,
    )
    assert hot.public is False
    assert client.get(f"/open311/v2/requests/{hot.pk}.json").status_code == 404


def test_api_and_form_set_the_public_flag(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    r = client.post(
        "/api/v1/requests/",
        {
            "category": "fac-light",
            "description": "1幢楼道灯坏了很久",
            "building_id": world.building.pk,
            "public": True,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert ServiceRequest.objects.get(pk=r.json()["id"]).public is True
    r = client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "description": "2幢楼道灯也坏了",
            "building": world.building.pk,
            "confirm_new": "1",
        },
    )
    assert r.status_code == 302
    assert ServiceRequest.objects.order_by("-id").first().public is False  # type: ignore[union-attr]


def test_open311_posts_send_no_sms_to_caller_supplied_numbers(
    client: Any, world: Any, key: str, oncommit: Any, settings: Any
) -> None:
    settings.LINLI_RATE_LIMITS_ENABLED = False  # the rule under test, not the rate limit
    MemorySender.outbox.clear()
    with oncommit(execute=True):
        for i in range(20):
            r = client.post(
                "/open311/v2/requests.json",
                {
                    "api_key": key,
                    "service_code": "fac-light",
                    "lat": "30.300100",
                    "long": "120.100050",
                    "description": f"路灯不亮了第{i}盏",
                    "phone": f"1500000{i:04d}",
                },
            )
            assert r.status_code == 201, r.content
    assert [m for m in MemorySender.outbox if m.channel == "sms"] == []
    # The number stays on the record for staff to call back.
    assert ServiceRequest.objects.filter(reporter_phone="15000000007").count() == 1
    # Nor any later progress message.
    req = ServiceRequest.objects.get(reporter_phone="15000000007")
    with oncommit(execute=True):
        request_accept(actor=world.user("property"), request=req)
        request_resolve(actor=world.user("property"), request=req, resolution="已修好")
    assert [m for m in MemorySender.outbox if m.channel == "sms"] == []


def test_open311_post_texts_a_known_resident_of_that_community(
    client: Any, world: Any, key: str, oncommit: Any
) -> None:
    stranger_phone = world.residents["stranger"].phone  # a resident, but elsewhere
    with oncommit(execute=True):
        for phone in (world.residents["resident"].phone, stranger_phone):
            r = client.post(
                "/open311/v2/requests.json",
                {
                    "api_key": key,
                    "service_code": "fac-light",
                    "lat": "30.300100",
                    "long": "120.100050",
                    "description": "路灯不亮了",
                    "phone": phone,
                },
            )
            assert r.status_code == 201
    sms = [m for m in MemorySender.outbox if m.channel == "sms"]
    assert [m.to for m in sms] == [world.residents["resident"].phone]
