"""Propose on a phone → co-sign → review and filing → vote on a 360 px phone without
JavaScript → public results → the filed project's page and the fund (Playwright +
Debian chromium against the live server). Screenshots go to /tmp/shots/projects/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from conftest import World
from linli.projects import services
from linli.projects.models import MicroProject, PBBallot, PBProject, Programme
from linli.projects.tests.conftest import add_resident, voting_programme

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots/projects")  # noqa: S108 - screenshots for a human to look at


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    # No JavaScript at all: every step must work with plain forms.
    ctx = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    # A loaded CI machine can take a while per page; the steps assert content, not speed.
    ctx.set_default_timeout(120_000)
    ctx.set_default_navigation_timeout(120_000)
    yield ctx
    ctx.close()


def as_user(ctx: Any, base: str, user: Any) -> None:
    client = Client()
    client.force_login(user)
    ctx.clear_cookies()
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )


def fits(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth") <= 360)


def test_propose_vote_results_on_phone(
    world: World, live_server: Any, phone: Any, chromium: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    third = add_resident(world, "王六", "103")

    # 1. A resident proposes on the phone (no JS), with two budget lines.
    as_user(phone, base, world.user("resident"))
    tab = phone.new_page()
    tab.goto(base + "/projects/new/")
    tab.fill("#title", "楼道防滑改造")
    tab.fill("#problem", "楼道湿滑，老人摔倒过。")
    tab.fill("#plan", "换防滑地砖，加扶手。")
    tab.fill("#place", "1幢1单元")
    tab.fill("#li1", "防滑地砖")
    tab.fill("#la1", "6000")
    tab.fill("#li2", "扶手")
    tab.fill("#la2", "2500.50")
    assert fits(tab)
    tab.screenshot(path=str(SHOTS / "propose-360.png"), full_page=True)
    tab.get_by_role("button", name="提交提议").click()
    tab.get_by_role("heading", name="楼道防滑改造").wait_for()
    p = MicroProject.objects.get()
    assert p.budget_fen == 850_050

    # 2. Two neighbouring households co-sign; the proposer submits on the phone.
    services.micro_cosign(actor=world.user("neighbour"), project=p)
    services.micro_cosign(actor=third.user, project=p)
    tab.reload()
    tab.get_by_role("button", name="提交社区审核").click()
    tab.get_by_text("居民提议·待社区审核").first.wait_for()

    # 3. Community review and street filing on the staff pages (desktop).
    desk = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    desk.set_default_timeout(120_000)
    desk.set_default_navigation_timeout(120_000)
    as_user(desk, base, world.user("worker"))
    staff = desk.new_page()
    staff.goto(base + "/projects/workbench/")
    staff.screenshot(path=str(SHOTS / "workbench-1280.png"), full_page=True)
    staff.get_by_role("link", name="楼道防滑改造").click()
    staff.get_by_role("button", name="社区审核通过").click()
    staff.get_by_text("社区审核通过·待街道备案").first.wait_for()
    as_user(desk, base, world.user("street_officer"))
    staff.goto(base + f"/projects/{p.pk}/")
    staff.get_by_role("button", name="街道备案").click()
    staff.get_by_text("街道已备案").first.wait_for()
    desk.close()

    # 4. A programme in its voting phase: the resident votes on the phone, no JS —
    #    the running total is computed by the server.
    prog = voting_programme(world, kind="knapsack", k=None)
    ids = list(PBProject.objects.filter(programme=prog).order_by("pk").values_list("pk", flat=True))
    tab.goto(base + f"/projects/pb/{prog.pk}/vote/")
    tab.check(f"#p{ids[0]}")
    tab.check(f"#p{ids[1]}")
    tab.get_by_role("button", name="计算合计").click()
    tab.get_by_text("已选合计 ¥90,000.00").wait_for()
    assert fits(tab)
    tab.screenshot(path=str(SHOTS / "vote-360.png"), full_page=True)
    tab.get_by_role("button", name="确认投票").click()
    tab.get_by_text("投票成功").first.wait_for()
    assert PBBallot.objects.filter(programme=prog).count() == 1
    services.ballot_cast(actor=world.user("neighbour"), programme=prog, project_ids=ids[2:])

    # 5. The vote closes; anyone can read the results on a phone.
    Programme.objects.filter(pk=prog.pk).update(voting_closes=timezone.now() - timedelta(seconds=1))
    prog.refresh_from_db()
    services.programme_advance(actor=world.user("secretary"), programme=prog, action="close_voting")
    phone.clear_cookies()
    tab.goto(base + f"/projects/pb/{prog.pk}/results/")
    tab.get_by_role("heading", name="两种方法的比较").wait_for()
    assert "张三" not in tab.content()
    assert fits(tab)
    tab.screenshot(path=str(SHOTS / "results-360.png"), full_page=True)

    # 6. The filed project is on the public list; its page for the community.
    tab.goto(base + "/projects/public/")
    tab.get_by_text("楼道防滑改造").wait_for()
    as_user(phone, base, world.user("neighbour"))
    tab.goto(base + f"/projects/{p.pk}/")
    tab.get_by_text("街道已备案").first.wait_for()
    assert fits(tab)
    tab.screenshot(path=str(SHOTS / "project-360.png"), full_page=True)


def test_public_map_without_js_on_phone_and_desktop(
    world: World, live_server: Any, chromium: Any
) -> None:
    """The public list's site plan: no JavaScript, fits a 360 px phone in elderly mode,
    tapping a building (an SVG link) lists its projects."""
    from linli.communities.models import Building
    from linli.core import ratelimit
    from linli.projects.tests.conftest import propose

    base = live_server.url
    now = timezone.now()
    grid = world.building.grid
    extra = [
        Building.objects.create(
            community=world.community,
            grid=grid,
            name=f"{n}幢",
            lat=Decimal("30.299000") + (n % 3) * Decimal("0.0007"),
            lng=Decimal("120.099000") + (n // 3) * Decimal("0.0009"),
        )
        for n in range(3, 9)
    ]
    statuses = [
        ("楼道扶手加装", world.building, "delivered", False),
        ("车棚改造", world.building2, "in_progress", False),
        ("小花园", extra[0], "filed", False),
        ("健身角", extra[1], "delivered", True),
        ("路灯维修", extra[2], "in_progress", False),
    ]
    for title, b, status, cut in statuses:
        with ratelimit.suspended():
            p = propose(world, title=title, building_id=b.pk)
        MicroProject.objects.filter(pk=p.pk).update(
            status=status, submitted_at=now, review_due=now, filed_at=now, funding_cut=cut
        )
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, name in ((360, "map-360-elderly.png"), (1280, "map-1280-elderly.png")):
        ctx = chromium.new_context(
            viewport={"width": width, "height": 900}, locale="zh-CN", java_script_enabled=False
        )
        ctx.set_default_timeout(120_000)
        ctx.set_default_navigation_timeout(120_000)
        ctx.add_cookies([{"name": "linli_elderly", "value": "1", "url": base}])
        tab = ctx.new_page()
        tab.goto(base + "/projects/public/")
        tab.get_by_text("项目分布图").first.wait_for()
        if width == 360:
            assert fits(tab)
        tab.screenshot(path=str(SHOTS / name), full_page=True)
        if width == 360:
            tab.locator(f'a[href="?building={world.building2.pk}#projects"]').click()
            tab.get_by_text("显示全部项目").wait_for()
            body = tab.content()
            assert "车棚改造" in body and "小花园" not in body
            tab.screenshot(path=str(SHOTS / "map-360-building.png"), full_page=True)
        # The propose page now offers the filed projects as an earlier round.
        resident = world.user("resident")
        type(resident).objects.filter(pk=resident.pk).update(elderly_mode=True)  # logged in
        as_user(ctx, base, resident)
        tab.goto(base + "/projects/new/")
        tab.locator('select[name="continues"]').wait_for()
        if width == 360:
            assert fits(tab)
        tab.screenshot(path=str(SHOTS / f"propose-{width}-elderly.png"), full_page=True)
        ctx.close()
