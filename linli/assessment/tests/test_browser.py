"""Drilling down in Chromium, on a 1280 px desktop and a 360 px phone: the street's
board → a community → its grid → the heat view → a building. The pages need no
JavaScript for this (links and an SVG site plan); charts are drawn over their tables
when it runs. Screenshots go to /tmp/shots/assessment/."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from linli.assessment import services
from linli.assessment.tests.conftest import MARCH, SH

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(tempfile.gettempdir()) / "shots" / "assessment"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


def _tab(browser: Any, live_server: Any, user: Any, width: int) -> Any:
    client = Client()
    client.force_login(user)
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return ctx.new_page()


@pytest.mark.parametrize("width", [1280, 360])
def test_drill_down_street_to_building(
    chromium: Any, live_server: Any, world: Any, march: Any, width: int
) -> None:
    services.snapshot_month(month=MARCH, now=datetime(2026, 4, 10, tzinfo=SH), notify=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _tab(chromium, live_server, world.user("street_officer"), width)
    page.goto(f"{live_server.url}/assessment/u/{world.street.pk}/?period=2026-03")
    page.get_by_role("heading", name="考核评价 · 一街道").wait_for()
    page.screenshot(path=str(SHOTS / f"street-{width}.png"), full_page=True)
    page.get_by_role("link", name="阳光社区").first.click()
    page.get_by_role("heading", name="考核评价 · 阳光社区").wait_for()
    assert page.get_by_text("楼栋诉求热度").is_visible()
    page.get_by_role("link", name="第1网格").click()
    page.get_by_role("heading", name="考核评价 · 第1网格").wait_for()
    page.screenshot(path=str(SHOTS / f"grid-{width}.png"), full_page=True)
    # The building on the site plan, labelled with its count of requests.
    page.get_by_role("link", name="1幢：6 件诉求").click()
    page.get_by_role("heading", name="阳光社区 · 1幢").wait_for()
    assert page.get_by_text("件诉求").first.is_visible()
    page.screenshot(path=str(SHOTS / f"building-{width}.png"), full_page=True)
    # Nothing wider than the screen: tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
