"""Booking through the services: conflicts and their edges, the resource's rules, the
deposit on the ledger, pick-up and return, no-shows and bans, sharing in the street.
Every refusal changes nothing (no booking, no audit event, no ledger entry)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.models import AuditEvent, CalendarDay
from linli.ledger.models import LedgerTransaction
from linli.resources import services
from linli.resources.models import LIVE_STATUSES, Booking, BookingPhoto, Resource
from linli.resources.tests.conftest import NOW, TOMORROW, at, balance, give_points, png

pytestmark = pytest.mark.django_db


def book(world: Any, resource: Any, start: Any, end: Any, who: str = "resident", **kw: Any) -> Any:
    return services.booking_create(
        actor=world.user(who), resource=resource, starts_at=start, ends_at=end, **kw
    )


def counts() -> tuple[int, int, int]:
    return (Booking.objects.count(), AuditEvent.objects.count(), LedgerTransaction.objects.count())


# --------------------------------------------------------------------------- conflicts


def test_back_to_back_slots_touch_but_do_not_overlap(world: Any, ladder: Any) -> None:
    a = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))
    b = book(world, ladder, at(TOMORROW, 11), at(TOMORROW, 12), who="neighbour")
    c = book(world, ladder, at(TOMORROW, 9), at(TOMORROW, 10), who="neighbour")
    assert {a.status, b.status, c.status} == {"confirmed"}


@pytest.mark.parametrize(
    ("start", "end"),
    [((10, 30), (11, 30)), ((9, 30), (10, 15)), ((10, 15), (10, 45)), ((9, 0), (12, 0))],
)
def test_overlapping_booking_refused_nothing_changed(
    world: Any, ladder: Any, start: tuple[int, int], end: tuple[int, int]
) -> None:
    book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))
    before = counts()
    with pytest.raises(Conflict) as err:
        book(world, ladder, at(TOMORROW, *start), at(TOMORROW, *end), who="neighbour")
    assert err.value.code == "overlap"
    assert "10:00–11:00" in str(err.value.message)
    assert counts() == before


def test_cancelled_booking_frees_the_slot(world: Any, ladder: Any) -> None:
    a = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))
    services.booking_cancel(actor=world.user("resident"), booking=a)
    b = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11), who="neighbour")
    assert b.status == "confirmed"


def test_database_refuses_overlap_written_past_the_service(world: Any, ladder: Any) -> None:
    a = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))
    row = {
        f: getattr(a, f)
        for f in ("community_id", "resource_id", "booker_community_id", "resident_id", "user_id")
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            **row,
            starts_at=at(TOMORROW, 10, 45),
            ends_at=at(TOMORROW, 11, 30),
            status="confirmed",
        )
    # Touching is fine for the database too; a cancelled row may overlap anything.
    Booking.objects.create(
        **row, starts_at=at(TOMORROW, 11), ends_at=at(TOMORROW, 12), status="requested"
    )
    Booking.objects.create(
        **row, starts_at=at(TOMORROW, 10), ends_at=at(TOMORROW, 11), status="cancelled"
    )
    # Moving a live row onto another is refused as well (UPDATE).
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(status="cancelled").update(status="confirmed")


def test_live_statuses_match_the_migration() -> None:
    from importlib import import_module

    mig = import_module("linli.resources.migrations.0002_no_double_booking")
    assert "(" + ", ".join(f"'{s}'" for s in LIVE_STATUSES) + ")" == mig.LIVE


def test_idempotent_retry_returns_the_same_booking(world: Any, ladder: Any) -> None:
    a = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11), idempotency_key="k-1")
    again = book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11), idempotency_key="k-1")
    assert again.pk == a.pk
    assert Booking.objects.count() == 1
    with pytest.raises(Conflict):
        book(
            world,
            ladder,
            at(TOMORROW, 12),
            at(TOMORROW, 13),
            who="neighbour",
            idempotency_key="k-1",
        )


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("start", "end", "needle"),
    [
        ((6, 0), (7, 0), "不在开放时间内"),
        ((20, 30), (21, 30), "不在开放时间内"),
        ((10, 0), (15, 0), "超过单次最长使用时间"),
        ((10, 10), (11, 0), "整刻钟"),
        ((11, 0), (10, 0), "结束时间必须晚于开始时间"),
    ],
)
def test_rules_refused_with_a_clear_message(
    world: Any, ladder: Any, start: tuple[int, int], end: tuple[int, int], needle: str
) -> None:
    before = counts()
    with pytest.raises(ValidationFailed) as err:
        book(world, ladder, at(TOMORROW, *start), at(TOMORROW, *end))
    assert needle in str(err.value.message)
    assert counts() == before


def test_past_and_too_far_ahead_refused(world: Any, ladder: Any) -> None:
    with pytest.raises(ValidationFailed, match="已经过去"):
        book(world, ladder, NOW - timedelta(days=1), NOW - timedelta(days=1, hours=-1))
    far = TOMORROW + timedelta(days=200)
    with pytest.raises(ValidationFailed, match="最多提前"):
        book(world, ladder, at(far, 10), at(far, 11))
    assert Booking.objects.count() == 0


def test_holiday_closed_unless_open_on_holidays(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    CalendarDay.objects.create(date=TOMORROW, kind="holiday", name="测试假日")
    ladder = make_resource()
    with pytest.raises(ValidationFailed, match="法定节假日"):
        book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))
    open_room = make_resource(name="活动室", kind="venue", open_on_holidays=True)
    assert book(world, open_room, at(TOMORROW, 10), at(TOMORROW, 11)).status == "confirmed"


def test_without_rights_refused(world: Any, make_resource: Any, fixed_clock: Any) -> None:
    ladder = make_resource()
    # Another street's resident cannot even see it; staff-only rooms refuse residents.
    with pytest.raises(NotFound):
        book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11), who="stranger")
    room = make_resource(name="会议室", kind="venue", bookable_by="staff")
    with pytest.raises(PermissionDenied, match="没有预约此资源的权限"):
        book(world, room, at(TOMORROW, 10), at(TOMORROW, 11))
    ok = book(world, room, at(TOMORROW, 10), at(TOMORROW, 11), who="worker")
    assert ok.resident_id is None and ok.user_id == world.user("worker").pk
    assert Booking.objects.count() == 1


def test_suspended_resource_cannot_be_booked(world: Any, ladder: Any) -> None:
    services.resource_set_status(actor=world.user("secretary"), resource=ladder, action="suspend")
    with pytest.raises(Exception, match="暂停预约|找不到"):
        book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11))


def test_street_sharing_under_the_owners_rules(
    world: Any, make_resource: Any, fixed_clock: Any, street_peer: Any
) -> None:
    local_only = make_resource()
    shared = make_resource(name="篮球场", kind="venue", share_scope="street")
    peer = street_peer.user
    with pytest.raises(NotFound):
        services.booking_create(
            actor=peer, resource=local_only, starts_at=at(TOMORROW, 10), ends_at=at(TOMORROW, 11)
        )
    b = services.booking_create(
        actor=peer, resource=shared, starts_at=at(TOMORROW, 10), ends_at=at(TOMORROW, 11)
    )
    # Outside the owner's community: approval first (outside_approval), tenant = owner.
    assert b.status == "requested"
    assert b.community_id == world.community.pk
    assert b.booker_community_id == street_peer.community_id
    services.booking_approve(actor=world.user("secretary"), booking=b)
    b.refresh_from_db()
    assert b.status == "confirmed"
    # Another street is outside the sharing scope (it does not even see the court).
    with pytest.raises(NotFound):
        book(world, shared, at(TOMORROW, 12), at(TOMORROW, 13), who="stranger")


def test_desk_books_for_a_resident_with_channel(world: Any, ladder: Any) -> None:
    r = world.residents["resident"]
    with pytest.raises(ValidationFailed, match="渠道"):
        book(world, ladder, at(TOMORROW, 10), at(TOMORROW, 11), who="grid_worker", resident=r)
    b = book(
        world,
        ladder,
        at(TOMORROW, 10),
        at(TOMORROW, 11),
        who="grid_worker",
        resident=r,
        channel="phone",
    )
    assert b.resident_id == r.pk and b.channel == "phone"
    assert b.booked_by_id == world.user("grid_worker").pk
    ev = AuditEvent.objects.filter(action="resources.booking_created").latest("id")
    assert ev.payload["channel"] == "phone"
    # A resident cannot book for someone else.
    with pytest.raises(PermissionDenied):
        book(
            world,
            ladder,
            at(TOMORROW, 12),
            at(TOMORROW, 13),
            who="neighbour",
            resident=r,
            channel="phone",
        )


# --------------------------------------------------------------------------- deposits


def test_deposit_held_then_released_on_cancel(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    r = world.residents["resident"]
    give_points(r, 50)
    chair = make_resource(name="轮椅", deposit_points=20)
    b = book(world, chair, at(TOMORROW, 10), at(TOMORROW, 11))
    b.refresh_from_db()
    assert b.deposit_state == "held" and balance(r) == 30
    services.booking_cancel(actor=world.user("resident"), booking=b)
    b.refresh_from_db()
    assert b.deposit_state == "released" and balance(r) == 50
    assert LedgerTransaction.objects.get(reverses=b.deposit_tx).kind == "reversal"


def test_not_enough_points_for_deposit_refused(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    give_points(world.residents["resident"], 5)
    chair = make_resource(name="轮椅", deposit_points=20)
    before = counts()
    with pytest.raises(ValidationFailed, match="押金 20 积分"):
        book(world, chair, at(TOMORROW, 10), at(TOMORROW, 11))
    assert counts() == before


def test_pick_up_and_return_with_photos_releases_deposit(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    r = world.residents["resident"]
    give_points(r, 30)
    ladder = make_resource(deposit_points=10)
    b = book(world, ladder, at(NOW.date(), 9), at(NOW.date(), 11))
    # Returning an item not checked out is refused, nothing changes.
    with pytest.raises(InvalidTransition, match="登记归还"):
        services.booking_return(actor=world.user("worker"), booking=b, condition="good")
    # Pick-up opens 30 minutes before the start.
    with pytest.raises(InvalidTransition, match="还未到取用时间"):
        services.booking_check_out(actor=world.user("resident"), booking=b)
    fixed_clock.move(at(NOW.date(), 8, 45))
    services.booking_check_out(
        actor=world.user("resident"), booking=b, note="梯脚有点松", photos=[png()]
    )
    b.refresh_from_db()
    assert b.status == "checked_out" and b.checked_out_at is not None
    # The booker's own return keeps the deposit until staff have looked at it.
    fixed_clock.move(at(NOW.date(), 10, 50))
    services.booking_return(
        actor=world.user("resident"), booking=b, condition="good", photos=[png("r.png")]
    )
    b.refresh_from_db()
    assert b.status == "returned" and b.deposit_state == "held" and balance(r) == 20
    assert BookingPhoto.objects.filter(booking=b).count() == 2
    with pytest.raises(PermissionDenied):
        services.deposit_settle(actor=world.user("resident"), booking=b, forfeit=False)
    services.deposit_settle(actor=world.user("worker"), booking=b, forfeit=False)
    b.refresh_from_db()
    assert b.deposit_state == "released" and balance(r) == 30


def test_staff_return_in_good_order_releases_at_once(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    r = world.residents["resident"]
    give_points(r, 30)
    ladder = make_resource(deposit_points=10)
    b = book(world, ladder, at(NOW.date(), 8, 15), at(NOW.date(), 10))
    services.booking_check_out(actor=world.user("grid_worker"), booking=b)
    services.booking_return(actor=world.user("grid_worker"), booking=b, condition="worn")
    b.refresh_from_db()
    assert b.deposit_state == "released" and balance(r) == 30


def test_damage_needs_a_note_and_forfeit_needs_a_reason(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    r = world.residents["resident"]
    give_points(r, 30)
    ladder = make_resource(deposit_points=10)
    b = book(world, ladder, at(NOW.date(), 8, 15), at(NOW.date(), 10))
    services.booking_check_out(actor=world.user("worker"), booking=b)
    with pytest.raises(ValidationFailed, match="写明情况"):
        services.booking_return(actor=world.user("worker"), booking=b, condition="damaged")
    services.booking_return(
        actor=world.user("worker"), booking=b, condition="damaged", note="横档断了一根"
    )
    b.refresh_from_db()
    assert b.deposit_state == "held"
    with pytest.raises(ValidationFailed, match="理由"):
        services.deposit_settle(actor=world.user("worker"), booking=b, forfeit=True)
    services.deposit_settle(actor=world.user("worker"), booking=b, forfeit=True, reason="损坏")
    b.refresh_from_db()
    assert b.deposit_state == "forfeited" and balance(r) == 20


# --------------------------------------------------------------------------- no-shows


def test_no_show_forfeits_and_three_suspend_booking_rights(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    r = world.residents["resident"]
    give_points(r, 100)
    ladder = make_resource(deposit_points=5)
    made = [
        book(
            world, ladder, at(TOMORROW + timedelta(days=i), 9), at(TOMORROW + timedelta(days=i), 10)
        )
        for i in range(3)
    ]
    with pytest.raises(InvalidTransition, match="30 分钟"):
        services.booking_no_show(actor=world.user("worker"), booking=made[0])
    fixed_clock.move(at(TOMORROW + timedelta(days=2), 9, 31))
    assert services.no_show_sweep() == 3
    assert set(Booking.objects.values_list("status", flat=True)) == {"no_show"}
    assert balance(r) == 85
    later = TOMORROW + timedelta(days=5)
    with pytest.raises(PermissionDenied, match="预约权限暂停至"):
        book(world, ladder, at(later, 10), at(later, 11))
    # The desk cannot book for a suspended resident either.
    with pytest.raises(PermissionDenied, match="暂停"):
        book(world, ladder, at(later, 10), at(later, 11), who="worker", resident=r, channel="desk")
    # The ban ends 30 days after the latest no-show.
    fixed_clock.move(at(TOMORROW + timedelta(days=33), 8))
    far = TOMORROW + timedelta(days=34)
    assert book(world, ladder, at(far, 10), at(far, 11)).status == "confirmed"


# --------------------------------------------------------------------------- gifts


def test_idle_item_given_away(world: Any, make_resource: Any, fixed_clock: Any) -> None:
    owner = world.residents["neighbour"]
    crib = make_resource(
        actor=world.user("neighbour"),
        name="婴儿床",
        kind="item",
        share_mode="give",
        owner_kind="resident",
        owner_resident=owner,
    )
    assert crib.approval_required  # a resident's item: every request needs their yes
    b = book(world, crib, at(TOMORROW, 18), at(TOMORROW, 19))
    assert b.status == "requested"
    with pytest.raises(Conflict, match="已有人申请"):
        book(world, crib, at(TOMORROW, 19), at(TOMORROW, 20), who="grid_worker")
    with pytest.raises(PermissionDenied):
        services.booking_approve(actor=world.user("resident"), booking=b)
    services.booking_approve(actor=world.user("neighbour"), booking=b)
    services.booking_hand_over(actor=world.user("neighbour"), booking=b)
    crib.refresh_from_db()
    assert crib.status == "retired"


# --------------------------------------------------------------------------- series


def test_recurring_series_report_skips_holidays_and_conflicts(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    room = make_resource(name="活动室", kind="venue", max_minutes=180)
    wednesdays = [NOW.date() + timedelta(days=7 * i) for i in range(1, 14)]  # 3 months
    CalendarDay.objects.create(date=wednesdays[3], kind="holiday", name="元旦")
    other = book(world, room, at(wednesdays[5], 19, 30), at(wednesdays[5], 20, 30), who="neighbour")
    report = services.series_preview(
        actor=world.user("resident"),
        resource=room,
        first_date=wednesdays[0],
        last_date=wednesdays[-1],
        start_time=time(19, 0),
        end_time=time(21, 0),
    )
    assert [o.status for o in report].count("ok") == 11
    assert report[3].status == "holiday" and report[3].note == "元旦"
    assert report[5].status == "conflict" and "19:30–20:30" in report[5].note
    assert Booking.objects.count() == 1  # the preview wrote nothing
    series = services.series_create(
        actor=world.user("resident"),
        resource=room,
        first_date=wednesdays[0],
        last_date=wednesdays[-1],
        start_time=time(19, 0),
        end_time=time(21, 0),
        purpose="合唱排练",
        idempotency_key="s-1",
    )
    assert series.bookings.count() == 11
    assert [s[1] for s in series.skipped] == ["holiday", "conflict"]
    again = services.series_create(
        actor=world.user("resident"),
        resource=room,
        first_date=wednesdays[0],
        last_date=wednesdays[-1],
        start_time=time(19, 0),
        end_time=time(21, 0),
        idempotency_key="s-1",
    )
    assert again.pk == series.pk and Booking.objects.count() == 12
    assert other.status == "confirmed"


def test_series_beyond_max_duration_refused(
    world: Any, make_resource: Any, fixed_clock: Any
) -> None:
    room = make_resource(name="活动室", kind="venue", max_minutes=60)
    with pytest.raises(ValidationFailed, match="超过单次最长"):
        services.series_preview(
            actor=world.user("resident"),
            resource=room,
            first_date=TOMORROW,
            last_date=TOMORROW + timedelta(days=28),
            start_time=time(19, 0),
            end_time=time(21, 0),
        )


# --------------------------------------------------------------------------- listing


def test_resident_lists_own_item_and_managers_list_venues(world: Any, make_resource: Any) -> None:
    with pytest.raises(PermissionDenied):
        make_resource(actor=world.user("resident"), name="会议室", kind="venue")
    with pytest.raises(ValidationFailed, match="闲置物品"):
        make_resource(
            actor=world.user("resident"),
            kind="venue",
            owner_kind="resident",
            owner_resident=world.residents["resident"],
        )
    with pytest.raises(ValidationFailed, match="开放时间"):
        make_resource(hours={})
    assert Resource.objects.count() == 0


def test_no_show_command(world: Any, ladder: Any, fixed_clock: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    b = book(world, ladder, at(TOMORROW, 9), at(TOMORROW, 10))
    fixed_clock.move(at(TOMORROW, 10, 1))
    out = StringIO()
    call_command("resources_no_shows", stdout=out)
    assert "no_shows=1" in out.getvalue()
    b.refresh_from_db()
    assert b.status == "no_show"
    call_command("resources_no_shows", stdout=out)  # nothing left to record
    assert out.getvalue().count("no_shows=0") == 1
