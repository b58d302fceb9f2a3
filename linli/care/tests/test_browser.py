"""On a 360 px phone, without JavaScript: an alert arrives (signed SOS through the
ingest endpoint) → the grid worker sees it on top of the task list, acknowledges,
resolves with an outcome. Screenshots go to /tmp/shots/care/."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linli.care import services
from linli.care.models import Alert
from linli.core.tests.browser import login, shooter

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
shot = shooter("care")


def test_alert_arrives_grid_worker_acknowledges_and_resolves_on_the_phone(
    care: Any, live_server: Any, page: Any
) -> None:
    # The SOS button presses: a signed request to the live endpoint.
    body = json.dumps(
        {"readings": [{"device": "SOS-101", "at": datetime.now(UTC).isoformat(), "kind": "sos"}]}
    ).encode()
    ts = str(int(datetime.now(UTC).timestamp()))
    req = urllib.request.Request(  # noqa: S310 - the test's own http server
        f"{live_server.url}/api/v1/care/ingest",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Device": "SOS-101",
            "X-Timestamp": ts,
            "X-Signature": services.sign(care.sos_secret, ts, body),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the test's own server
        assert json.loads(resp.read())["alerts"]
    alert = Alert.objects.get(rule="sos")

    login(page, live_server.url, "grid_worker")
    page.goto(f"{live_server.url}/care/")
    card = page.locator(f"#alert-{alert.pk}")
    assert card.is_visible() and "一键呼救" in card.inner_text()
    shot(page, "01-task-list-alert")
    with page.expect_navigation():
        card.get_by_role("button", name="我已收到，马上处理").click()
    assert "已确认响应" in page.content()
    page.goto(f"{live_server.url}/care/alerts/{alert.pk}/")
    assert "已响应" in page.locator("#alert-status").inner_text()
    page.get_by_label("已上门，一切正常").check()
    page.fill("#note", "老人误按，已上门确认")
    shot(page, "02-alert-resolve")
    with page.expect_navigation():
        page.click("#resolve")
    assert "已处置" in page.locator("#alert-status").inner_text()
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.outcome == "fine"
    assert alert.acknowledged_by == care.world.user("grid_worker")
    # The visit form fits and works without JavaScript too.
    page.goto(f"{live_server.url}/care/s/{care.subject.pk}/visit/")
    page.get_by_label("见到了").check()
    page.get_by_label("饮食正常").check()
    shot(page, "03-visit-form")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    assert "走访已登记" in page.content()
    shot(page, "04-visit-done")


def test_staff_pages_wide_and_resident_away_in_elderly_mode(
    care: Any, live_server: Any, chromium: Any
) -> None:
    from linli.care.rules import Point, Verdict
    from linli.core import ratelimit

    now = datetime.now(UTC)
    with ratelimit.suspended():
        services.raise_alert(
            device=care.meter,
            verdict=Verdict("no_water", "12 小时内用水 3 升", [Point(1, now, 1000, "meter")]),
            subject=care.subject,
            now=now,
        )
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    login(page, live_server.url, "secretary")
    for path, name in (("/care/roster/", "10-roster-1280"), ("/care/alerts/", "11-alerts-1280")):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").is_visible()
        shot(page, name)
    assert "长时间无用水" in page.locator("#alerts").inner_text()
    page.goto(f"{live_server.url}/care/alerts/?lang=en")
    ctx.close()

    resident = care.world.user("resident")
    resident.elderly_mode = True
    resident.save()
    ctx = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    page = ctx.new_page()
    login(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/care/")
    assert "elderly" in (page.locator("html").get_attribute("class") or "")
    page.fill("input[name=until]", (now + timedelta(days=3)).date().isoformat())
    shot(page, "12-resident-away-elderly")
    with page.expect_navigation():
        page.get_by_role("button", name="报备外出").click()
    assert "我已回家" in page.content()
    shot(page, "13-resident-away-done")
    ctx.close()
