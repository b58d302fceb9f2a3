"""Statement budget for the read receipt (the hottest notice write: every opening of a
notice). Counted on the service as the page and the API call it: after
``notice_get_for`` has checked the viewer (so the viewer's scope is loaded)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.notices.models import NoticeRead
from linli.notices.selectors import notice_get_for
from linli.notices.services import notice_create, notice_mark_read, notice_publish

pytestmark = pytest.mark.django_db

READ_BUDGET = 4


def _fresh(world: Any, key: str) -> Any:
    return type(world.user(key)).objects.get(pk=world.user(key).pk)


@pytest.mark.parametrize("audience", ["community", "buildings"])
def test_read_receipt_within_budget(world: Any, audience: str) -> None:
    n = notice_publish(
        actor=world.user("secretary"),
        notice=notice_create(
            actor=world.user("secretary"),
            community=world.community,
            title="停水通知",
            body="因管道检修停水。",
            summary="明天上午停水。",
            audience=audience,
            building_ids=[world.building.pk] if audience == "buildings" else [],
        ),
    )
    u = _fresh(world, "resident")
    notice = notice_get_for(viewer=u, pk=n.pk)
    with CaptureQueriesContext(connection) as ctx:
        first = notice_mark_read(actor=u, notice=notice)
    print(f"[budget] read receipt ({audience}): {len(ctx.captured_queries)}")  # noqa: T201
    assert len(ctx.captured_queries) <= READ_BUDGET, [q["sql"] for q in ctx.captured_queries]
    assert first.pk is not None
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in sql)
    with CaptureQueriesContext(connection) as ctx:
        again = notice_mark_read(actor=u, notice=notice)
    print(f"[budget] repeated read ({audience}): {len(ctx.captured_queries)}")  # noqa: T201
    assert len(ctx.captured_queries) <= READ_BUDGET
    assert (again.pk, again.read_at) == (first.pk, NoticeRead.objects.get(pk=first.pk).read_at)
    assert NoticeRead.objects.filter(notice=n).count() == 1
    assert NoticeRead.objects.get(pk=first.pk).community_id == world.community.pk
