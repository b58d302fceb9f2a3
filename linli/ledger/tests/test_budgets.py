"""Statement budgets for the ledger's hot writes (issue 8): a family transfer and a
donation in ≤ 8 statements, an earning in ≤ 10, counted through the real services
with the SAVEPOINT/RELEASE pair that stands in for BEGIN/COMMIT.

Measured in the steady state: the accounts exist already (an account is created once,
on a resident's first movement, outside the hot path) and the actor's scope is loaded
(a request loads it once, for its permission checks)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.scope import scope_of
from linli.core.models import AuditEvent
from linli.ledger import services
from linli.ledger.checks import recompute
from linli.ledger.models import Currency, EarnKind, Entry, LedgerTransaction

pytestmark = pytest.mark.django_db

TRANSFER_BUDGET = 8
EARN_BUDGET = 10


def count(fn: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        out = fn()
    sql = [q["sql"] for q in ctx.captured_queries]
    assert_tenant_filtered(sql)
    return out, sql


def assert_tenant_filtered(sql: list[str]) -> None:
    """Every statement on a ledger table names the tenant (``community_id`` in the
    WHERE clause, or as a column of the INSERT), so it can be routed by community."""
    for q in sql:
        if "ledger_" not in q:
            continue
        head, _sep, where = q.partition(" WHERE ")
        if q.startswith("INSERT"):
            assert "community_id" in head, q
        else:
            assert "community_id" in where, q


def test_hours_transfer_budget(world: Any, rules: Any, family: Any) -> None:
    r = world.residents["resident"]
    for key, amount in (("h1", 300),):
        services.award(
            actor=world.user("worker"),
            resident=r,
            kind=EarnKind.TIMEBANK_SERVICE,
            amount=amount,
            idempotency_key=key,
        )
    user = world.user("resident")
    scope_of(user)
    services.hours_transfer(actor=user, sender=r, receiver=family, minutes=30, idempotency_key="t0")
    tx, sql = count(
        lambda: services.hours_transfer(
            actor=user, sender=r, receiver=family, minutes=60, idempotency_key="t1"
        )
    )
    assert len(sql) <= TRANSFER_BUDGET, "\n".join(sql)
    assert services.resident_account(family, Currency.MINUTES).balance == 90
    assert services.resident_account(r, Currency.MINUTES).balance == 210
    assert Entry.objects.filter(transaction=tx).count() == 2
    assert AuditEvent.objects.filter(action="ledger.transfer", target_id=str(tx.pk)).exists()
    assert recompute().ok


def test_donate_budget(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=30,
        idempotency_key="g",
    )
    user = world.user("resident")
    scope_of(user)
    services.donate(actor=user, resident=r, points=5, idempotency_key="d0")
    tx, sql = count(lambda: services.donate(actor=user, resident=r, points=5, idempotency_key="d1"))
    assert len(sql) <= TRANSFER_BUDGET, "\n".join(sql)
    assert services.resident_account(r, Currency.POINTS).balance == 20
    assert recompute().ok


@pytest.mark.parametrize(
    ("kind", "amount", "currency"),
    [
        (EarnKind.VOLUNTEER_SERVICE, 10, Currency.POINTS),
        (EarnKind.TIMEBANK_SERVICE, 60, Currency.MINUTES),
    ],
)
def test_award_budget(world: Any, rules: Any, kind: str, amount: int, currency: str) -> None:
    r = world.residents["resident"]
    worker = world.user("worker")
    scope_of(worker)
    services.award(actor=worker, resident=r, kind=kind, amount=amount, idempotency_key="a0")
    claim, sql = count(
        lambda: services.award(
            actor=worker, resident=r, kind=kind, amount=amount, idempotency_key="a1"
        )
    )
    assert len(sql) <= EARN_BUDGET, "\n".join(sql)
    assert claim is not None and claim.transaction_id is not None
    assert services.resident_account(r, currency).balance == 2 * amount
    assert LedgerTransaction.objects.filter(pk=claim.transaction_id, kind="earn").exists()
    assert recompute().ok
