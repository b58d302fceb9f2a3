"""On a 360 px phone, with JavaScript off: a resident finds a ladder, books it from the
day view, picks it up and returns it; then the desk page at 1280 px. Screenshots go to
/tmp/shots/resources/ (Playwright + Debian chromium against the live server)."""

from __future__ import annotations

import os
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.core.calendar import LOCAL_TZ
from linli.core.tests.browser import fits, login

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
SHOTS = Path("/tmp/shots/resources")  # noqa: S108 - screenshots to look at, nothing secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _context(chromium: Any, width: int) -> Any:
    return chromium.new_context(
        viewport={"width": width, "height": 800}, locale="zh-CN", java_script_enabled=False
    )


def test_find_ladder_book_pick_up_return_on_a_phone(
    world: Any, live_server: Any, chromium: Any
) -> None:
    from linli.resources import services
    from linli.resources.services import ResourceSpec

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Open all day, every day, so the booking can start within the pick-up window
    # whatever the time the test runs.
    services.resource_create(
        actor=world.user("secretary"),
        community=world.community,
        spec=ResourceSpec(
            kind="equipment",
            name="人字梯（2米）",
            location="社区服务站一楼",
            building_id=world.building.pk,
            max_minutes=240,
            hours={wd: [(time(0, 0), time(23, 59))] for wd in range(7)},
            open_on_holidays=True,
        ),
    )
    services.resource_create(
        actor=world.user("secretary"),
        community=world.community,
        spec=ResourceSpec(kind="venue", name="活动室", hours={0: [(time(8), time(20))]}),
    )
    base = live_server.url
    ctx = _context(chromium, 360)
    page = ctx.new_page()
    try:
        login(page, base, "resident")
        page.goto(f"{base}/resources/")
        page.fill("input[name=q]", "梯")
        with page.expect_navigation():
            page.click("form[role=search] button[type=submit]")
        assert page.locator(".res-card").count() == 1
        fits(page)
        page.screenshot(path=str(SHOTS / "1-search.png"), full_page=True)
        with page.expect_navigation():
            page.click("text=人字梯（2米）")
        # The next free half hour of today (local time), from the day view's links.
        now = timezone.now().astimezone(LOCAL_TZ)
        slot = (now + timedelta(minutes=30 - now.minute % 30)).replace(second=0, microsecond=0)
        if slot.date() != now.date() or slot.hour >= 23:
            pytest.skip("too close to midnight for a same-day pick-up")
        link = page.locator(f".slot.free a[href*='start={slot:%H:%M}']")
        fits(page)
        page.screenshot(path=str(SHOTS / "2-day.png"), full_page=True)
        with page.expect_navigation():
            link.click()
        assert page.locator("#bstart").input_value() == f"{slot:%H:%M}"
        page.fill("#purpose", "换灯泡")
        page.screenshot(path=str(SHOTS / "3-book-form.png"), full_page=True)
        with page.expect_navigation():
            page.click("#book button[type=submit]")
        assert page.locator("#booking-status").inner_text() == "已确认"
        fits(page)
        page.screenshot(path=str(SHOTS / "4-booked.png"), full_page=True)
        page.fill("#conote", "完好")
        with page.expect_navigation():
            page.click("text=我已取用")
        assert page.locator("#booking-status").inner_text() == "使用中"
        page.screenshot(path=str(SHOTS / "5-picked-up.png"), full_page=True)
        page.check("input[name=condition][value=good]")
        with page.expect_navigation():
            page.click("text=确认归还")
        assert page.locator("#booking-status").inner_text() == "已归还"
        fits(page)
        page.screenshot(path=str(SHOTS / "6-returned.png"), full_page=True)
        page.goto(f"{base}/resources/mine/")
        assert "已归还" in page.inner_text("main")
        page.goto(f"{base}/resources/")
        with page.expect_navigation():
            page.click("text=人字梯（2米）")
        with page.expect_navigation():
            page.click("text=周视图")
        fits(page)
        page.screenshot(path=str(SHOTS / "7-week.png"), full_page=True)
        # Elderly mode (large type): the day view still fits the phone.
        with page.expect_navigation():
            page.click("button:has-text('长辈模式')")
        page.goto(f"{base}/resources/")
        with page.expect_navigation():
            page.click("text=人字梯（2米）")
        assert "elderly" in (page.get_attribute("html", "class") or "") + (
            page.get_attribute("body", "class") or ""
        )
        fits(page)
        page.screenshot(path=str(SHOTS / "7b-elderly-day.png"), full_page=False)
    finally:
        ctx.close()
    desk = _context(chromium, 1280).new_page()
    try:
        login(desk, base, "secretary")
        desk.goto(f"{base}/resources/manage/")
        assert "人字梯（2米）" in desk.inner_text("#usage")
        desk.screenshot(path=str(SHOTS / "8-manage.png"), full_page=True)
        desk.goto(f"{base}/resources/new/")
        desk.screenshot(path=str(SHOTS / "9-new.png"), full_page=True)
    finally:
        desk.context.close()

    from linli.resources.models import Booking

    b = Booking.objects.get()
    assert b.status == "returned" and b.checkout_note == "完好"
