"""Statement budgets of the hot writes (counted, not timed; SAVEPOINT/RELEASE count)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.mutualaid import matching, services
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db

# need_post: idempotency INSERT … ON CONFLICT, audit event (+ the requester's building
# and the scope/role lookups of the actor).
NEED_POST = 8
# The agreeing acceptance: lock the match and the need, update both, two audit events,
# plus the permission lookups.
AGREE = 14


def test_need_post_budget(world):
    resident = world.residents["resident"]
    f.need(world)  # warm the scope cache paths once
    with CaptureQueriesContext(connection) as ctx:
        services.need_post(
            actor=world.user("resident"),
            resident=resident,
            category="errand",
            title="代买",
            settle_in="points",
        )
    assert len(ctx.captured_queries) <= NEED_POST, [q["sql"][:80] for q in ctx.captured_queries]


def test_agree_budget(world):
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=c.kind, candidate_id=c.id
    )
    with CaptureQueriesContext(connection) as ctx:
        services.match_accept(actor=helper.user, match=m)
    assert len(ctx.captured_queries) <= AGREE, [q["sql"][:80] for q in ctx.captured_queries]
