"""A resident on a phone (360 px) reads a meeting notice, joins a discussion and votes."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from linli.deliberation.services import (
    meeting_issue_notice,
    meeting_schedule,
    review_note_add,
    topic_accept,
    topic_open_vote,
    topic_propose,
    topic_submit_for_review,
)
from linli.notices.models import NoticeRead
from linli.voting.models import Vote

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def page(live_server, chromium):
    context = chromium.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
    yield context
    context.close()


def test_resident_reads_notice_discusses_and_votes(page, live_server, cw):
    w = cw.w
    sec = w.user("secretary")
    start = timezone.now() + timedelta(days=5)
    meeting = meeting_schedule(
        actor=sec,
        council=cw.council,
        title="周三议事日",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        location="社区议事厅",
    )
    notice = meeting_issue_notice(actor=sec, meeting=meeting)
    discuss = topic_propose(
        actor=sec,
        community=w.community,
        title="楼道堆物清理",
        description="楼道堆放纸箱旧家具，堵塞消防通道。",
        source="staff",
    )
    topic_accept(actor=sec, topic=discuss)
    lift = topic_propose(
        actor=w.user("resident"),
        community=w.community,
        title="加装电梯",
        description="老人上下楼困难，建议加装电梯，费用按楼层分摊。",
    )
    topic_accept(actor=sec, topic=lift)
    topic_submit_for_review(actor=sec, topic=lift)
    for aspect in ["feasibility", "budget", "law"]:
        review_note_add(actor=sec, topic=lift, aspect=aspect, conclusion="ok", body="审议通过。")
    topic_open_vote(
        actor=sec,
        topic=lift,
        opens_at=timezone.now() - timedelta(minutes=1),
        closes_at=timezone.now() + timedelta(days=3),
        eligibility="all_residents",
    )
    lift.refresh_from_db()

    client = Client()
    client.force_login(w.user("resident"))
    page.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    tab = page.new_page()

    # 1. Phone home → 社区公告 → the meeting notice.
    tab.goto(live_server.url + "/")
    tab.get_by_role("link", name="社区公告").click()
    tab.get_by_role("link", name="会议通知：周三议事日").click()
    tab.get_by_role("heading", name="一句话看懂").wait_for()
    assert "欢迎居民旁听" in tab.content()
    assert NoticeRead.objects.filter(notice=notice, user=w.user("resident")).exists()
    assert tab.evaluate("document.documentElement.scrollWidth") <= 360

    # 2. 议事厅 → 商议 → post a comment.
    tab.goto(live_server.url + "/")
    tab.get_by_role("link", name="议事厅").first.click()
    tab.get_by_role("link", name="楼道堆物清理").click()
    tab.get_by_label("发表我的意见").fill("同意清理，周六上午我可以帮忙搬运。")
    tab.get_by_role("button", name="发表").click()
    tab.get_by_text("同意清理，周六上午我可以帮忙搬运。").wait_for()
    assert discuss.comments.filter(author=w.user("resident")).count() == 1

    # 3. 决议 → vote on the topic's ballot.
    tab.goto(live_server.url + f"/deliberation/topics/{lift.pk}/")
    tab.get_by_role("link", name="去投票 / 查看结果").click()
    tab.get_by_label("同意").check()
    tab.get_by_role("button", name="提交投票").click()
    tab.wait_for_load_state()
    assert Vote.objects.filter(ballot=lift.ballot).count() == 1
