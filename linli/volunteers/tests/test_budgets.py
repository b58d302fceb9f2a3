"""Statement budgets for the hot writes (count statements, not time; SAVEPOINT and
RELEASE count too). The actor is loaded fresh, as a request would, so the budget
includes working out who they are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.communities.models import Resident
from linli.volunteers import services
from linli.volunteers.models import Activity, SignUp, SignUpStatus

pytestmark = pytest.mark.django_db

SIGNUP_BUDGET = 8
CHECKIN_BUDGET = 8


@pytest.fixture
def activity(world: Any) -> Activity:
    now = timezone.now()
    return services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="cleanup",
        title="楼道清洁",
        location="1幢",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        capacity=1,
    )


def _fresh(world: Any, key: str) -> Any:
    return type(world.user(key)).objects.get(pk=world.user(key).pk)


def _statements(ctx: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in ctx.captured_queries)


def _report(name: str, ctx: CaptureQueriesContext) -> None:
    print(f"[budget] {name}: {len(ctx.captured_queries)} statements")  # noqa: T201


def test_signup_within_budget(world: Any, activity: Activity) -> None:
    u = _fresh(world, "resident")
    r = Resident.objects.get(pk=world.residents["resident"].pk)
    a = Activity.objects.get(pk=activity.pk)
    with CaptureQueriesContext(connection) as ctx:
        s = services.signup(actor=u, activity=a, resident=r)
    assert s.status == SignUpStatus.REGISTERED
    _report("sign-up", ctx)
    assert len(ctx.captured_queries) <= SIGNUP_BUDGET, _statements(ctx)
    # The waitlisted sign-up (activity full) costs the same.
    u2 = _fresh(world, "neighbour")
    r2 = Resident.objects.get(pk=world.residents["neighbour"].pk)
    with CaptureQueriesContext(connection) as ctx:
        s2 = services.signup(actor=u2, activity=a, resident=r2)
    assert s2.status == SignUpStatus.WAITLISTED
    _report("sign-up (waitlisted)", ctx)
    assert len(ctx.captured_queries) <= SIGNUP_BUDGET, _statements(ctx)
    # Tenant-filtered: the sign-up rows are read by community.
    assert all(
        "community_id" in q["sql"]
        for q in ctx.captured_queries
        if '"volunteers_signup"' in q["sql"]
    ), _statements(ctx)


def test_qr_check_in_within_budget(world: Any, activity: Activity) -> None:
    s = services.signup(
        actor=world.user("resident"), activity=activity, resident=world.residents["resident"]
    )
    token = services.checkin_token(activity)
    u = _fresh(world, "resident")
    with CaptureQueriesContext(connection) as ctx:
        done = services.check_in_by_token(actor=u, token=token)
    assert done.pk == s.pk and done.status == SignUpStatus.CHECKED_IN
    _report("QR check-in", ctx)
    assert len(ctx.captured_queries) <= CHECKIN_BUDGET, _statements(ctx)
    assert SignUp.objects.get(pk=s.pk).status == SignUpStatus.CHECKED_IN


def test_staff_check_in_within_budget(world: Any, activity: Activity) -> None:
    s = services.signup(
        actor=world.user("resident"), activity=activity, resident=world.residents["resident"]
    )
    u = _fresh(world, "grid_worker")
    row = SignUp.objects.select_related("activity").get(pk=s.pk)
    with CaptureQueriesContext(connection) as ctx:
        services.check_in(actor=u, signup=row)
    _report("staff check-in", ctx)
    assert len(ctx.captured_queries) <= CHECKIN_BUDGET, _statements(ctx)
    assert SignUp.objects.get(pk=s.pk).status == SignUpStatus.CHECKED_IN
