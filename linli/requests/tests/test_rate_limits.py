"""Finding 3 of issue 9: reporting is rate limited per user (API and page) and Open311
per key and per client address — the next attempt gets 429 + Retry-After and nothing
is written; the window resets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from linli.core import ratelimit
from linli.core.models import AuditEvent
from linli.requests.models import ServiceRequest
from linli.requests.services import open311_client_issue

pytestmark = pytest.mark.django_db

T0 = 1_772_442_010.0  # ten seconds into a minute


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock(T0)
    with ratelimit.use_clock(c):
        yield c


def _api(client: Any, world: Any, n: int) -> Any:
    return client.post(
        "/api/v1/requests/",
        json.dumps(
            {
                "category": "fac-light",
                "description": f"1幢楼道灯坏了，第{n}处",
                "building_id": world.building.pk,
            }
        ),
        content_type="application/json",
    )


def test_api_submit_limited_per_user(client: Any, world: Any, cats: Any, clock: Clock) -> None:
    client.force_login(world.user("resident"))
    for n in range(5):
        assert _api(client, world, n).status_code == 201
    events = AuditEvent.objects.count()
    r = _api(client, world, 5)
    assert r.status_code == 429, r.content
    assert r["Retry-After"] == "50"
    assert r.json()["code"] == "rate_limited" and "分钟后再试" in r.json()["message"]
    assert ServiceRequest.objects.count() == 5 and AuditEvent.objects.count() == events
    clock.t += 50
    assert _api(client, world, 6).status_code == 201


def test_report_page_limited_per_user(client: Any, world: Any, cats: Any, clock: Clock) -> None:
    client.force_login(world.user("resident"))

    def post(n: int) -> Any:
        return client.post(
            "/requests/new/",
            {
                "category": cats["fac-light"].pk,
                "building": world.building.pk,
                "description": f"1幢二单元楼道灯坏了，第{n}盏",
                "confirm_new": "1",
            },
        )

    for n in range(5):
        assert post(n).status_code == 302
    r = post(5)
    assert r.status_code == 429 and r["Retry-After"] == "50"
    assert "操作过于频繁" in r.content.decode()
    assert ServiceRequest.objects.count() == 5


def test_open311_post_limited_per_address_and_key(
    client: Any, world: Any, cats: Any, clock: Clock
) -> None:
    _c, key = open311_client_issue(
        actor=world.user("secretary"), name="市民通 App", community=world.community
    )

    def post(ip: str) -> Any:
        return client.post(
            "/open311/v2/requests.json",
            {
                "api_key": key,
                "service_code": "fac-light",
                "lat": "30.300100",
                "long": "120.100050",
                "description": "1幢门口路灯不亮了",
            },
            REMOTE_ADDR=ip,
        )

    for _ in range(10):
        assert post("203.0.113.5").status_code == 201
    r = post("203.0.113.5")
    assert r.status_code == 429 and r["Retry-After"] == "50"
    assert r.json()[0]["code"] == 429
    assert ServiceRequest.objects.count() == 10
    # Another address is still served until the key's own cap (60/min) is reached.
    for i in range(50):
        assert post(f"198.51.100.{i}").status_code == 201
    assert post("198.51.100.200").status_code == 429
    assert ServiceRequest.objects.count() == 60
