"""Issue 10: a ballot that is open but not yet started says when it starts and offers
no form (360 px phone); the result bars fit a phone; 兑换 and 开始投票 each show a
confirmation page first — without JavaScript — and only its button acts."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.ledger import services as ledger
from linli.ledger.models import Currency, EarnKind, Voucher
from linli.voting.models import Ballot, BallotVoter
from linli.voting.services import ballot_close, vote_cast
from linli.voting.tests.conftest import expire, make_ballot
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: LINLI_SHOTS_DIR to look at them, else the test's tmp dir."""
    out = Path(os.environ.get("LINLI_SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def nojs_phone(browser: Any) -> Any:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    page = ctx.new_page()
    yield page
    ctx.close()


def _width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _fits(page: Any) -> bool:
    # evaluate() runs through the DevTools protocol: it works with page scripts off.
    return _width(page) <= 360


def test_ballot_not_yet_open_on_a_phone(world, live_server, phone_page: Any, shots: Path) -> None:
    local = timezone.now().astimezone(SHANGHAI) + timedelta(days=1)
    opens = datetime(local.year, local.month, local.day, 9, 0, tzinfo=SHANGHAI)
    ballot = make_ballot(
        world, title="小区东门加装道闸", opens_at=opens, closes_at=opens + timedelta(days=3)
    )
    base = live_server.url
    login(phone_page, base, "resident")
    phone_page.wait_for_url(f"{base}/me/")
    phone_page.goto(f"{base}/voting/{ballot.pk}/")
    badge = phone_page.locator("dl.kv .badge").first
    assert badge.inner_text().strip() == f"未开始 · {opens:%m-%d} 09:00 开始"
    assert "green" not in (badge.get_attribute("class") or "")
    assert phone_page.locator("input[name=choice]").count() == 0
    assert phone_page.locator("form[action$='/vote/']").count() == 0
    assert "投票中" not in phone_page.locator("main").inner_text()
    assert _fits(phone_page)
    phone_page.screenshot(path=shots / "ballot_upcoming_360.png", full_page=True)
    phone_page.goto(f"{base}/voting/")
    assert f"未开始 · {opens:%m-%d} 09:00 开始" in phone_page.locator("main").inner_text()
    assert _fits(phone_page)


def test_result_bars_fit_a_phone(world, live_server, phone_page: Any, shots: Path) -> None:
    ballot = make_ballot(world, title="是否同意更换小区路灯")
    vote_cast(actor=world.user("resident"), ballot=ballot, choices=[0])
    vote_cast(actor=world.user("neighbour"), ballot=ballot, choices=[1])
    expire(ballot)
    ballot_close(actor=world.user("secretary"), ballot=ballot)
    base = live_server.url
    login(phone_page, base, "resident")
    phone_page.wait_for_url(f"{base}/me/")
    phone_page.goto(f"{base}/voting/{ballot.pk}/result/")
    bars = phone_page.locator("progress.bar")
    assert bars.count() == 3
    for i in range(3):
        box = bars.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["width"] > 200  # a real bar, not a sliver
    assert _fits(phone_page)
    phone_page.screenshot(path=shots / "ballot_result_bars_360.png", full_page=True)


def test_redeem_confirmation_without_javascript(
    world, live_server, nojs_phone: Any, shots: Path
) -> None:
    sec = world.user("secretary")
    ledger.rule_save(
        actor=sec,
        community=world.community,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=10,
        daily_cap=500,
        monthly_cap=1000,
        approver_roles=[],
    )
    r = world.residents["resident"]
    ledger.award(
        actor=sec, resident=r, kind=EarnKind.VOLUNTEER_SERVICE, amount=150, idempotency_key="g"
    )
    ledger.item_save(
        actor=sec,
        community=world.community,
        name="社区理发券",
        kind="service",
        price_points=120,
        stock=5,
        per_person_limit=2,
    )
    base = live_server.url
    page = nojs_phone
    login(page, base, "resident")
    page.wait_for_url(f"{base}/me/")
    page.goto(f"{base}/ledger/catalogue/")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")
    text = page.locator("main").inner_text()
    assert "将花费 120 积分兑换“社区理发券”，兑换后不可撤销。" in text
    assert "30" in page.locator("dl.kv").inner_text()  # left after redeeming
    assert Voucher.objects.count() == 0
    assert ledger.resident_account(r, Currency.POINTS).balance == 150
    assert _fits(page)
    page.screenshot(path=shots / "redeem_confirm_360.png", full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/ledger/vouchers/")
    assert Voucher.objects.count() == 1
    assert ledger.resident_account(r, Currency.POINTS).balance == 30


def test_open_confirmation_without_javascript(
    world, live_server, nojs_phone: Any, shots: Path
) -> None:
    ballot = make_ballot(world, title="楼道堆物清理方案", open_now=False)
    base = live_server.url
    page = nojs_phone
    login(page, base, "secretary")
    page.wait_for_load_state("load")
    page.goto(f"{base}/voting/{ballot.pk}/")
    page.click("form[action$='/open/'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "开始后选民名单将被冻结，共 2 名选民。" in page.locator("main").inner_text()
    ballot.refresh_from_db()
    assert ballot.status == Ballot.Status.DRAFT
    assert _fits(page)
    page.screenshot(path=shots / "open_confirm_360.png", full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/voting/{ballot.pk}/")
    assert "投票已开始，选民名册已固定" in page.locator("main").inner_text()
    ballot.refresh_from_db()
    assert ballot.status == Ballot.Status.OPEN and ballot.eligible_count == 2
    assert BallotVoter.objects.filter(ballot=ballot).count() == 2
