"""Pages through the test client: the phone flow without JavaScript (find → day view →
book → pick up → return), the conflict report, the desk pages, English, and refusals
shown as messages with nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from linli.resources.models import Booking, Resource
from linli.resources.tests.conftest import NOW, TOMORROW, png

pytestmark = pytest.mark.django_db


def client_for(world: Any, who: str) -> Client:
    c = Client()
    c.force_login(world.user(who))
    return c


def test_resident_finds_books_picks_up_and_returns(
    world: Any, ladder: Any, fixed_clock: Any
) -> None:
    c = client_for(world, "resident")
    listing = c.get("/resources/?q=梯")
    assert listing.status_code == 200 and "人字梯" in listing.content.decode()
    day = c.get(f"/resources/{ladder.pk}/?date={TOMORROW:%Y-%m-%d}")
    html = day.content.decode()
    assert "空闲 · 预约" in html and 'name="idempotency_key"' in html
    assert c.get(f"/resources/{ladder.pk}/week/").status_code == 200
    post = {
        "date": f"{TOMORROW:%Y-%m-%d}",
        "start": "10:00",
        "end": "11:00",
        "idempotency_key": "f1",
    }
    resp = c.post(f"/resources/{ladder.pk}/book/", post)
    b = Booking.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/resources/bookings/{b.pk}/"
    # A double submit of the same form makes no second booking.
    c.post(f"/resources/{ladder.pk}/book/", post)
    assert Booking.objects.count() == 1
    # Overlap: refused with a clear message, nothing written.
    other = client_for(world, "neighbour")
    resp = other.post(
        f"/resources/{ladder.pk}/book/",
        {"date": f"{TOMORROW:%Y-%m-%d}", "start": "10:30", "end": "11:30"},
        follow=True,
    )
    assert "该时段已被预约" in resp.content.decode()
    assert Booking.objects.count() == 1
    fixed_clock.move(b.starts_at - timedelta(minutes=10))
    page = c.get(f"/resources/bookings/{b.pk}/").content.decode()
    assert "我已取用" in page and "确认归还" not in page
    c.post(f"/resources/bookings/{b.pk}/check_out/", {"note": "完好", "photos": [png()]})
    b.refresh_from_db()
    assert b.status == "checked_out" and b.photos.count() == 1
    page = c.get(f"/resources/bookings/{b.pk}/").content.decode()
    assert "确认归还" in page
    photo = b.photos.get()
    assert c.get(f"/resources/booking-photos/{photo.pk}/").status_code == 200
    assert other.get(f"/resources/booking-photos/{photo.pk}/").status_code == 404
    c.post(f"/resources/bookings/{b.pk}/return/", {"condition": "good"})
    b.refresh_from_db()
    assert b.status == "returned"
    assert "已归还" in c.get("/resources/mine/").content.decode()


def test_return_before_pick_up_shows_message(world: Any, ladder: Any, fixed_clock: Any) -> None:
    c = client_for(world, "resident")
    c.post(
        f"/resources/{ladder.pk}/book/",
        {"date": f"{TOMORROW:%Y-%m-%d}", "start": "10:00", "end": "11:00"},
    )
    b = Booking.objects.get()
    resp = c.post(f"/resources/bookings/{b.pk}/return/", {"condition": "good"}, follow=True)
    assert "不能执行“登记归还”" in resp.content.decode()
    b.refresh_from_db()
    assert b.status == "confirmed"


def test_outside_hours_message_and_english(world: Any, ladder: Any, fixed_clock: Any) -> None:
    c = client_for(world, "resident")
    resp = c.post(
        f"/resources/{ladder.pk}/book/",
        {"date": f"{TOMORROW:%Y-%m-%d}", "start": "06:00", "end": "07:00"},
        follow=True,
    )
    assert "不在开放时间内" in resp.content.decode()
    assert Booking.objects.count() == 0
    en = c.get(f"/resources/{ladder.pk}/?lang=en", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Confirm booking" in en and "Week view" in en and "确认预约" not in en
    refused = c.post(
        f"/resources/{ladder.pk}/book/?lang=en",
        {"date": f"{TOMORROW:%Y-%m-%d}", "start": "06:00", "end": "07:00"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    ).content.decode()
    assert "Outside opening hours" in refused


def test_series_report_then_confirm(world: Any, make_resource: Any, fixed_clock: Any) -> None:
    room = make_resource(name="活动室", kind="venue", max_minutes=180)
    c = client_for(world, "resident")
    first = NOW.date() + timedelta(days=7)
    form = {
        "date": f"{first:%Y-%m-%d}",
        "last_date": f"{first + timedelta(days=84):%Y-%m-%d}",
        "start": "19:00",
        "end": "21:00",
    }
    report = c.post(f"/resources/{room.pk}/series/", form)
    html = report.content.decode()
    assert "冲突报告" in html and "可预约 <strong>13</strong> 次" in html
    assert Booking.objects.count() == 0
    c.post(f"/resources/{room.pk}/series/", {**form, "confirm": "1", "idempotency_key": "s1"})
    assert Booking.objects.count() == 13


def test_staff_pages_and_listing(world: Any, ladder: Any, fixed_clock: Any) -> None:
    c = client_for(world, "secretary")
    page = c.get("/resources/manage/")
    assert page.status_code == 200 and "近 30 天使用率" in page.content.decode()
    assert c.get("/resources/new/").status_code == 200
    assert c.get(f"/resources/{ladder.pk}/edit/").status_code == 200
    form = {
        "kind": "venue",
        "owner_kind": "community",
        "name": "二楼活动室",
        "max_minutes": "180",
        "max_advance_days": "60",
        "deposit_points": "0",
        "hours_2": "18:00-21:30",
        "idempotency_key": "r1",
    }
    resp = c.post("/resources/new/", form)
    room = Resource.objects.get(name="二楼活动室")
    assert resp.status_code == 302 and room.hours.count() == 1
    bad = c.post("/resources/new/", {**form, "hours_2": "21:00-18:00", "idempotency_key": "r2"})
    assert "结束须晚于开始" in bad.content.decode()
    # Residents do not reach the desk pages.
    assert client_for(world, "resident").get("/resources/manage/").status_code == 404


def test_resident_shares_an_idle_item(world: Any, fixed_clock: Any) -> None:
    c = client_for(world, "neighbour")
    assert c.get("/resources/new/?mine=1").status_code == 200
    resp = c.post(
        "/resources/new/",
        {
            "mine": "1",
            "kind": "item",
            "name": "儿童自行车",
            "share_mode": "lend",
            "max_minutes": "600",
            "max_advance_days": "30",
            "hours_5": "09:00-18:00",
            "idempotency_key": "i1",
        },
    )
    item = Resource.objects.get()
    assert resp.status_code == 302 and item.owner_resident_id == world.residents["neighbour"].pk
    assert item.approval_required
