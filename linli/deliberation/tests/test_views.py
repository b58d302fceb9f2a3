"""Pages go through the real services; refusals come back as messages, nothing changes."""

from __future__ import annotations

import pytest

from linli.deliberation.models import CouncilMember, Topic
from linli.deliberation.services import topic_accept, topic_propose
from linli.deliberation.tests.conftest import future

pytestmark = pytest.mark.django_db


def test_resident_proposes_and_comments_through_pages(client, cw):
    w = cw.w
    client.force_login(w.user("resident"))
    assert client.get("/deliberation/").status_code == 200
    r = client.post(
        "/deliberation/topics/new/",
        {"title": "楼道堆物清理", "description": "3幢楼道堆满纸箱，消防通道被堵。"},
    )
    topic = Topic.objects.get(title="楼道堆物清理")
    assert r.status_code == 302 and topic.source == "resident"
    r = client.post(f"/deliberation/topics/{topic.pk}/comment/", {"body": "同意清理"}, follow=True)
    assert "商议" in r.content.decode() and not topic.comments.exists()
    topic_accept(actor=w.user("secretary"), topic=topic)
    client.post(f"/deliberation/topics/{topic.pk}/comment/", {"body": "同意清理，周末可以帮忙。"})
    assert topic.comments.count() == 1
    page = client.get(f"/deliberation/topics/{topic.pk}/").content.decode()
    assert "周末可以帮忙" in page


def test_skip_via_page_is_refused_with_message(client, cw):
    w = cw.w
    topic = topic_propose(
        actor=w.user("resident"),
        community=w.community,
        title="加装电梯",
        description="老人上下楼困难，建议加装电梯。",
    )
    client.force_login(w.user("secretary"))
    r = client.post(
        f"/deliberation/topics/{topic.pk}/vote/",
        {"closes_at": future(3).strftime("%Y-%m-%dT%H:%M"), "eligibility": "council"},
        follow=True,
    )
    assert "不能跳过步骤" in r.content.decode()
    topic.refresh_from_db()
    assert topic.step == "proposed"


def test_council_page_refuses_breaking_change(client, cw):
    client.force_login(cw.w.user("secretary"))
    page = client.get("/deliberation/council/").content.decode()
    assert "符合组成规则" in page
    r = client.post(
        f"/deliberation/members/{cw.members[0].pk}/remove/", {"reason": "搬家"}, follow=True
    )
    assert "35岁以下成员不少于2名" in r.content.decode()
    assert CouncilMember.objects.filter(council=cw.council, is_active=True).count() == 7


@pytest.mark.parametrize(
    "url",
    [
        "/deliberation/",
        "/deliberation/meetings/",
        "/deliberation/council/",
        "/deliberation/deliberators/",
        "/deliberation/actions/",
        "/deliberation/meetings/new/",
    ],
)
def test_staff_pages_render(client, cw, url):
    client.force_login(cw.w.user("secretary"))
    assert client.get(url).status_code == 200


def test_stranger_cannot_see_topic(client, cw):
    topic = topic_propose(
        actor=cw.w.user("resident"),
        community=cw.w.community,
        title="加装电梯",
        description="老人上下楼困难，建议加装电梯。",
    )
    client.force_login(cw.w.user("stranger"))
    assert client.get(f"/deliberation/topics/{topic.pk}/").status_code == 404
