"""Report → dispatch → resolve → rate, in Chromium: the resident on a 360 px phone,
staff on a desktop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from linli.requests.models import ServiceRequest, Status

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def browser(live_server: Any, chromium: Any) -> Any:
    return chromium


def _tab_as(browser: Any, live_server: Any, user: Any, width: int) -> Any:
    client = Client()
    client.force_login(user)
    ctx = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
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


def test_report_dispatch_resolve_rate(
    browser: Any, live_server: Any, world: Any, cats: Any
) -> None:
    phone = _tab_as(browser, live_server, world.user("resident"), 360)
    phone.goto(live_server.url + "/")
    phone.get_by_role("link", name="随手拍").click()
    phone.get_by_label("问题类别").select_option(label="路灯/楼道灯损坏")
    phone.get_by_label("楼栋").select_option(label="1幢")
    phone.get_by_label("问题描述").fill("1幢三楼楼道灯坏了一个星期，晚上看不见台阶")
    phone.get_by_role("button", name="提交").click()
    phone.get_by_text("诉求已提交").wait_for()
    req = ServiceRequest.objects.get()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    desk = _tab_as(browser, live_server, world.user("secretary"), 1280)
    desk.goto(live_server.url + "/requests/desk/")
    desk.get_by_role("link", name=f"#{req.pk}").click()
    desk.get_by_role("button", name="受理", exact=True).click()
    desk.get_by_text("已受理。").wait_for()
    desk.get_by_label("派单至（派给职能部门即“吹哨”）").select_option(label="甲物业")
    desk.get_by_role("button", name="派单", exact=True).click()
    desk.get_by_text("已派单。").wait_for()
    req.refresh_from_db()
    assert req.status == Status.DISPATCHED and req.assignee_org == world.property_company

    prop = _tab_as(browser, live_server, world.user("property"), 1280)
    prop.goto(live_server.url + f"/requests/desk/{req.pk}/")
    prop.get_by_label("办理结果").fill("已更换 LED 灯管，楼道恢复照明")
    prop.get_by_role("button", name="办结", exact=True).click()
    prop.get_by_text("已办结，等待居民评价。").wait_for()

    phone.goto(live_server.url + f"/requests/{req.pk}/")
    assert "已更换 LED 灯管" in phone.content()
    phone.get_by_label("5 ★").check()
    phone.get_by_label("评价（可选）").fill("修得很快，谢谢物业")
    phone.get_by_role("button", name="提交评价").click()
    phone.get_by_text("感谢您的评价！").wait_for()
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.rating == 5
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
