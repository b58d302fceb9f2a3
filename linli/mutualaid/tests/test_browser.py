"""On a 360 px phone, without JavaScript: a resident posts a need, picks a ranked
suggestion, the volunteer accepts, the resident confirms and settles in time-bank hours
(Playwright + Debian chromium against the live server). Screenshots go to
/tmp/shots/mutualaid/."""

from __future__ import annotations

import os
from typing import Any

import pytest

from linli.core.tests.browser import login, shooter

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

shot = shooter("mutualaid", check_width=True)


def test_post_need_accept_match_settle_in_hours(world: Any, live_server: Any, page: Any) -> None:
    from linli.ledger.models import Account
    from linli.mutualaid.models import Match
    from linli.mutualaid.tests import factories as f

    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"], ["weekday_eve"])
    f.refresh(world)
    base = live_server.url

    login(page, base, "resident")
    page.goto(f"{base}/mutualaid/")
    shot(page, "01-home")
    page.click("main >> text=我要求助")
    page.select_option("select[name=category]", "plumbing")
    page.fill("input[name=title]", "厨房水管漏水")
    page.fill("input[name=minutes]", "90")
    shot(page, "02-need-form")
    with page.expect_navigation():
        page.click("main button:has-text('发布')")
    main = page.inner_text("main")
    assert "为您推荐" in main and "技能对口：水电维修" in main and "步行约" in main
    shot(page, "03-suggestions")
    with page.expect_navigation():
        page.click("main button:has-text('请TA帮忙')")
    assert "等待对方接受" in page.inner_text("main")

    assert helper.user is not None
    login(page, base, helper.user.username)
    page.goto(f"{base}/mutualaid/")
    assert "厨房水管漏水" in page.inner_text("main")
    shot(page, "04-helper-asked")
    with page.expect_navigation():
        page.click("main button:has-text('接受')")
    assert "已接受" in page.inner_text("main")
    assert Match.objects.get().status == "agreed"

    login(page, base, "resident")
    page.goto(f"{base}/mutualaid/")
    page.click("main >> text=厨房水管漏水")
    assert "双方已确认" in page.inner_text("main")
    page.fill("input[name=minutes]", "75")
    page.select_option("select[name=rating]", "5")
    shot(page, "05-settle-form")
    with page.expect_navigation():
        page.click("main button:has-text('确认完成并结算')")
    main = page.inner_text("main")
    assert "已确认完成并结算" in main and "75 分钟时间银行" in main
    shot(page, "06-settled")
    assert Account.objects.get(resident=helper, currency="minutes").balance == 75

    # Elderly mode on the same page still fits the phone.
    with page.expect_navigation():
        page.click("header button:has-text('长辈模式')")
    shot(page, "07-settled-elderly")
