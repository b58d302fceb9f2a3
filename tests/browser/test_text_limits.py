"""Issue 10 item 6: a textarea with a limit shows "n/limit" as the person types (vendored
js/char-counter.js); without JavaScript the maxlength attribute still holds and the page
works; the server refuses longer text with a message (see the apps' test_text_limits)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("LINLI_SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def nojs_phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    page = ctx.new_page()
    yield page
    ctx.close()


def test_textarea_shows_a_counter_at_360px(
    world, live_server, phone_page: Any, shots: Path
) -> None:
    base = live_server.url
    login(phone_page, base, "resident")
    phone_page.wait_for_url(f"{base}/me/")
    phone_page.goto(f"{base}/deliberation/topics/new/")
    area = phone_page.locator("textarea[name=description]")
    assert area.get_attribute("maxlength") == "5000"
    counter = phone_page.locator("[data-char-count]")
    assert counter.inner_text() == "0/5000"
    area.fill("楼道灯坏了很久")
    assert counter.inner_text() == "7/5000"
    phone_page.screenshot(path=str(shots / "text-counter-360.png"), full_page=True)


def test_without_javascript_the_limit_holds_and_no_counter(
    world, live_server, nojs_phone: Any
) -> None:
    base = live_server.url
    login(nojs_phone, base, "resident")
    nojs_phone.wait_for_url(f"{base}/me/")
    nojs_phone.goto(f"{base}/deliberation/topics/new/")
    area = nojs_phone.locator("textarea[name=description]")
    assert area.get_attribute("maxlength") == "5000"
    assert nojs_phone.locator("[data-char-count]").count() == 0


def test_roster_import_page_at_360px(world, live_server, phone_page: Any, shots: Path) -> None:
    """Item 13: template link and allowed-values table, no community choice to make."""
    base = live_server.url
    login(phone_page, base, "secretary")
    phone_page.wait_for_load_state("load")
    phone_page.goto(f"{base}/communities/import/")
    assert phone_page.locator("#allowed-values").is_visible()
    assert phone_page.get_by_text("下载名册模板（.xlsx）").is_visible()
    assert phone_page.locator("select[name=community]").count() == 0
    assert int(phone_page.evaluate("document.documentElement.scrollWidth")) <= 360
    phone_page.screenshot(path=str(shots / "roster-import-360.png"), full_page=True)
