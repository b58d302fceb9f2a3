"""Finding 12 of issue 9: topics and comments honour an Idempotency-Key (API) and a
one-time form key (pages): a replay returns the first, never a second row."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from linli.core.errors import Conflict
from linli.deliberation.models import Topic, TopicComment
from linli.deliberation.services import topic_accept, topic_comment, topic_propose

pytestmark = pytest.mark.django_db


def _discussing(w: Any) -> Topic:
    topic = topic_propose(
        actor=w.user("resident"),
        community=w.community,
        title="楼道堆物清理",
        description="3幢楼道堆满纸箱，消防通道被堵。",
    )
    topic_accept(actor=w.user("secretary"), topic=topic)
    return topic


def test_comment_form_double_submit_posts_once(client: Any, world: Any) -> None:
    topic = _discussing(world)
    client.force_login(world.user("neighbour"))
    page = client.get(f"/deliberation/topics/{topic.pk}/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert key, "the comment form carries a one-time key"
    data = {"body": "同意清理，周末可以帮忙。", "idempotency_key": key.group(1)}
    url = f"/deliberation/topics/{topic.pk}/comment/"
    assert client.post(url, data).status_code == client.post(url, data).status_code == 302
    assert TopicComment.objects.count() == 1


def test_comment_api_replay(client: Any, world: Any) -> None:
    topic = _discussing(world)
    client.force_login(world.user("neighbour"))

    def post() -> Any:
        return client.post(
            f"/api/v1/deliberation/topics/{topic.pk}/comments",
            json.dumps({"body": "同意清理，周末可以帮忙。"}),
            content_type="application/json",
            headers={"Idempotency-Key": "c-1"},
        )

    one, two = post(), post()
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
    assert TopicComment.objects.count() == 1
    # The same key by someone else is refused, not answered with the neighbour's comment.
    with pytest.raises(Conflict):
        topic_comment(
            actor=world.user("resident"), topic=topic, body="另一条", idempotency_key="c-1"
        )


def test_topic_propose_replay(client: Any, world: Any) -> None:
    client.force_login(world.user("resident"))
    page = client.get(f"/deliberation/topics/new/?community={world.community.pk}").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert key, "the proposal form carries a one-time key"
    kw = {
        "actor": world.user("resident"),
        "community": world.community,
        "title": "加装电梯",
        "description": "老楼没有电梯，老人上下楼困难，建议加装。",
        "idempotency_key": key.group(1),
    }
    assert topic_propose(**kw).pk == topic_propose(**kw).pk
    assert Topic.objects.count() == 1
