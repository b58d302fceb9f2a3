"""Real threads against PostgreSQL: several helpers agreeing to one need at the same
moment leave exactly one live match; a settle raced with itself pays once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from linli.core.errors import DomainError
from linli.ledger.models import Account
from linli.mutualaid import matching, services
from linli.mutualaid.models import Match, Need
from linli.mutualaid.tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pg_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks and concurrent transactions need PostgreSQL (SQLite serialises all writers)"
        )


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


def test_helpers_racing_for_one_need(world: Any) -> None:
    f.rules(world)
    helpers = [f.volunteer(world, f"帮手{i}", world.building2, ["plumbing"]) for i in range(5)]
    f.refresh(world)
    need = f.need(world)
    matches = []
    for s in matching.suggest(need, limit=5):
        matches.append(
            services.match_propose(
                actor=world.user("resident"),
                need=need,
                kind=s.candidate.kind,
                candidate_id=s.candidate.id,
            )
        )
    by_helper = {m.helper_id: m for m in matches}
    results, errors = run_threads(
        5, lambda i: services.match_accept(actor=helpers[i].user, match=by_helper[helpers[i].pk])
    )
    assert len(results) == 1, errors
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert Match.objects.filter(need=need, status="agreed").count() == 1
    assert Need.objects.get(pk=need.pk).status == "matched"


def test_settle_raced_pays_once(world: Any) -> None:
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    need = f.need(world)
    c = matching.suggest(need)[0].candidate
    m = services.match_propose(
        actor=world.user("resident"), need=need, kind=c.kind, candidate_id=c.id
    )
    m = services.match_accept(actor=helper.user, match=m)
    user = world.user("resident")
    results, errors = run_threads(
        4, lambda i: services.match_settle(actor=user, match=Match.objects.get(pk=m.pk))
    )
    assert len(results) == 1 and all(isinstance(e, DomainError) for e in errors), errors
    assert Account.objects.get(resident=helper, currency="minutes").balance == 90
