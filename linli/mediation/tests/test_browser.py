"""On a 360 px phone without JavaScript: a mediator opens a case, records a session,
writes the agreement, registers its signing and closes the case (Playwright + Debian
chromium against the live server). Screenshots go to /tmp/shots/mediation/."""

from __future__ import annotations

import os
from typing import Any

import pytest

from linli.core.tests.browser import fits, login, shooter

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
shot = shooter("mediation")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mediator_opens_records_agrees_and_closes(
    world: Any, live_server: Any, page: Any, chromium: Any
) -> None:
    from django.utils import timezone

    from linli.mediation import services
    from linli.mediation.models import Case

    services.mediator_add(
        actor=world.user("secretary"), community=world.community, user=world.user("grid_worker")
    )
    base = live_server.url
    login(page, base, "grid_worker")
    # Open the case.
    page.goto(f"{base}/mediation/new/")
    fits(page)
    page.fill("#title", "楼上卫生间漏水")
    page.select_option("#kind", "leakage")
    page.fill("#facts", "2幢201卫生间漏水渗到1幢101，双方对赔偿有争议。")
    page.select_option("#building", str(world.building.pk))
    page.fill("#applicant_phone", world.residents["resident"].phone)
    page.fill("#respondent_phone", world.residents["neighbour"].phone)
    page.select_option("#mediator", label="grid_worker · 人民调解委员会")
    shot(page, "1-open")
    with page.expect_navigation():
        page.click("main button:has-text('受理')")
    assert "已受理调解案件" in page.inner_text("main")
    case = Case.objects.get()
    assert page.inner_text("#case-status") == "已受理"
    fits(page)
    # Record a session.
    page.fill("#location", "社区调解室")
    page.fill("#attendees", "张三、李四")
    page.fill("#notes", "双方陈述漏水经过，同意请物业检测漏点后协商赔偿。")
    with page.expect_navigation():
        page.click("main button:has-text('保存调解记录')")
    assert "调解记录已保存" in page.inner_text("main")
    assert page.inner_text("#case-status") == "调解中"
    shot(page, "2-session")
    # Write the agreement.
    with page.expect_navigation():
        page.click("main a:has-text('制作调解协议书')")
    fits(page)
    page.fill("#ag-disputed_matters", "天花板修复费用由谁承担。")
    page.fill("#ag-responsibilities", "被申请人对漏水负责。")
    page.fill("#ag-terms", "被申请人修复防水层并赔偿800元。")
    page.fill("#ag-performance_method", "一次性现金支付。")
    page.fill(
        "#ag-performance_deadline",
        (timezone.localdate().replace(day=28)).isoformat()
        if timezone.localdate().day < 28
        else timezone.localdate().isoformat(),
    )
    shot(page, "3-agreement")
    with page.expect_navigation():
        page.click("main button:has-text('保存协议书')")
    assert "调解协议书已保存" in page.inner_text("main")
    # Closing as agreed before signing is refused, with the reason.
    page.select_option("#outcome", "agreement")
    with page.expect_navigation():
        page.click("#close-form button")
    assert "尚未由各方签名" in page.inner_text("main")
    # Register the signing, then close.
    page.check("input[name=parties_signed]")
    page.check("input[name=mediator_signed]")
    page.check("input[name=sealed]")
    with page.expect_navigation():
        page.click("main button:has-text('登记协议生效')")
    assert "调解协议书已生效" in page.inner_text("main")
    page.select_option("#outcome", "agreement")
    with page.expect_navigation():
        page.click("#close-form button")
    assert page.inner_text("#case-status") == "已结案"
    assert "司法确认" in page.inner_text("#confirmation")
    fits(page)
    shot(page, "4-closed")
    case.refresh_from_db()
    assert case.outcome == "agreement" and case.followup_due is not None
    # The printable agreement.
    page.goto(f"{base}/mediation/{case.pk}/agreement/print/")
    assert "人民调解协议书" in page.inner_text("body")
    fits(page)
    shot(page, "5-print")
    # The staff view at desk width.
    wide = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        desk = wide.new_page()
        login(desk, base, "worker")
        desk.goto(f"{base}/mediation/")
        shot(desk, "6-list-1280")
    finally:
        wide.close()
