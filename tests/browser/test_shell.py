from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_logs_in_on_a_phone_and_sees_chinese(
    world, live_server, phone_page: Any, tmp_path
) -> None:
    world.users["resident"].phone = "13812341234"
    world.users["resident"].save()
    login(phone_page, live_server.url, "13812341234")
    phone_page.wait_for_url(f"{live_server.url}/me/")
    assert phone_page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "您好" in phone_page.inner_text("main")
    # Nothing overflows a 360 px screen.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    # Elderly mode: larger type, remembered across pages.
    before = phone_page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    phone_page.click("text=长辈模式")
    phone_page.wait_for_selector("html.elderly")
    phone_page.wait_for_load_state("load")
    after = phone_page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert after > before
    phone_page.goto(f"{live_server.url}/accounts/profile/")
    assert "elderly" in (phone_page.locator("html").get_attribute("class") or "")
    phone_page.screenshot(path=str(tmp_path / "resident.png"), full_page=True)


def test_staff_logs_in_and_sees_roster_with_masked_phone(
    world, live_server, desktop_page: Any
) -> None:
    login(desktop_page, live_server.url, "secretary")
    desktop_page.wait_for_url(f"{live_server.url}/workbench/")
    assert "工作台" in desktop_page.inner_text("main")
    desktop_page.click("nav.staffnav >> text=居民名册")
    text = desktop_page.inner_text("main")
    assert "张三" in text and "138****1234" in text and "13812341234" not in text


def test_works_without_javascript(world, live_server, browser: Any) -> None:
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    login(page, live_server.url, "resident")
    page.wait_for_url(f"{live_server.url}/me/")
    assert "您好" in page.inner_text("main")  # Chinese even though the browser asks for English
    page.click("button[lang=en]")
    assert "Hello" in page.inner_text("main")
    ctx.close()
