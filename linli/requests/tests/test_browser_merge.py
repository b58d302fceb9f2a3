"""Merging a duplicate on a 360 px phone without JavaScript: empty choice, related
candidates only, and a confirmation step (issue 10, finding 12)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from linli.requests.models import ServiceRequest, Status

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots")  # noqa: S108 - screenshots for review, per the brief

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


def test_merge_needs_a_choice_and_a_confirmation_on_a_phone_without_js(
    live_server: Any, chromium: Any, world: Any, submit: Any
) -> None:
    now = timezone.now()
    a = submit("fac-light", "1幢三楼楼道灯坏了，晚上很黑", now=now)
    b = submit("fac-light", "1幢楼道灯不亮，三楼和四楼都黑", now=now, user="neighbour")
    unrelated = submit("env-garbage", "2幢垃圾桶满了没人清运", now=now, building=world.building2)

    client = Client()
    client.force_login(world.user("secretary"))
    ctx = chromium.new_context(
        viewport={"width": 360, "height": 800}, locale="zh-CN", java_script_enabled=False
    )
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
    page.goto(live_server.url + f"/requests/desk/{a.pk}/")
    choice = page.get_by_label("与此诉求重复")
    assert choice.input_value() == ""  # nothing pre-selected
    values = choice.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert values == ["", str(b.pk)] and str(unrelated.pk) not in values
    choice.select_option(str(b.pk))
    page.get_by_role("button", name="下一步：确认合并").click()
    page.get_by_role("heading", name=f"确认合并 #{a.pk} 到 #{b.pk}？").wait_for()
    assert ServiceRequest.objects.get(pk=a.pk).status == Status.SUBMITTED
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "requests_merge_confirm_360.png"), full_page=True)
    page.get_by_role("button", name="确认合并").click()
    page.get_by_text("已合并。").wait_for()
    merged = ServiceRequest.objects.get(pk=a.pk)
    assert merged.status == Status.MERGED and merged.merged_into_id == b.pk
    ctx.close()
