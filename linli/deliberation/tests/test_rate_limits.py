"""Finding 3 of issue 9: comments and topics are rate limited per user; the page
answers 429 with Retry-After and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linli.core import ratelimit
from linli.core.errors import RateLimited
from linli.deliberation.models import Topic, TopicComment
from linli.deliberation.services import topic_accept, topic_propose

pytestmark = pytest.mark.django_db

T0 = 1_772_442_010.0  # ten seconds into a minute


@pytest.fixture
def clock() -> Iterator[list[float]]:
    now = [T0]
    with ratelimit.use_clock(lambda: now[0]):
        yield now


def test_comment_flood_gets_429(client: Any, world: Any, clock: list[float]) -> None:
    topic = topic_propose(
        actor=world.user("resident"),
        community=world.community,
        title="楼道堆物清理",
        description="3幢楼道堆满纸箱，消防通道被堵。",
    )
    topic_accept(actor=world.user("secretary"), topic=topic)
    client.force_login(world.user("neighbour"))
    url = f"/deliberation/topics/{topic.pk}/comment/"
    for n in range(10):
        assert client.post(url, {"body": f"同意清理，第{n}条意见"}).status_code == 302
    r = client.post(url, {"body": "再说一句"})
    assert r.status_code == 429 and r["Retry-After"] == "50"
    assert "操作过于频繁" in r.content.decode()
    assert TopicComment.objects.count() == 10
    clock[0] += 60
    assert client.post(url, {"body": "一分钟后再说一句"}).status_code == 302
    assert TopicComment.objects.count() == 11


def test_topic_proposals_limited(world: Any, clock: list[float]) -> None:
    for n in range(3):
        topic_propose(
            actor=world.user("resident"),
            community=world.community,
            title=f"议题第{n}个",
            description="3幢楼道堆满纸箱，消防通道被堵。",
        )
    with pytest.raises(RateLimited):
        topic_propose(
            actor=world.user("resident"),
            community=world.community,
            title="议题第4个",
            description="3幢楼道堆满纸箱，消防通道被堵。",
        )
    assert Topic.objects.count() == 3
