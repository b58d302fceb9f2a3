"""A volunteer signs up on a phone, is checked in by staff, sees the points arrive and
redeems a reward (Playwright + Debian chromium against the live server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.tests.browser import login, phone

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    with phone(chromium, js=True) as p:  # this one with JavaScript on
        yield p


def test_volunteer_signs_up_checked_in_gets_points_and_redeems(
    world: Any, live_server: Any, page: Any
) -> None:
    from linli.ledger import services as ledger
    from linli.ledger.models import EarnKind, Voucher
    from linli.volunteers import services

    ledger.rule_save(
        actor=world.user("secretary"),
        community=world.community,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=30,
    )
    ledger.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="爱心理发服务",
        kind="service",
        price_points=20,
        stock=5,
    )
    now = timezone.now()
    activity = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="garbage",
        title="垃圾分类督导",
        location="1幢分类亭",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=1),
        capacity=5,
        earn_kind="volunteer_service",
    )
    base = live_server.url
    # The volunteer signs up on the phone.
    login(page, base, "resident")
    page.goto(f"{base}/volunteers/")
    page.click("text=垃圾分类督导")
    page.click("main >> text=我要报名")
    assert "报名成功" in page.inner_text("main")
    assert page.inner_text("#my-status") == "已报名"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Staff check them in and out at the venue.
    login(page, base, "worker")
    page.goto(f"{base}/volunteers/{activity.pk}/")
    page.click("main button:has-text('签到')")
    assert "已签到" in page.inner_text("main")
    page.click("main button:has-text('签退并发放')")
    assert "已签退" in page.inner_text("main")
    # The volunteer sees the points, then redeems a reward.
    login(page, base, "resident")
    page.goto(f"{base}/ledger/")
    assert page.inner_text("#points-balance") == "30"
    page.goto(f"{base}/ledger/catalogue/")
    page.click("main button:has-text('兑换')")
    # Spending points is irreversible: a confirmation page comes first.
    assert "兑换后不可撤销" in page.inner_text("main")
    page.click("main button:has-text('确认兑换')")
    page.wait_for_url(f"{base}/ledger/vouchers/")
    code = Voucher.objects.get().code
    assert code in page.inner_text("main")
    page.goto(f"{base}/ledger/")
    assert page.inner_text("#points-balance") == "10"
