"""Pages through the test client: resident report/detail/actions, staff queue/detail/代办."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from django.utils import timezone

from linli.requests.models import ServiceRequest, Status
from linli.requests.services import request_accept, request_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def submit(submit: Any) -> Any:
    """Pages use the real clock, so these requests are submitted "now"."""
    return functools.partial(submit, now=timezone.now())


def test_resident_reports_and_sees_timeline(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    page = client.get("/requests/new/")
    assert page.status_code == 200 and "随手拍" in page.content.decode()
    r = client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "building": world.building.pk,
            "description": "1幢二单元楼道灯坏了一周",
        },
    )
    req = ServiceRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/requests/{req.pk}/"
    body = client.get(r["Location"]).content.decode()
    assert "提交诉求" in body and "甲物业" in body and "催办" in body
    assert "1幢二单元楼道灯坏了一周" in client.get("/requests/mine/").content.decode()


def test_bad_report_shows_message_and_creates_nothing(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("resident"))
    r = client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "building": world.building.pk,
            "description": "灯" * 10_000,
        },
    )
    assert r.status_code == 200 and "不能超过 2000" in r.content.decode()
    # The box and its counter announce the same limit the service enforces.
    assert re.search(r'<textarea name="description"[^>]*maxlength="2000"', r.content.decode())
    r = client.post("/requests/new/", {"category": 999999, "description": "灯坏了很久了"})
    assert r.status_code == 200 and ServiceRequest.objects.count() == 0


def test_me_too_offered_instead_of_duplicate(
    client: Any, world: Any, submit: Any, cats: Any
) -> None:
    first = submit(
        "fac-light", "2幢楼道灯坏了，晚上很黑", user="neighbour", building=world.building2
    )
    client.force_login(world.user("resident"))
    r = client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "building": world.building2.pk,
            "description": "2幢楼道灯坏了",
        },
    )
    body = r.content.decode()
    assert r.status_code == 200 and "我也遇到" in body and f"#{first.pk}" in body
    assert ServiceRequest.objects.count() == 1
    client.post(f"/requests/{first.pk}/support/")
    first.refresh_from_db()
    assert first.support_count == 1
    # Still different? confirm_new submits a new record.
    client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "building": world.building2.pk,
            "description": "2幢楼道灯坏了",
            "confirm_new": "1",
        },
    )
    assert ServiceRequest.objects.count() == 2


def test_public_view_hides_reporter(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    client.force_login(world.user("neighbour"))
    body = client.get(f"/requests/{req.pk}/").content.decode()
    assert "张三" not in body and "反映人" not in body
    assert client.get(f"/requests/desk/{req.pk}/").status_code == 302  # to the public view
    client.force_login(world.user("secretary"))
    body = client.get(f"/requests/desk/{req.pk}/").content.decode()
    assert "张三" in body and "受理" in body
    client.force_login(world.user("stranger"))
    assert client.get(f"/requests/{req.pk}/").status_code == 404


def test_urge_twice_gives_message(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    client.force_login(world.user("resident"))
    client.post(f"/requests/{req.pk}/urge/")
    r = client.post(f"/requests/{req.pk}/urge/", follow=True)
    assert "每 24 小时只能催办一次" in r.content.decode()
    req.refresh_from_db()
    assert req.urge_count == 1


def test_staff_queue_filters_and_bulk_assign(client: Any, world: Any, submit: Any) -> None:
    a = submit()
    b = submit("di-noise", "楼上每天夜里很吵闹")
    client.force_login(world.user("secretary"))
    body = client.get("/requests/desk/").content.decode()
    assert f"#{a.pk}" in body and f"#{b.pk}" in body and "批量派单" in body
    body = client.get(f"/requests/desk/?category={world and a.category.parent_id}").content.decode()
    assert f"#{a.pk}" in body and f"#{b.pk}" not in body
    r = client.post(
        "/requests/desk/bulk/",
        {"ids": [a.pk, b.pk], "target": f"unit:{world.grid2.pk}", "reason": "网格调整"},
        follow=True,
    )
    assert "已批量派单 2 条" in r.content.decode()
    assert set(ServiceRequest.objects.values_list("assignee_unit_id", flat=True)) == {
        world.grid2.pk
    }
    client.force_login(world.user("other_property"))
    assert f"#{a.pk}" not in client.get("/requests/desk/").content.decode()


def test_staff_actions_and_rating_page(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    client.force_login(world.user("property"))
    client.post(f"/requests/desk/{req.pk}/accept/")
    r = client.post(
        f"/requests/desk/{req.pk}/resolve/", {"resolution": "已更换 LED 灯"}, follow=True
    )
    assert "已办结" in r.content.decode()
    client.force_login(world.user("resident"))
    assert "评价办理结果" in client.get(f"/requests/{req.pk}/").content.decode()
    client.post(f"/requests/{req.pk}/rate/", {"rating": "5", "comment": "很快"})
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.rating == 5


def test_staff_reject_without_reason_keeps_state(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    client.force_login(world.user("secretary"))
    r = client.post(f"/requests/desk/{req.pk}/reject/", {"reason": ""}, follow=True)
    assert "不予受理理由" in r.content.decode()
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED


def test_record_for_resident(client: Any, world: Any, cats: Any) -> None:
    client.force_login(world.user("worker"))
    assert client.get("/requests/desk/record/").status_code == 200
    r = client.post(
        "/requests/desk/record/",
        {
            "community": world.community.pk,
            "channel": "hotline",
            "category": cats["di-pet"].pk,
            "building": world.building.pk,
            "description": "邻居的狗每天夜里叫",
            "resident_phone": "13812341234",
        },
    )
    req = ServiceRequest.objects.get()
    assert r.status_code == 302 and req.channel == "hotline"
    assert req.reporter_resident == world.residents["resident"]
    client.force_login(world.user("resident"))
    assert "邻居的狗" in client.get("/requests/mine/").content.decode()


def test_photo_served_only_to_viewers(client: Any, world: Any, submit: Any) -> None:
    from linli.requests.tests.test_services import _jpeg

    req = submit(photos=[_jpeg()])
    photo = req.photos.get()
    client.force_login(world.user("resident"))
    r = client.get(f"/requests/{req.pk}/photo/{photo.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    client.force_login(world.user("stranger"))
    assert client.get(f"/requests/{req.pk}/photo/{photo.pk}/").status_code == 404


def test_metrics_page(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    p = world.user("property")
    request_accept(actor=p, request=req)
    request_resolve(actor=p, request=req, resolution="好了")
    client.force_login(world.user("secretary"))
    r = client.get("/requests/desk/metrics/?start=2026-01-01&end=2026-12-31")
    assert r.status_code == 200 and "解决率" in r.content.decode()


def _queue_queries(client: Any, n_open: int, world: Any, cats: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.core import ratelimit
    from linli.requests.models import ServiceRequest
    from linli.requests.services import request_submit

    have = ServiceRequest.objects.count()
    with ratelimit.suspended():  # bulk set-up, not two residents' real pace
        for i in range(have, n_open):
            submit_as = "resident" if i % 2 == 0 else "neighbour"
            building = world.building if i % 2 == 0 else world.building2
            request_submit(
                actor=world.user(submit_as),
                category=cats["fac-light" if i % 3 else "env-clutter"],
                description=f"第{i}号：楼道灯坏了很久",
                building=building,
            )
    client.force_login(world.user("secretary"))
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/requests/desk/")
    assert r.status_code == 200
    # One box per listed request in the desk table and one on its phone card.
    assert r.content.decode().count('name="ids"') == 2 * min(n_open, 30)
    return len(ctx.captured_queries)


def test_queue_page_cost_does_not_grow_with_open_items(client: Any, world: Any, cats: Any) -> None:
    """The queue page's statements follow the page, not the number of open items (no
    N+1 on org units, categories or buildings)."""
    few = _queue_queries(client, 5, world, cats)
    many = _queue_queries(client, 40, world, cats)
    assert few == many, (few, many)
    assert many <= 20, many


def test_queue_query_reads_the_partial_index_of_open_items(world: Any, cats: Any) -> None:
    """The open queue is read in its order from the partial index on open items, so a
    page costs the page size, not a sort of every open request."""
    from django.db import connection

    from linli.requests.selectors import QueueFilters, request_queue_for

    qs = request_queue_for(viewer=world.user("secretary"), filters=QueueFilters())[:30]
    if connection.vendor != "postgresql":
        # SQLite has the index too, but its planner is not what serves production.
        with connection.cursor() as cur:
            names = connection.introspection.get_constraints(cur, "requests_servicerequest")
        assert {"request_open_queue", "request_open_queue_comm"} <= set(names)
        return
    with connection.cursor() as cur:
        # A test database is tiny, where a sequential scan always wins; the question is
        # whether the planner can serve the query, in order, from the index at all.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
    plan = qs.explain()
    assert "request_open_queue" in plan, plan
    assert "Sort" not in plan, plan
