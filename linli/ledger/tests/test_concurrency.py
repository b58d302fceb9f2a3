"""Real threads against PostgreSQL: concurrent spending cannot overdraw, identical
retries post once, opposite transfers do not deadlock, the last item goes once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from linli.core.errors import DomainError
from linli.ledger import services
from linli.ledger.checks import recompute
from linli.ledger.models import Currency, EarnKind, LedgerTransaction, Voucher

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


def test_concurrent_donations_never_overdraw(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=25,
        idempotency_key="seed",
    )
    user = world.user("resident")
    results, errors = run_threads(
        12, lambda i: services.donate(actor=user, resident=r, points=3, idempotency_key=f"d{i}")
    )
    assert len(results) == 8  # 25 // 3
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert services.resident_account(r, Currency.POINTS).balance == 1
    assert recompute().ok


def test_identical_retries_post_once(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=25,
        idempotency_key="seed",
    )
    user = world.user("resident")
    results, errors = run_threads(
        10, lambda i: services.donate(actor=user, resident=r, points=5, idempotency_key="same")
    )
    assert not errors, errors
    assert len({tx.pk for tx in results}) == 1
    assert LedgerTransaction.objects.filter(kind="donate").count() == 1
    assert services.resident_account(r, Currency.POINTS).balance == 20


def test_opposite_transfers_do_not_deadlock(world: Any, rules: Any, family: Any) -> None:
    r = world.residents["resident"]
    for who, key in ((r, "a"), (family, "b")):
        services.award(
            actor=world.user("worker"),
            resident=who,
            kind=EarnKind.TIMEBANK_SERVICE,
            amount=600,
            idempotency_key=key,
        )
    users = {r.pk: world.user("resident"), family.pk: family.user}

    def move(i: int) -> Any:
        src, dst = (r, family) if i % 2 else (family, r)
        return services.hours_transfer(
            actor=users[src.pk], sender=src, receiver=dst, minutes=7, idempotency_key=f"t{i}"
        )

    results, errors = run_threads(16, move)
    assert not errors, errors
    total = sum(services.resident_account(x, Currency.MINUTES).balance for x in (r, family))
    assert total == 1200
    assert recompute().ok


def test_last_item_is_redeemed_once(world: Any, rules: Any, family: Any) -> None:
    people = [
        (world.residents["resident"], world.user("resident")),
        (family, family.user),
        (world.residents["neighbour"], world.user("neighbour")),
    ]
    for i, (res, _u) in enumerate(people):
        services.award(
            actor=world.user("worker"),
            resident=res,
            kind=EarnKind.VOLUNTEER_SERVICE,
            amount=20,
            idempotency_key=f"s{i}",
        )
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="理发服务",
        kind="service",
        price_points=10,
        stock=1,
    )
    results, errors = run_threads(
        3,
        lambda i: services.redeem(
            actor=people[i][1], item=item, resident=people[i][0], idempotency_key=f"r{i}"
        ),
    )
    assert len(results) == 1 and len(errors) == 2
    assert Voucher.objects.count() == 1
    item.refresh_from_db()
    assert item.stock == 0
    assert recompute().ok
