"""Role × state matrices for the resource and booking machines: for every user of the
world fixture (one per Role, plus other-unit staff) and every state, exactly the
expected roles may run each action; the services agree with ``Machine.can`` and the
booking page shows a button exactly when it is allowed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import WORLD_USERS
from linli.core.errors import DomainError
from linli.resources import services
from linli.resources.models import Booking, BookingStatus, ResourceStatus
from linli.resources.states import BOOKING, DEPOSIT, RESOURCE
from linli.resources.tests.conftest import NOW, give_points

pytestmark = pytest.mark.django_db

USERS = list(WORLD_USERS)
MANAGERS = {"worker", "secretary", "platform_admin"}
DESK = {"grid_worker", "grid2_worker", *MANAGERS}
RESIDENTS = {"resident", "neighbour"}

# The booking in these tables belongs to "resident" and started 40 minutes ago (so the
# booker may no longer cancel, pick-up is open and a no-show may be recorded).
EXPECTED_BOOKING: dict[str, dict[str, set[str]]] = {
    BookingStatus.REQUESTED: {"approve": MANAGERS, "reject": MANAGERS, "cancel": DESK},
    BookingStatus.CONFIRMED: {
        "cancel": DESK,
        "check_out": {"resident", *DESK},
        "no_show": DESK,
    },
    BookingStatus.CHECKED_OUT: {"return": {"resident", *DESK}},
}
EXPECTED_RESOURCE: dict[str, dict[str, set[str]]] = {
    ResourceStatus.ACTIVE: {
        "book": RESIDENTS | DESK,
        "book_for": DESK,
        "suspend": MANAGERS,
        "retire": MANAGERS,
    },
    ResourceStatus.SUSPENDED: {"resume": MANAGERS, "retire": MANAGERS},
    ResourceStatus.RETIRED: {},
}


def _fresh(world: Any, key: str) -> Any:
    """The user as a new request would load it (no cached scope)."""
    return type(world.user(key)).objects.get(pk=world.user(key).pk)


def _booking(world: Any, resource: Any, status: str, deposit: int = 0) -> Booking:
    out = status in ("checked_out", "returned", "handed_over")
    # One booking at a time on the ladder: the earlier ones are set aside.
    Booking.objects.filter(resource=resource).update(status="cancelled")
    b = Booking.objects.create(
        community=world.community,
        resource=resource,
        resident=world.residents["resident"],
        user=world.user("resident"),
        booker_community=world.community,
        booked_by=world.user("resident"),
        starts_at=NOW - timedelta(minutes=40),
        ends_at=NOW + timedelta(minutes=80),
        status=status,
        checked_out_at=NOW - timedelta(minutes=30) if out else None,
        returned_at=NOW if status == "returned" else None,
    )
    return Booking.objects.select_related("resource").get(pk=b.pk)


def test_tables_cover_the_states() -> None:
    assert BOOKING.states() == set(BookingStatus.values)
    assert RESOURCE.states() == set(ResourceStatus.values)
    assert set(BOOKING.table) == {
        "approve",
        "reject",
        "cancel",
        "check_out",
        "return",
        "hand_over",
        "no_show",
    }


def test_booking_matrix(world: Any, ladder: Any) -> None:
    users = {key: _fresh(world, key) for key in USERS}
    for state in sorted(BOOKING.states()):
        b = _booking(world, ladder, state)
        for key, u in users.items():
            for action in BOOKING.table:
                want = key in EXPECTED_BOOKING.get(state, {}).get(action, set())
                assert BOOKING.can(u, b, action) == want, (key, state, action)


@pytest.mark.parametrize("key", ["resident", "grid_worker", "secretary", "stranger"])
def test_services_agree_with_the_booking_machine(world: Any, ladder: Any, key: str) -> None:
    runs = {
        "approve": lambda u, b: services.booking_approve(actor=u, booking=b),
        "reject": lambda u, b: services.booking_reject(actor=u, booking=b, reason="场地维修"),
        "cancel": lambda u, b: services.booking_cancel(actor=u, booking=b),
        "check_out": lambda u, b: services.booking_check_out(actor=u, booking=b),
        "return": lambda u, b: services.booking_return(actor=u, booking=b, condition="good"),
        "hand_over": lambda u, b: services.booking_hand_over(actor=u, booking=b),
        "no_show": lambda u, b: services.booking_no_show(actor=u, booking=b),
    }
    for state in sorted(BOOKING.states()):
        for action, run in runs.items():
            b = _booking(world, ladder, state)
            u = _fresh(world, key)
            expected = BOOKING.can(u, b, action)
            try:
                run(u, b)
            except DomainError as exc:
                assert not expected, (key, state, action, exc)
            else:
                assert expected, (key, state, action)
                b.refresh_from_db()
                assert b.status == BOOKING[action].target


def test_resource_matrix(world: Any, ladder: Any) -> None:
    for key in USERS:
        u = _fresh(world, key)
        for state in sorted(RESOURCE.states()):
            ladder.status = state
            for action in RESOURCE.table:
                want = key in EXPECTED_RESOURCE.get(state, {}).get(action, set())
                assert RESOURCE.can(u, ladder, action) == want, (key, state, action)


def test_deposit_matrix(world: Any, make_resource: Any, fixed_clock: Any) -> None:
    give_points(world.residents["resident"], 10)
    chair = make_resource(name="轮椅", deposit_points=10)
    b = services.booking_create(
        actor=world.user("resident"),
        resource=chair,
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
    )
    b = Booking.objects.select_related("resource").get(pk=b.pk)
    users = {key: _fresh(world, key) for key in USERS}
    for key, u in users.items():
        # Held while the booking is live: nobody settles it yet.
        assert not DEPOSIT.can(u, b, "release") and not DEPOSIT.can(u, b, "forfeit"), key
    Booking.objects.filter(pk=b.pk).update(status="returned", checked_out_at=NOW, returned_at=NOW)
    b.refresh_from_db()
    for key, u in users.items():
        assert DEPOSIT.can(u, b, "release") == (key in MANAGERS), key
        assert DEPOSIT.can(u, b, "forfeit") == (key in MANAGERS), key


@pytest.mark.parametrize("key", ["resident", "neighbour", "grid_worker"])
def test_booking_page_buttons_follow_the_machine(
    world: Any, ladder: Any, fixed_clock: Any, key: str
) -> None:
    c = Client()
    u = _fresh(world, key)
    c.force_login(u)
    for state in sorted(BOOKING.states()):
        b = _booking(world, ladder, state)
        resp = c.get(f"/resources/bookings/{b.pk}/")
        if resp.status_code == 404:
            assert not any(BOOKING.can(u, b, a) for a in BOOKING.table), (key, state)
            continue
        page = resp.content.decode()
        for action in BOOKING.table:
            form = f"/resources/bookings/{b.pk}/{action}/"
            assert (form in page) == BOOKING.can(u, b, action), (key, state, action)
