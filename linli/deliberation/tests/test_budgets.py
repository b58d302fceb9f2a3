"""Statement budgets of the 议事厅's hot writes (counted, SAVEPOINT/RELEASE included),
and every statement on a deliberation table filters by (or writes) the community."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import User
from linli.deliberation.models import Topic, TopicComment, TopicTransition
from linli.deliberation.services import topic_accept, topic_comment, topic_propose

pytestmark = pytest.mark.django_db

COMMENT_BUDGET = 8
TRANSITION_BUDGET = 8


def _fresh(user: Any) -> User:
    """The user as a request would have it: nothing about their scope cached yet."""
    return User.objects.get(pk=user.pk)


def _topic(w: Any) -> Topic:
    topic = topic_propose(
        actor=w.user("resident"),
        community=w.community,
        title="楼道堆物清理",
        description="3幢楼道堆满纸箱，消防通道被堵。",
    )
    # As the page / API hands it over (topic_get_for selects the community).
    return Topic.objects.select_related("community").get(pk=topic.pk)


def _assert_tenant_filtered(queries: list[dict[str, Any]]) -> None:
    for q in queries:
        sql = q["sql"]
        if re.search(r'"deliberation_\w+"', sql):
            assert "community_id" in sql, sql


def test_comment_budget(world: Any) -> None:
    topic = _topic(world)
    topic_accept(actor=world.user("secretary"), topic=topic)
    user = _fresh(world.user("resident"))
    with CaptureQueriesContext(connection) as ctx:
        c = topic_comment(actor=user, topic=topic, body="同意清理，周末可以帮忙。")
    n = len(ctx.captured_queries)
    assert n <= COMMENT_BUDGET, "\n".join(q["sql"] for q in ctx.captured_queries)
    _assert_tenant_filtered(ctx.captured_queries)
    saved = TopicComment.objects.get(pk=c.pk)
    assert saved.community_id == world.community.pk and saved.resident_id is not None


def test_step_transition_budget(world: Any) -> None:
    topic = _topic(world)
    user = _fresh(world.user("secretary"))
    with CaptureQueriesContext(connection) as ctx:
        topic_accept(actor=user, topic=topic)
    n = len(ctx.captured_queries)
    assert n <= TRANSITION_BUDGET, "\n".join(q["sql"] for q in ctx.captured_queries)
    _assert_tenant_filtered(ctx.captured_queries)
    assert topic.step == Topic.Step.DISCUSSING  # the caller's object, without a re-read
    tr = TopicTransition.objects.get(topic=topic)
    assert (tr.from_step, tr.to_step, tr.community_id) == (
        "proposed",
        "discussing",
        topic.community_id,
    )
