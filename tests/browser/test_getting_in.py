"""Getting in at 360 px without JavaScript: the login page's three ways in, and an
activation code issued at the service window then used by the resident."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_and_activation_at_360px(
    world, live_server, browser: Any, tmp_path: Any
) -> None:
    from linli.communities.models import Resident

    base = live_server.url
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    page = ctx.new_page()
    page.goto(f"{base}/accounts/login/")
    for text in ["短信验证码登录", "激活账号", "忘记密码"]:
        assert page.get_by_role("link", name=text).count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "login-360.png"), full_page=True)
    page.get_by_role("link", name="短信验证码登录").click()
    page.wait_for_url(f"{base}/accounts/login/code/")
    # Staff issue a code for a resident without an account.
    resident = world.residents["resident"]
    Resident.objects.filter(pk=resident.pk).update(user=None)
    login(page, base, "worker")
    page.wait_for_load_state("load")
    page.goto(f"{base}/accounts/activation/issue/{resident.pk}/")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")
    shown = page.locator("#activation-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", shown)
    page.screenshot(path=str(tmp_path / "activation-issue-360.png"), full_page=True)
    ctx.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="激活账号").first.click()
    page.fill("input[name=code]", shown)
    page.fill("input[name=password1]", "Zq8-linli-act")
    page.fill("input[name=password2]", "Zq8-linli-act")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/me/")
    resident.refresh_from_db()
    assert resident.user is not None
    ctx.close()
