"""Statement budgets for the hot write (a booking), counted, not timed: a change that
adds a query to every booking shows up here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.ledger import services as ledger
from linli.ledger.models import AccountKind, Currency
from linli.resources import services
from linli.resources.tests.conftest import TOMORROW, at, give_points

pytestmark = pytest.mark.django_db

# scope (memberships + resident), ban check, savepoint, resource lock, clash check,
# insert, audit event, release.
BOOK = 9
# + the deposit hold: accounts locked in one statement, the posting (transaction,
# balances, entries) and its audit event, the booking's deposit columns.
BOOK_WITH_DEPOSIT = 15


def _fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)


def _as_served(resource: Any, user: Any) -> Any:
    """The resource as the page and the API hand it over (hours prefetched), with the
    working calendar already in the process cache (as it is after the first request)."""
    from linli.core.calendar import WorkCalendar
    from linli.resources import selectors

    WorkCalendar.cached()
    return selectors.resource_get_for(viewer=_fresh(user), pk=resource.pk)


def test_booking_statement_budget(world: Any, make_resource: Any, fixed_clock: Any) -> None:
    ladder = _as_served(make_resource(), world.user("resident"))
    user = _fresh(world.user("resident"))
    with CaptureQueriesContext(connection) as q:
        services.booking_create(
            actor=user, resource=ladder, starts_at=at(TOMORROW, 10), ends_at=at(TOMORROW, 11)
        )
    assert len(q) <= BOOK, [x["sql"][:90] for x in q.captured_queries]


def test_booking_with_deposit_statement_budget(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    give_points(world.residents["resident"], 50)
    # The community's adjustment account exists after the first deposit ever taken.
    ledger.system_account(world.community.pk, Currency.POINTS, AccountKind.ADJUSTMENT)
    chair = _as_served(make_resource(name="轮椅", deposit_points=10), world.user("resident"))
    user = _fresh(world.user("resident"))
    with CaptureQueriesContext(connection) as q:
        services.booking_create(
            actor=user, resource=chair, starts_at=at(TOMORROW, 10), ends_at=at(TOMORROW, 11)
        )
    assert len(q) <= BOOK_WITH_DEPOSIT, [x["sql"][:90] for x in q.captured_queries]
