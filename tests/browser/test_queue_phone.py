"""The grid worker's queue on a 360 px phone: filters folded under 筛选 (open when a
filter is set), the items as cards sorted by urgency, 受理 / 开始处理 in one tap, no
sideways scroll. Screenshots go to /tmp/shots/."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from linli.core.tests.test_home import _submit
from linli.requests.models import DueState, ServiceRequest, Status
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "shots"


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    overflowing = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.scrollWidth > e.clientWidth"
        " + 1 && getComputedStyle(e).overflowX !== 'visible' && e.offsetParent !== null)"
        ".map(e => e.className)"
    )
    assert overflowing == [], overflowing


def test_grid_worker_queue_on_a_phone(world: Any, live_server: Any, phone_page: Any) -> None:
    later = _submit(world, text="楼顶漏水")
    overdue = _submit(world, text="井盖丢失")
    ServiceRequest.objects.filter(pk=overdue.pk).update(due_state=DueState.OVERDUE)
    assert overdue.next_due_at is not None
    ServiceRequest.objects.filter(pk=later.pk).update(
        next_due_at=overdue.next_due_at + timedelta(days=1)
    )
    login(phone_page, live_server.url, "grid_worker")
    phone_page.wait_for_url(f"{live_server.url}/workbench/")
    phone_page.goto(f"{live_server.url}/requests/desk/")
    filters = phone_page.locator("details#queue-filters")
    assert filters.get_attribute("open") is None  # folded: no filter set
    assert not phone_page.locator("#f-status").is_visible()
    cards = phone_page.locator("ol.queue-cards > li.queue-card")
    assert cards.count() == 2
    assert not phone_page.locator("table.queue").is_visible()  # the desk table
    # The staff menu is one line (☰ 菜单) on a phone and unfolds without JavaScript.
    assert not phone_page.locator("nav.staffnav").is_visible()
    menu = phone_page.locator("nav.staffnav-phone summary")
    mb = menu.bounding_box()
    assert mb is not None and mb["height"] >= 44 and mb["y"] < 160
    assert not phone_page.locator(".staffnav-list >> text=诉求工单").is_visible()
    menu.click()
    assert phone_page.locator(".staffnav-list >> text=诉求工单").is_visible()
    menu.click()
    first = cards.nth(0)
    assert "井盖丢失" in first.inner_text()  # most urgent first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] < 740  # on the first screen
    button = first.locator("button", has_text="受理")
    b = button.bounding_box()
    assert b is not None and b["height"] >= 44
    _no_sideways_scroll(phone_page)
    SHOTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "queue_phone.png"), full_page=True)
    button.click()
    phone_page.wait_for_load_state("load")
    assert ServiceRequest.objects.get(pk=overdue.pk).status == Status.ACCEPTED
    # Accepted: the card now offers 开始处理.
    phone_page.goto(f"{live_server.url}/requests/desk/")
    card = phone_page.locator("li.queue-card", has_text="井盖丢失")
    card.locator("button", has_text="开始处理").click()
    phone_page.wait_for_load_state("load")
    assert ServiceRequest.objects.get(pk=overdue.pk).status == Status.IN_PROGRESS
    # A filter set: the box is open and says so.
    phone_page.goto(f"{live_server.url}/requests/desk/?due=overdue")
    assert phone_page.locator("details#queue-filters").get_attribute("open") is not None
    assert phone_page.locator("#f-due").is_visible()
    _no_sideways_scroll(phone_page)
    phone_page.screenshot(path=str(SHOTS / "queue_phone_filtered.png"), full_page=True)
    # Elderly mode still fits.
    phone_page.goto(f"{live_server.url}/requests/desk/")
    if phone_page.locator("text=长辈模式").count():
        phone_page.click("text=长辈模式")
        phone_page.wait_for_selector("html.elderly")
        phone_page.goto(f"{live_server.url}/requests/desk/")
        _no_sideways_scroll(phone_page)
        phone_page.screenshot(path=str(SHOTS / "queue_phone_elderly.png"), full_page=True)


def test_bulk_dispatch_from_the_cards_on_a_phone(
    world: Any, live_server: Any, phone_page: Any
) -> None:
    """批量派单 works on a phone too: each card has a 44 px box that joins the bulk form
    (no JavaScript), and the form sits under the cards."""
    first = _submit(world, text="井盖丢失")
    second = _submit(world, text="楼顶漏水")
    untouched = _submit(world, text="路灯不亮")
    login(phone_page, live_server.url, "secretary")
    phone_page.wait_for_url(f"{live_server.url}/workbench/")
    phone_page.goto(f"{live_server.url}/requests/desk/")
    assert not phone_page.locator("table.queue").is_visible()
    for req in (first, second):
        pick = phone_page.locator("li.queue-card", has_text=req.description).locator(".qc-pick")
        b = pick.bounding_box()
        assert b is not None and b["height"] >= 44 and b["width"] >= 44
        pick.click()
    target = phone_page.locator("#bulk-target")
    assert target.is_visible()
    chosen = target.locator("option").nth(1).get_attribute("value") or ""
    target.select_option(chosen)
    phone_page.fill("#bulk-reason", "统一交物业处理")
    _no_sideways_scroll(phone_page)
    SHOTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "queue_phone_bulk.png"), full_page=True)
    phone_page.click("text=派单所选")
    phone_page.wait_for_load_state("load")
    assert "已批量派单 2 条" in phone_page.inner_text("main")
    events = {
        r.pk: r.events.order_by("-id").first().note
        for r in ServiceRequest.objects.filter(pk__in=[first.pk, second.pk, untouched.pk])
    }
    assert "统一交物业处理" in events[first.pk] and "统一交物业处理" in events[second.pk]
    assert "统一交物业处理" not in events[untouched.pk]
