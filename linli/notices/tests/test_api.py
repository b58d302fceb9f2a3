"""/api/v1/notices/: the viewer's list, reading (read receipt), awareness for staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.accounts.services import api_token_issue
from linli.notices.models import NoticeRead
from linli.notices.services import notice_create, notice_publish

pytestmark = pytest.mark.django_db


def _notice(w: Any, **kw: Any) -> Any:
    defaults: dict[str, Any] = dict(
        actor=w.user("secretary"),
        community=w.community,
        title="停水通知",
        body="因管道检修，6月3日8:00–12:00停水。",
        summary="6月3日上午停水4小时，请提前储水。",
    )
    defaults.update(kw)
    publish_at = defaults.pop("publish_at", None)
    return notice_publish(
        actor=w.user("secretary"), notice=notice_create(**defaults), publish_at=publish_at
    )


def test_list_detail_marks_read_and_staff_awareness(client: Any, world: Any) -> None:
    n = _notice(world)
    b = _notice(world, title="1幢电梯检修", audience="buildings", building_ids=[world.building2.pk])
    later = _notice(world, title="下周通知", publish_at=timezone.now() + timedelta(days=2))

    client.force_login(world.user("resident"))  # lives in 1幢
    rows = client.get("/api/v1/notices/").json()
    assert [(r["id"], r["read"]) for r in rows] == [(n.pk, False)]
    d = client.get(f"/api/v1/notices/{n.pk}").json()
    assert d["body"].startswith("因管道检修") and d["read"] is True and d["awareness"] is None
    assert NoticeRead.objects.filter(notice=n, user=world.user("resident")).count() == 1
    assert client.get("/api/v1/notices/").json()[0]["read"] is True
    # Not addressed / not yet visible / statistics: all "not found" for a resident.
    for url in [f"/api/v1/notices/{b.pk}", f"/api/v1/notices/{later.pk}"]:
        r = client.get(url)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get(f"/api/v1/notices/{n.pk}/awareness").status_code == 404
    assert client.get("/api/v1/notices/awareness").json() == []

    client.force_login(world.user("secretary"))
    a = client.get(f"/api/v1/notices/{n.pk}/awareness").json()
    assert a == {"readers": 1, "audience": 2, "rate": "1/2", "percent": "50.0%"}
    staff_rows = {r["id"]: r for r in client.get("/api/v1/notices/awareness").json()}
    assert set(staff_rows) == {n.pk, b.pk, later.pk}
    assert staff_rows[b.pk]["awareness"]["audience"] == 1
    # Staff opening the notice leaves a receipt but does not raise the rate.
    assert client.get(f"/api/v1/notices/{n.pk}").json()["awareness"]["readers"] == 1
    # A scheduled notice opened by staff early gets no receipt.
    client.get(f"/api/v1/notices/{later.pk}")
    assert not NoticeRead.objects.filter(notice=later).exists()

    client.force_login(world.user("other_secretary"))
    assert client.get(f"/api/v1/notices/{n.pk}/awareness").status_code == 404


def test_bearer_token_and_unauthenticated(client: Any, world: Any) -> None:
    n = _notice(world)
    assert client.get("/api/v1/notices/").status_code == 401
    _, token = api_token_issue(user=world.user("neighbour"), name="app")
    r = client.get(f"/api/v1/notices/{n.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content
    assert NoticeRead.objects.filter(notice=n, user=world.user("neighbour")).exists()
