"""The resident home shows what waits (unread notices, ballots to vote in, requests to
rate) with 随手拍 on top and minor tiles under 更多; the staff workbench opens with an
urgency strip whose numbers match the filtered queue each one links to."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.core import ratelimit
from linli.notices.models import Notice
from linli.notices.services import notice_create, notice_mark_read, notice_publish
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, DueState, ServiceRequest
from linli.requests.services import request_accept, request_resolve, request_submit
from linli.voting.services import ballot_create, ballot_open, vote_cast

pytestmark = pytest.mark.django_db


def _notices(world: Any, n: int) -> list[Notice]:
    out = []
    for i in range(n):
        notice = notice_create(
            actor=world.user("secretary"),
            community=world.community,
            title=f"停水通知 {i}",
            body="周三 9:00–12:00 停水检修。",
            summary="周三上午停水",
        )
        out.append(notice_publish(actor=world.user("secretary"), notice=notice))
    return out


def _ballot(world: Any, title: str, **kw: Any) -> Any:
    now = timezone.now()
    args: dict[str, Any] = {
        "actor": world.user("secretary"),
        "community": world.community,
        "title": title,
        "kind": "yes_no_abstain",
        "options": [],
        "eligibility": "all_residents",
        "validity_rule": "participation_20",
        "opens_at": now - timedelta(minutes=5),
        "closes_at": now + timedelta(days=3),
    }
    args.update(kw)
    return ballot_open(actor=world.user("secretary"), ballot=ballot_create(**args))


def _submit(world: Any, user: str = "resident", text: str = "楼道灯坏了") -> ServiceRequest:
    # Each resident reports at their own building (the neighbour lives in 2幢, grid 2).
    building = world.building2 if user == "neighbour" else world.building
    ensure_categories()
    with ratelimit.suspended():
        return request_submit(
            actor=world.user(user),
            category=Category.objects.get(code="fac-light"),
            description=f"{text}，晚上很黑，老人下楼不安全",
            building=building,
        )


def _resolved(world: Any, user: str = "resident") -> ServiceRequest:
    req = _submit(world, user, text=f"{user} 门口路灯坏了")
    p = world.user("property")
    req = request_accept(actor=p, request=req)
    return request_resolve(actor=p, request=req, resolution="已更换灯泡")


def _home(client: Any, world: Any, user: str = "resident") -> str:
    client.force_login(world.user(user))
    r = client.get("/me/")
    assert r.status_code == 200
    return str(r.content.decode())


def _waiting(html: str) -> str:
    m = re.search(r'<section class="card waiting".*?</section>', html, re.S)
    return m.group(0) if m else ""


def test_home_counts_unread_notices_ballots_and_ratings(client: Any, world: Any) -> None:
    notices = _notices(world, 6)
    notice_mark_read(actor=world.user("resident"), notice=notices[0])
    b1 = _ballot(world, "加装电梯")
    _ballot(world, "更换门禁")
    voted = _ballot(world, "绿化改造")
    vote_cast(actor=world.user("resident"), ballot=voted, choices=[0])
    # Not yet open, or for owners only (the resident's household owns; the neighbour
    # rents): only open ballots on the resident's roll count.
    _ballot(
        world,
        "明年的事",
        opens_at=timezone.now() + timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
    )
    _resolved(world)
    _submit(world, text="垃圾桶满了")  # open, nothing to rate yet
    _resolved(world, "neighbour")  # someone else's

    waiting = _waiting(_home(client, world))
    assert "5 条未读公告" in waiting
    assert "2 项投票待您参与" in waiting
    assert "1 件诉求待您评价" in waiting

    vote_cast(actor=world.user("resident"), ballot=b1, choices=[1])
    for n in notices[1:]:
        notice_mark_read(actor=world.user("resident"), notice=n)
    waiting = _waiting(_home(client, world))
    assert "1 项投票待您参与" in waiting and "未读公告" not in waiting


def test_home_puts_report_on_top_and_minor_tiles_under_more(client: Any, world: Any) -> None:
    html = _home(client, world)
    assert "等您处理" not in html  # nothing waits: no empty box
    primary = html.index('class="primary-action"')
    assert 'href="/requests/new/"' in html[primary : primary + 200]
    main_tiles, more = html.split('id="more-h"')
    assert primary < main_tiles.index('class="tiles"')
    for label in ["社区公告", "我的诉求", "投票站", "议事厅", "我的积分", "志愿活动"]:
        assert label in main_tiles, label
    for label in ["时间银行", "积分兑换", "我是志愿者", "社区名人堂", "我的资料与隐私"]:
        assert label in more and label not in main_tiles.split('class="tiles"')[1], label
    # Every tile has its own drawn icon: no tile falls back to a repeated character.
    icons = re.findall(r'<span class="tile-icon" aria-hidden="true">(.*?)</span>', html, re.S)
    assert len(icons) >= 11 and all(i.startswith("<svg") for i in icons)
    assert len(set(icons)) == len(icons)


def test_home_counts_cost_one_query_each(client: Any, world: Any) -> None:
    _notices(world, 2)
    _ballot(world, "加装电梯")
    _resolved(world)
    client.force_login(world.user("resident"))
    client.get("/me/")  # warm caches (session, scope)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/me/")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum("voting_ballot" in s for s in sql) == 1
    assert sum('"requests_servicerequest"' in s and "COUNT" in s.upper() for s in sql) == 1
    assert len(sql) <= 14, sql


# ------------------------------------------------------------------ staff urgency strip


def _strip(html: str) -> dict[str, tuple[int, str]]:
    m = re.search(r'<nav class="urgency".*?</nav>', html, re.S)
    assert m, "no urgency strip"
    cells = re.findall(
        r'<a class="urgency-cell[^"]*" href="([^"]+)"><span class="urgency-label">(.*?)</span>'
        r' <strong class="urgency-n">(\d+)</strong>',
        m.group(0),
    )
    return {label: (int(n), href.replace("&amp;", "&")) for href, label, n in cells}


def _urgent_world(world: Any) -> None:
    overdue = _submit(world, text="井盖丢失")
    today = _submit(world, text="路面塌陷")
    later = _submit(world, text="噪音扰民")
    # Fixed limits relative to now: one already late, one due before tonight's midnight
    # (Asia/Shanghai), one in three days; only the second is 今日到期.
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ServiceRequest.objects.filter(pk=overdue.pk).update(
        due_state=DueState.OVERDUE, next_due_at=now - timedelta(hours=1)
    )
    ServiceRequest.objects.filter(pk=today.pk).update(
        due_state=DueState.SOON, next_due_at=now + (midnight - now) / 2
    )
    ServiceRequest.objects.filter(pk=later.pk).update(next_due_at=now + timedelta(days=3))
    _resolved(world)
    _resolved(world, "neighbour")  # building 2, grid 2
    # Another community's request: nobody here sees it.
    ensure_categories()
    with ratelimit.suspended():
        request_submit(
            actor=world.user("stranger"),
            category=Category.objects.get(code="fac-light"),
            description="远方社区路灯坏了，晚上很黑",
            building=world.other_building,
        )


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("secretary", {"超时": 1, "今日到期": 1, "待受理": 3, "待回访": 2}),
        # The grid worker of grid 1 sees grid 1 only (the neighbour's request is grid 2).
        ("grid_worker", {"超时": 1, "今日到期": 1, "待受理": 3, "待回访": 1}),
        ("grid2_worker", {"超时": 0, "今日到期": 0, "待受理": 0, "待回访": 1}),
    ],
)
def test_workbench_strip_counts_match_the_linked_queue(
    client: Any, world: Any, user: str, expected: dict[str, int]
) -> None:
    _urgent_world(world)
    client.force_login(world.user(user))
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/workbench/").content.decode()
    strip = _strip(html)
    assert {k: v[0] for k, v in strip.items()} == expected
    assert strip["超时"][1] == "/requests/desk/?due=overdue"
    assert strip["待受理"][1] == "/requests/desk/?status=submitted"
    # One query counts the whole strip.
    counting = [q["sql"] for q in ctx.captured_queries if "requests_servicerequest" in q["sql"]]
    assert sum("COUNT" in s.upper() for s in counting) == 1
    # Each number is the length of the list it links to.
    for label, (n, href) in strip.items():
        listed = client.get(href).context["page"].paginator.count
        assert listed == n, (label, href, listed, n)


def test_resident_gets_no_strip(client: Any, world: Any) -> None:
    client.force_login(world.user("resident"))
    assert "urgency" not in client.get("/workbench/", follow=True).content.decode()


def test_property_workbench_lists_the_communities_it_serves(client: Any, world: Any) -> None:
    """物业 staff hold no community role: their workbench names the communities their
    company serves, each linking to the queue filtered to it (not "管辖社区 暂无")."""
    client.force_login(world.user("property"))
    html = client.get("/workbench/").content.decode()
    assert "服务社区" in html and "暂无" not in html
    assert world.community.name in html
    assert f"/requests/desk/?community={world.community.pk}&amp;mine=1" in html
    assert world.other_community.name not in html
    listed = client.get(f"/requests/desk/?community={world.community.pk}&mine=1")
    assert listed.status_code == 200
