"""Tenancy: the request's child rows (timeline, photos, supports) carry the request's
community, and the hot paths that read or write them filter by it."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from linli.requests import services as svc
from linli.requests.models import RequestEvent, RequestPhoto, Support
from linli.requests.selectors import timeline_for
from linli.requests.tests.conftest import MONDAY

pytestmark = pytest.mark.django_db

CHILDREN = ("requests_requestevent", "requests_requestphoto", "requests_support")
# Row locks and re-reads of a request (FOR UPDATE on PostgreSQL; SQLite has no clause).
LOCKS = re.compile(r'^\s*SELECT .*FROM "requests_servicerequest"', re.S)


def _png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "PNG")
    return SimpleUploadedFile("a.png", buf.getvalue(), content_type="image/png")


def _unfiltered(sqls: list[str]) -> list[str]:
    bad = []
    for sql in sqls:
        if LOCKS.search(sql):
            # Every row lock / re-read of a request names its tenant.
            if "community_id" not in re.split(r"\bWHERE\b", sql, maxsplit=1)[-1]:
                bad.append(sql)
            continue
        if not any(re.search(rf'\b"?{t}"?\b', sql) for t in CHILDREN):
            continue
        if sql.lstrip().upper().startswith("INSERT"):
            ok = "community_id" in sql.split("VALUES")[0]
        else:
            parts = re.split(r"\bWHERE\b", sql, maxsplit=1)
            ok = len(parts) == 2 and "community_id" in parts[1]
        if not ok:
            bad.append(sql)
    return bad


def test_children_carry_the_community_and_hot_paths_filter_by_it(world: Any, submit: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        req = submit(photos=[_png()])
        svc.request_support(actor=world.user("neighbour"), request=req, now=MONDAY)
        req = svc.request_accept(actor=world.user("property"), request=req, now=MONDAY)
        req = svc.request_resolve(
            actor=world.user("property"),
            request=req,
            resolution="已更换灯泡",
            photos=[_png()],
            now=MONDAY + timedelta(hours=1),
        )
        svc.request_rate(
            actor=world.user("resident"), request=req, rating=5, now=MONDAY + timedelta(hours=2)
        )
        events = timeline_for(viewer=world.user("secretary"), req=req)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert _unfiltered(sqls) == []
    # The check saw the row locks of support, accept, resolve and rate.
    assert sum(1 for sql in sqls if LOCKS.search(sql)) >= 4
    assert [e.kind for e in events][:2] == ["submitted", "supported"]
    for rows in (
        list(RequestEvent.objects.filter(request=req).values_list("community_id", flat=True)),
        list(RequestPhoto.objects.filter(request=req).values_list("community_id", flat=True)),
        list(Support.objects.filter(request=req).values_list("community_id", flat=True)),
    ):
        assert rows and set(rows) == {req.community_id}
    assert RequestPhoto.objects.filter(request=req).count() == 2


@pytest.mark.django_db(transaction=True)
def test_migration_backfills_the_community_of_child_rows(world: Any, submit: Any) -> None:
    """Rows written before 0002 get their request's community."""
    from django.db.migrations.executor import MigrationExecutor

    req = submit()
    svc.request_support(actor=world.user("neighbour"), request=req, now=MONDAY)
    before = [("requests", "0001_initial")]
    after = [("requests", "0002_child_community")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        Event = old.get_model("requests", "RequestEvent")
        OldSupport = old.get_model("requests", "Support")
        assert Event.objects.filter(request_id=req.pk).count() == 2
        Event.objects.create(request_id=req.pk, at=MONDAY, kind="note", note="迁移前")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        events = (
            MigrationExecutor(connection)
            .loader.project_state(after)
            .apps.get_model("requests", "RequestEvent")
        )
        assert set(
            events.objects.filter(request_id=req.pk).values_list("community_id", flat=True)
        ) == {req.community_id}
        assert events.objects.filter(request_id=req.pk).count() == 3
        assert OldSupport is not None
    finally:
        # Back to the latest schema: later tests in this process share the database.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Support.objects.get(request=req).community_id == req.community_id
