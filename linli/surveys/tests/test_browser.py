"""A resident answers a survey with skip logic on a 360 px phone with JavaScript
switched off; staff see the results with charts (JavaScript on, 1280 px) and the
tables alone on a phone without it. Screenshots go to /tmp/shots/surveys/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from linli.surveys.models import Participation
from linli.surveys.tests.conftest import crowd, make_survey, paper

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots/surveys")  # noqa: S108 - screenshots for people to look at


def _context(chromium: Any, live_server: Any, user: Any, *, width: int, js: bool) -> Any:
    ctx = chromium.new_context(
        viewport={"width": width, "height": 800}, locale="zh-CN", java_script_enabled=js
    )
    c = Client()
    c.force_login(user)
    ctx.add_cookies(
        [{"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}]
    )
    return ctx


@pytest.fixture
def shots() -> Iterator[Path]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield SHOTS


def test_answer_with_skip_logic_on_phone_without_js(
    world: Any, live_server: Any, chromium: Any, shots: Path
) -> None:
    s = make_survey(world)
    ctx = _context(chromium, live_server, world.users["resident"], width=360, js=False)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/surveys/")
    page.screenshot(path=str(shots / "01-list-360.png"), full_page=True)
    page.click(f"a[href='/surveys/{s.pk}/fill/']")
    page.locator("input[name=q_q1]").first.wait_for()
    assert page.locator("input[name=q_q1]").count() == 2
    assert page.locator("input[name=q_q2]").count() == 0
    page.screenshot(path=str(shots / "02-step1-360.png"), full_page=True)
    # Submit without an answer: told it is required, nothing saved.
    page.click("#next")
    assert "必答" in page.inner_text("#fill-error")
    page.check("input[name=q_q1][value='2']")  # 没有 → jumps to q4 on page 2
    page.click("#next")
    # A form post without JavaScript: wait for the next page before counting on it
    # (count() does not wait, and a loaded CI machine answers late).
    page.locator("input[name=q_q4_r1]").first.wait_for()
    assert page.locator("input[name=q_q4_r1]").count() == 3
    assert page.locator("input[name=q_q2]").count() == 0
    assert page.locator("input[name=q_q6]").count() == 0  # shown only when q1 = 1
    assert "第 2 页" in page.inner_text("#progress")
    page.check("input[name=q_q4_r1][value='3']")
    page.check("input[name=q_q4_r2][value='2']")
    page.fill("textarea[name=q_q5]", "楼道灯坏了")
    page.screenshot(path=str(shots / "03-page2-360.png"), full_page=True)
    # Nothing overflows sideways on a 360 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("#next")
    page.get_by_text("感谢").first.wait_for()
    assert "感谢" in page.inner_text("main")
    page.screenshot(path=str(shots / "04-done-360.png"), full_page=True)
    p = Participation.objects.get(survey=s)
    assert p.resident_id == world.residents["resident"].pk and p.response_id is None
    ctx.close()


def test_results_with_charts_and_tables(
    world: Any, live_server: Any, chromium: Any, shots: Path
) -> None:
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 7)):
        paper(
            world,
            s,
            r,
            {
                "q1": "1",
                "q2": str(1 + i % 5),
                "q3": [str(1 + i % 3)],
                "q4": {"1": str(1 + i % 3), "2": "3"},
                "q5": "电梯维修太慢" if i % 2 else "绿化很好",
            },
        )
    ctx = _context(chromium, live_server, world.users["worker"], width=1280, js=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/surveys/{s.pk}/results/")
    page.wait_for_selector(".chart.drawn svg")
    assert page.locator(".chart.drawn").count() >= 4
    page.screenshot(path=str(shots / "05-results-1280.png"), full_page=True)
    assert not errors, errors
    ctx.close()
    ctx = _context(chromium, live_server, world.users["worker"], width=360, js=False)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/surveys/{s.pk}/results/?by=age_band")
    assert page.locator("#r-q2 table").count() == 1
    assert page.locator(".chart.drawn").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(shots / "06-results-360-nojs.png"), full_page=True)
    ctx.close()


def test_background_export_on_phone_without_js(
    world: Any, live_server: Any, chromium: Any, shots: Path
) -> None:
    """Staff make an answers export on the exports page (360 px, no JavaScript, elderly
    mode): the in-process task backend of the tests makes it as the request commits,
    and the page lists it for download."""
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 6)):
        paper(world, s, r, {"q1": "2", "q4": {"1": str(1 + i % 3), "2": "3"}})
    worker = world.users["worker"]
    worker.elderly_mode = True
    worker.save()
    ctx = _context(chromium, live_server, worker, width=360, js=False)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/surveys/{s.pk}/exports/")
    assert "elderly" in (page.locator("html").get_attribute("class") or "")
    page.screenshot(path=str(shots / "07-exports-360-elderly.png"), full_page=True)
    with page.expect_navigation():
        page.click("#make-xlsx")
    link = page.locator(f"a[href^='/surveys/{s.pk}/exports/']")
    assert link.count() == 1 and "下载" in link.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(shots / "08-exports-ready-360-elderly.png"), full_page=True)
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename == f"survey-{s.pk}-answers.xlsx"
    ctx.close()
