"""On a 360 px phone without JavaScript (Playwright + Debian chromium against the live
server): a street officer computes and publishes a quarter, then anyone reads the
public board — in standard and in elderly mode — without the page growing wider
than the phone. Screenshots go to /tmp/shots/propertyco/."""

from __future__ import annotations

import os
from typing import Any

import pytest

from linli.core.tests.browser import fits, shooter
from linli.propertyco.quarters import Quarter
from linli.propertyco.tests.conftest import PC, seed_level

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
shot = shooter("propertyco")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_publish_then_read_on_a_phone(pc: PC, live_server: Any, page: Any) -> None:
    seed_level(pc, Quarter(2026, 2), {"jia": 1, "ding": 5, "bing": 4})
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "street_officer")
    page.fill("input[name=password]", "pw-Linli-2026")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    # The clock of the live server's thread is the real one: compute a quarter that
    # has ended by any date this test may run on.
    page.goto(f"{base}/propertyco/staff/")
    fits(page)
    page.select_option("#pc-quarter", "2026Q2")
    with page.expect_navigation():
        page.click("main button:has-text('计算')")
    assert "请核对后公布" in page.inner_text("main")
    shot(page, "1-computed")
    with page.expect_navigation():
        page.click("main button:has-text('公布')")
    assert "已公布" in page.inner_text("main")
    # The public board, signed out, standard and elderly mode.
    page.context.clear_cookies()
    page.goto(f"{base}/propertyco/?unit={pc.street.pk}")
    fits(page)
    text = page.inner_text("main")
    assert "2026年第2季度" in text and "丁物业" in text and "甲物业" in text
    black = page.locator("#h-black + ol li").inner_text()
    assert "甲物业" in black
    # The score of every row is on screen, not scrolled away to the right.
    for box in page.locator("#pc-board td.pc-num").all():
        b = box.bounding_box()
        assert b is not None and b["x"] + b["width"] <= 360
    shot(page, "2-public")
    with page.expect_navigation():
        page.click("header button:has-text('长辈模式')")
    fits(page)
    for box in page.locator("#pc-board td.pc-num").all():
        b = box.bounding_box()
        assert b is not None and b["x"] + b["width"] <= 360
    shot(page, "3-public-elderly")
