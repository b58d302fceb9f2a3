"""Finding 12 of issue 9 on PostgreSQL: two threads posting the same create with the
same key at the same moment make one row (the second INSERT waits on the unique index,
then skips and returns the first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from linli.deliberation.models import TopicComment
from linli.deliberation.services import topic_accept, topic_comment, topic_propose
from linli.requests.models import ServiceRequest
from linli.requests.services import request_submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pg_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises all writers)")


def run_threads(n: int, fn: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results.append(fn(i))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_two_simultaneous_submits_with_one_key_make_one_request(world: Any, cats: Any) -> None:
    def submit(_i: int) -> int:
        return request_submit(
            actor=world.user("resident"),
            category=cats["fac-light"],
            description="1幢楼道灯坏了，晚上很黑",
            building=world.building,
            idempotency_key="same-key",
        ).pk

    results, errors = run_threads(2, submit)
    assert not errors, errors
    assert len(set(results)) == 1
    assert ServiceRequest.objects.count() == 1


def test_two_simultaneous_comments_with_one_key_make_one_comment(world: Any) -> None:
    topic = topic_propose(
        actor=world.user("resident"),
        community=world.community,
        title="楼道堆物清理",
        description="3幢楼道堆满纸箱，消防通道被堵。",
    )
    topic_accept(actor=world.user("secretary"), topic=topic)

    def comment(_i: int) -> int:
        return topic_comment(
            actor=world.user("neighbour"), topic=topic, body="同意清理", idempotency_key="c"
        ).pk

    results, errors = run_threads(2, comment)
    assert not errors, errors
    assert len(set(results)) == 1
    assert TopicComment.objects.count() == 1
