"""The resident home (随手拍 on top, counts, 更多) and the staff urgency strip, on a
360 px phone, in standard and elderly mode. Screenshots go to /tmp/shots/."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.core.tests.test_home import _ballot, _notices, _resolved, _submit
from linli.requests.models import DueState, ServiceRequest
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "shots"


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_resident_home_on_a_phone(world: Any, live_server: Any, phone_page: Any) -> None:
    _notices(world, 6)
    _ballot(world, "加装电梯")
    _resolved(world)
    login(phone_page, live_server.url, "resident")
    phone_page.wait_for_url(f"{live_server.url}/me/")
    primary = phone_page.locator("a.primary-action")
    box = primary.bounding_box()
    assert box is not None and box["y"] + box["height"] < 740  # on the first screen
    assert "随手拍" in primary.inner_text()
    waiting = phone_page.inner_text("section.waiting")
    assert "6 条未读公告" in waiting and "1 项投票待您参与" in waiting
    assert "1 件诉求待您评价" in waiting
    assert "更多" in phone_page.inner_text("main")
    _no_sideways_scroll(phone_page)
    SHOTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "resident_home.png"), full_page=True)
    phone_page.click("text=长辈模式")
    phone_page.wait_for_selector("html.elderly")
    phone_page.wait_for_load_state("load")
    assert phone_page.locator("a.primary-action").is_visible()
    _no_sideways_scroll(phone_page)
    phone_page.screenshot(path=str(SHOTS / "resident_home_elderly.png"), full_page=True)
    # The count leads to the list it counts.
    phone_page.click("section.waiting >> text=条未读公告")
    phone_page.wait_for_url(f"{live_server.url}/notices/**")


def test_staff_urgency_strip_on_a_phone(world: Any, live_server: Any, phone_page: Any) -> None:
    overdue = _submit(world, text="井盖丢失")
    later = _submit(world, text="楼顶漏水")
    now = timezone.now()
    ServiceRequest.objects.filter(pk=overdue.pk).update(
        due_state=DueState.OVERDUE, next_due_at=now - timedelta(hours=1)
    )
    # Due in three days, so 今日到期 is 0 whatever the hour the test runs at.
    ServiceRequest.objects.filter(pk=later.pk).update(next_due_at=now + timedelta(days=3))
    _resolved(world)
    login(phone_page, live_server.url, "grid_worker")
    phone_page.wait_for_url(f"{live_server.url}/workbench/")
    strip = phone_page.locator('nav.urgency[data-strip="requests"]')
    box = strip.bounding_box()
    assert box is not None and box["y"] + box["height"] < 740  # above the fold
    cells = strip.locator("a.urgency-cell")
    assert cells.count() == 4
    texts = [" ".join(cells.nth(i).inner_text().split()) for i in range(4)]
    assert texts == ["超时 1", "今日到期 0", "待受理 2", "待回访 1"]
    for i in range(4):  # large enough to tap, all on screen
        b = cells.nth(i).bounding_box()
        assert b is not None and b["height"] >= 44 and b["x"] + b["width"] <= 360
    _no_sideways_scroll(phone_page)
    SHOTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "staff_urgency_strip.png"))
    cells.nth(0).click()
    phone_page.wait_for_url(f"{live_server.url}/requests/desk/?due=overdue")
    assert "井盖丢失" in phone_page.inner_text("main")
    assert "楼顶漏水" not in phone_page.inner_text("main")
