"""Property-based: random sequences of earn / spend / donate / transfer / redeem /
reverse, with retries of earlier keys, against a plain in-memory model of balances.
After every sequence the database must agree with the model, no resident balance is
negative, every transaction balances and the trial balance is zero."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.errors import DomainError
from linli.ledger import services
from linli.ledger.checks import recompute
from linli.ledger.models import Currency, EarnKind, LedgerTransaction

pytestmark = pytest.mark.django_db

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "earn",
                "earn_hours",
                "spend_hours",
                "donate",
                "transfer",
                "redeem",
                "retry",
                "reverse",
            ]
        ),
        st.integers(0, 2),  # who
        st.integers(-3, 40),  # amount (some invalid)
    ),
    min_size=1,
    max_size=25,
)


class Rollback(Exception):
    pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_sequences_match_model(
    world: Any, family_fixture: Any, ops: list[tuple[str, int, int]]
) -> None:
    try:
        with transaction.atomic():
            _run(world, family_fixture, ops)
            raise Rollback  # each example starts from the same empty ledger
    except Rollback:
        pass


@pytest.fixture
def family_fixture(world: Any, rules: Any, family: Any) -> Any:
    services.settings_save(
        actor=world.user("secretary"), community=world.community, hours_cap_minutes=100
    )
    return family


def _run(world: Any, family: Any, ops: list[tuple[str, int, int]]) -> None:
    people = [world.residents["resident"], family, world.residents["neighbour"]]
    actor = {0: world.user("resident"), 1: family.user, 2: world.user("neighbour")}
    worker = world.user("worker")
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="粮油",
        kind="goods",
        price_points=7,
        stock=3,
        per_person_limit=2,
    )
    pts = [0, 0, 0]
    mins = [0, 0, 0]
    fund_pts = 0
    fund_mins = 0
    stock = 3
    redeemed = [0, 0, 0]
    keys: list[str] = []
    posted: list[int] = []
    reversed_: set[int] = set()
    for n, (op, who, amount) in enumerate(ops):
        key = f"k{n}"
        r = people[who]
        try:
            if op == "earn":
                c = services.award(
                    actor=worker,
                    resident=r,
                    kind=EarnKind.VOLUNTEER_SERVICE,
                    amount=amount,
                    idempotency_key=key,
                )
                assert amount > 0 and c is not None
                if c.amount:  # caps: 30/day in the rules fixture
                    pts[who] += c.amount
                posted.append(c.transaction_id or 0)
            elif op == "earn_hours":
                c = services.award(
                    actor=worker,
                    resident=r,
                    kind=EarnKind.TIMEBANK_SERVICE,
                    amount=amount,
                    idempotency_key=key,
                )
                assert c is not None
                credited = min(amount, 100 - mins[who])
                mins[who] += credited
                fund_mins += amount - credited
            elif op == "spend_hours":
                services.hours_spend(
                    actor=actor[who], resident=r, minutes=amount, idempotency_key=key
                )
                mins[who] -= amount
            elif op == "donate":
                services.donate(actor=actor[who], resident=r, points=amount, idempotency_key=key)
                pts[who] -= amount
                fund_pts += amount
            elif op == "transfer":
                other = 1 - who if who < 2 else 0
                services.hours_transfer(
                    actor=actor[who],
                    sender=r,
                    receiver=people[other],
                    minutes=amount,
                    idempotency_key=key,
                )
                assert who < 2  # only the two family members may transfer
                mins[who] -= amount
                credited = min(amount, 100 - mins[other])
                mins[other] += credited
                fund_mins += amount - credited
            elif op == "redeem":
                services.redeem(actor=actor[who], item=item, resident=r, idempotency_key=key)
                pts[who] -= 7
                stock -= 1
                redeemed[who] += 1
            elif op == "retry" and keys:
                before = LedgerTransaction.objects.count()
                k = keys[amount % len(keys)]
                tx = LedgerTransaction.objects.get(idempotency_key=k)
                if tx.kind == "donate":
                    acc = tx.entries.get(side="D").account
                    assert acc.resident is not None
                    services.donate(
                        actor=actor[people.index(acc.resident)],
                        resident=acc.resident,
                        points=tx.entries.get(side="D").amount,
                        idempotency_key=k,
                    )
                assert LedgerTransaction.objects.count() == before
            elif op == "reverse" and posted:
                tx_id = posted[amount % len(posted)]
                tx = LedgerTransaction.objects.get(pk=tx_id)
                services.reverse(
                    actor=world.user("secretary"), tx=tx, reason="更正", idempotency_key=key
                )
                assert tx_id not in reversed_
                reversed_.add(tx_id)
                e = tx.entries.get(side="C", account__kind="resident")
                pts[people.index(e.account.resident)] -= e.amount
        except DomainError:
            pass  # refused: the model does not change either
        else:
            if op not in ("retry", "reverse"):
                keys.append(key)
        for i, person in enumerate(people):
            assert services.resident_account(person, Currency.POINTS).balance == pts[i], (op, i)
            assert services.resident_account(person, Currency.MINUTES).balance == mins[i], (op, i)
            assert pts[i] >= 0 and mins[i] >= 0
    item.refresh_from_db()
    assert item.stock == stock
    from linli.ledger.models import AccountKind

    assert (
        services.system_account(
            world.community.pk, Currency.POINTS, AccountKind.PUBLIC_FUND
        ).balance
        == fund_pts
    )
    assert (
        services.system_account(
            world.community.pk, Currency.MINUTES, AccountKind.PUBLIC_FUND
        ).balance
        == fund_mins
    )
    rep = recompute()
    assert rep.ok, rep
