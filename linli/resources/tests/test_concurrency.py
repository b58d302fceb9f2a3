"""Real threads against PostgreSQL: many people booking overlapping slots of one
resource at the same moment get exactly one booking — the losers get the overlap
refusal and keep their points; and the exclusion constraint alone, with no service in
front of it, lets exactly one of many simultaneous overlapping INSERTs through."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections

from linli.core.errors import Conflict
from linli.ledger.checks import recompute
from linli.resources import services
from linli.resources.models import Booking
from linli.resources.tests.conftest import TOMORROW, at, balance, give_points

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


def overlaps() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM resources_booking a JOIN resources_booking b "
            "ON a.resource_id = b.resource_id AND a.id < b.id "
            "AND a.status IN ('requested','confirmed','checked_out') "
            "AND b.status IN ('requested','confirmed','checked_out') "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        )
        return int(cur.fetchone()[0])


def test_concurrent_overlapping_bookings_one_wins(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    ladder = make_resource(deposit_points=5)
    people = [
        (world.residents["resident"], world.user("resident")),
        (world.residents["neighbour"], world.user("neighbour")),
    ]
    for r, _u in people:
        give_points(r, 100)

    # 12 threads, two people, each asking for an hour that overlaps everyone else's
    # (starts 10:00 … 10:45 in quarter steps, all 60 minutes long).
    def go(i: int) -> Any:
        _r, u = people[i % 2]
        start = at(TOMORROW, 10, 15 * (i % 4))
        return services.booking_create(
            actor=u, resource=ladder, starts_at=start, ends_at=start + timedelta(hours=1)
        )

    results, errors = run_threads(12, go)
    assert len(results) == 1, (results, errors)
    assert len(errors) == 11 and all(isinstance(e, Conflict) for e in errors), errors
    assert {getattr(e, "code", None) for e in errors} == {"overlap"}
    assert overlaps() == 0
    assert Booking.objects.count() == 1
    # Only the winner's deposit is held; every loser's hold was rolled back.
    held = sorted(balance(r) for r, _u in people)
    assert held == [95, 100]
    assert recompute().ok


def test_concurrent_adjacent_slots_all_succeed(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    room = make_resource(name="活动室", kind="venue")
    users = [world.user("resident"), world.user("neighbour"), world.user("worker")]

    def go(i: int) -> Any:
        start = at(TOMORROW, 9) + timedelta(minutes=30 * i)
        return services.booking_create(
            actor=users[i % 3],
            resource=room,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
        )

    results, errors = run_threads(10, go)
    assert not errors, errors
    assert len(results) == 10 and overlaps() == 0


def test_exclusion_constraint_alone_under_concurrency(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    """Raw INSERTs (no resource lock, no check): the database admits one."""
    ladder = make_resource()
    r = world.residents["resident"]

    def go(i: int) -> Any:
        start = at(TOMORROW, 10, 15 * (i % 4))
        return Booking.objects.create(
            community_id=ladder.community_id,
            resource=ladder,
            resident=r,
            booker_community_id=r.community_id,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            status="confirmed",
        )

    results, errors = run_threads(8, go)
    assert len(results) == 1, (results, errors)
    # Refused by the constraint (or, when two INSERTs checked each other at the same
    # moment, by PostgreSQL's deadlock breaker) — never admitted.
    assert len(errors) == 7 and all(isinstance(e, DatabaseError) for e in errors), errors
    assert overlaps() == 0
