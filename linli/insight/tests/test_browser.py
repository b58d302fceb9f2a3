"""The category suggestion appears in the report form as the resident types (htmx),
on a 360 px phone, and its button picks the category."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


def test_suggestion_appears_while_typing(
    live_server: Any, chromium: Any, world: Any, cats: Any, settings: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    out = Path(os.environ.get("LINLI_SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    client = Client()
    client.force_login(world.user("resident"))
    ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = ctx.new_page()
    page.goto(live_server.url + "/requests/new/")
    page.get_by_label("问题描述").fill("住18楼，那个铁箱子又停了，在里面关了二十分钟才出来")
    hint = page.locator("#insight-suggest [data-suggested]")
    hint.wait_for(timeout=30_000)
    assert hint.get_attribute("data-suggested") == "fac-elevator"
    page.locator("#insight-suggest").scroll_into_view_if_needed()
    page.screenshot(path=str(out / "report_suggestion_360.png"), full_page=False)
    page.get_by_role("button", name="用这个类别").click()
    assert page.locator("#id_category").input_value() == str(cats["fac-elevator"].pk)
    box = page.locator("#insight-suggest").bounding_box()
    assert box is not None and box["width"] <= 360
    ctx.close()

    # Staff triage panel at desk width: suggestion, confidence, correction form.
    from linli.requests.services import request_submit

    req = request_submit(
        actor=world.user("resident"),
        category=cats["env-ads"],
        description="1幢楼道灯坏了好几天，晚上黑漆漆的，老人下楼不方便",
        building=world.building,
    )
    staff = Client()
    staff.force_login(world.user("worker"))
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": staff.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = ctx.new_page()
    page.goto(f"{live_server.url}/requests/desk/{req.pk}/")
    panel = page.locator(".insight-triage")
    assert "路灯/楼道灯损坏" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(out / "triage_1280.png"), full_page=False)
    page.get_by_role("button", name="记录类别").click()
    assert "已记录正确类别" in page.locator("body").inner_text()
    ctx.close()
