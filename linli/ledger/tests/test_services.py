"""The ledger through its services: earning, caps, time bank, catalogue, donation,
reversal, idempotency and every bad input listed in the issue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.ledger import services
from linli.ledger.checks import recompute
from linli.ledger.models import (
    Account,
    ClaimStatus,
    Currency,
    EarnKind,
    Entry,
    Honour,
    HonourKind,
    LedgerTransaction,
    Voucher,
)
from linli.ledger.selectors import trial_balance_raw
from linli.ledger.tests.conftest import balance, fund, give_points

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def snapshot() -> tuple[int, int, list[tuple[int, int]]]:
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        list(Account.objects.order_by("pk").values_list("pk", "balance")),
    )


def assert_consistent() -> None:
    rep = recompute()
    assert rep.ok, rep


def test_award_posts_balanced_transaction_with_audit(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    claim = services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key="k1",
    )
    assert claim is not None and claim.status == ClaimStatus.APPROVED
    assert balance(r) == 10
    acc = services.resident_account(r, Currency.POINTS)
    assert acc.lifetime_earned == 10
    tx = claim.transaction
    assert tx is not None
    assert sum(e.signed for e in tx.entries.all()) == 0
    assert AuditEvent.objects.filter(action="ledger.earn", target_id=str(tx.pk)).exists()
    rows, totals = trial_balance_raw(world.community.pk)
    assert totals == {"points": 0, "minutes": 0, "fen": 0}
    assert_consistent()


def test_same_idempotency_key_returns_original_and_changes_nothing(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    first = services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key="same",
    )
    before = snapshot()
    again = services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key="same",
    )
    assert first is not None and again is not None and again.pk == first.pk
    assert snapshot() == before
    # The same key for a different request is refused, also without effect.
    with pytest.raises(Conflict):
        services.award(
            actor=world.user("worker"),
            resident=r,
            kind=EarnKind.VOLUNTEER_SERVICE,
            amount=3,
            idempotency_key="same",
        )
    assert snapshot() == before


def test_redeem_replay_returns_same_voucher(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 20, "g")
    item = services.item_save(
        actor=world.user("worker"),
        community=world.community,
        name="粮油",
        kind="goods",
        price_points=15,
        stock=3,
        per_person_limit=2,
    )
    v1 = services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="r1")
    before = snapshot()
    v2 = services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="r1")
    assert v1.pk == v2.pk and v1.code == v2.code
    assert snapshot() == before
    item.refresh_from_db()
    assert item.stock == 2 and balance(r) == 5


def test_spending_more_than_balance_is_refused(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 10, "g")
    item = services.item_save(
        actor=world.user("worker"),
        community=world.community,
        name="物业费抵扣券",
        kind="property_voucher",
        price_points=50,
        stock=3,
    )
    before = snapshot()
    with pytest.raises(ValidationFailed) as e:
        services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="x")
    assert "余额不足" in str(e.value.message)
    assert snapshot() == before
    item.refresh_from_db()
    assert item.stock == 3 and not Voucher.objects.exists()
    with pytest.raises(ValidationFailed):
        services.donate(actor=world.user("resident"), resident=r, points=11, idempotency_key="d")
    assert snapshot() == before


def test_out_of_stock_and_per_person_limit(world: Any, rules: Any) -> None:
    r, n = world.residents["resident"], world.residents["neighbour"]
    give_points(world, r, 30, "g1")
    give_points(world, n, 30, "g2")
    item = services.item_save(
        actor=world.user("worker"),
        community=world.community,
        name="理发服务",
        kind="service",
        price_points=5,
        stock=1,
        per_person_limit=1,
    )
    services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="a")
    before = snapshot()
    with pytest.raises(ValidationFailed) as e:
        services.redeem(actor=world.user("neighbour"), item=item, resident=n, idempotency_key="b")
    assert e.value.code == "out_of_stock"
    item2 = services.item_save(
        actor=world.user("worker"),
        community=world.community,
        name="粮油",
        kind="goods",
        price_points=5,
        stock=5,
        per_person_limit=1,
    )
    before = snapshot()
    services.redeem(actor=world.user("resident"), item=item2, resident=r, idempotency_key="c")
    before = snapshot()
    with pytest.raises(ValidationFailed) as e:
        services.redeem(actor=world.user("resident"), item=item2, resident=r, idempotency_key="d")
    assert e.value.code == "limit"
    assert snapshot() == before


def test_voucher_codes_single_use(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 30, "g")
    item = services.item_save(
        actor=world.user("worker"),
        community=world.community,
        name="物业费抵扣券",
        kind="property_voucher",
        price_points=10,
        stock=5,
        per_person_limit=3,
    )
    codes = {
        services.redeem(
            actor=world.user("resident"), item=item, resident=r, idempotency_key=f"v{i}"
        ).code
        for i in range(3)
    }
    assert len(codes) == 3
    code = next(iter(codes))
    used = services.voucher_use(
        actor=world.user("property"), community=world.community, code=code.lower()
    )
    assert used.status == "used"
    with pytest.raises(Conflict):
        services.voucher_use(actor=world.user("worker"), community=world.community, code=code)
    with pytest.raises(Exception):  # noqa: B017 - NotFound for another community's staff
        services.voucher_use(
            actor=world.user("other_secretary"), community=world.other_community, code=code
        )


def test_daily_cap_refused_on_approval(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    grid = world.user("grid_worker")
    c1 = services.claim_submit(
        actor=world.user("resident"),
        resident=r,
        kind=EarnKind.GARBAGE_SORTING,
        service_date=TODAY(),
    )
    c2 = services.claim_submit(
        actor=world.user("resident"),
        resident=r,
        kind=EarnKind.GARBAGE_SORTING,
        service_date=TODAY(),
    )
    services.claim_approve(actor=grid, claim=c1)
    before = snapshot()
    with pytest.raises(ValidationFailed) as e:
        services.claim_approve(actor=grid, claim=c2)
    assert e.value.code == "cap_exceeded"
    assert snapshot() == before
    c2.refresh_from_db()
    assert c2.status == ClaimStatus.AWAITING_APPROVAL
    # Monthly cap on the volunteer rule: 200 per month, 30 per day.
    for i in range(3):
        services.award(
            actor=world.user("worker"),
            resident=r,
            kind=EarnKind.VOLUNTEER_SERVICE,
            idempotency_key=f"m{i}",
        )
    with pytest.raises(ValidationFailed):
        services.award(
            actor=world.user("worker"),
            resident=r,
            kind=EarnKind.VOLUNTEER_SERVICE,
            idempotency_key="m4",
        )
    clamped = services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key="m5",
        clamp_to_cap=True,
    )
    assert clamped is None
    assert_consistent()


def test_nobody_approves_or_confirms_their_own(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    neighbour = world.residents["neighbour"]
    claim = services.claim_submit(
        actor=world.user("resident"),
        resident=r,
        kind=EarnKind.MUTUAL_AID,
        service_date=TODAY(),
        recipient=neighbour,
    )
    with pytest.raises(PermissionDenied) as e:
        services.claim_confirm(actor=world.user("resident"), claim=claim)
    assert "自己" in str(e.value.message)
    with pytest.raises(PermissionDenied):
        services.claim_approve(actor=world.user("resident"), claim=claim)
    services.claim_confirm(actor=world.user("neighbour"), claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.AWAITING_APPROVAL
    services.claim_approve(actor=world.user("worker"), claim=claim)
    assert balance(r) == 8


def test_timebank_service_confirmed_by_recipient_credits_hours(
    world: Any, rules: Any, family: Any
) -> None:
    volunteer = world.residents["neighbour"]
    elder = world.residents["resident"]  # disabled, living alone
    claim = services.claim_submit(
        actor=world.user("neighbour"),
        resident=volunteer,
        kind=EarnKind.TIMEBANK_SERVICE,
        service_date=TODAY(),
        amount=90,
        recipient=elder,
        description="陪同就医",
    )
    assert claim.status == ClaimStatus.AWAITING_CONFIRMATION
    assert balance(volunteer, Currency.MINUTES) == 0
    services.claim_confirm(actor=world.user("grid_worker"), claim=claim)  # elder's grid worker
    assert balance(volunteer, Currency.MINUTES) == 90
    assert balance(volunteer, Currency.POINTS) == 0  # never mixed


def test_timebank_recipient_must_be_elderly_or_disabled(world: Any, rules: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.claim_submit(
            actor=world.user("resident"),
            resident=world.residents["resident"],
            kind=EarnKind.TIMEBANK_SERVICE,
            service_date=TODAY(),
            amount=60,
            recipient=world.residents["neighbour"],
        )
    with pytest.raises(ValidationFailed):
        services.claim_submit(
            actor=world.user("neighbour"),
            resident=world.residents["neighbour"],
            kind=EarnKind.TIMEBANK_SERVICE,
            service_date=TODAY() + timedelta(days=1),
            amount=60,
            recipient=world.residents["resident"],
        )


@pytest.mark.parametrize("bad", [-5, 0, 1.5, "1.5", "abc", "", None, True, 10**12])
def test_bad_amounts_refused(world: Any, rules: Any, family: Any, bad: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 30, "g")
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=120,
        idempotency_key="h",
    )
    before = snapshot()
    with pytest.raises(ValidationFailed):
        services.donate(
            actor=world.user("resident"), resident=r, points=bad, idempotency_key="bad1"
        )
    with pytest.raises(ValidationFailed):
        services.hours_transfer(
            actor=world.user("resident"),
            sender=r,
            receiver=family,
            minutes=bad,
            idempotency_key="bad2",
        )
    with pytest.raises(ValidationFailed):
        services.hours_spend(
            actor=world.user("resident"), resident=r, minutes=bad, idempotency_key="bad3"
        )
    assert snapshot() == before


def test_transfer_hours_only_to_family(world: Any, rules: Any, family: Any) -> None:
    r = world.residents["resident"]
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=120,
        idempotency_key="h",
    )
    before = snapshot()
    with pytest.raises(ValidationFailed) as e:
        services.hours_transfer(
            actor=world.user("resident"),
            sender=r,
            receiver=world.residents["neighbour"],
            minutes=60,
            idempotency_key="t1",
        )
    assert e.value.code == "not_family"
    assert snapshot() == before
    services.hours_transfer(
        actor=world.user("resident"), sender=r, receiver=family, minutes=60, idempotency_key="t2"
    )
    assert balance(r, Currency.MINUTES) == 60 and balance(family, Currency.MINUTES) == 60
    with pytest.raises(PermissionDenied):  # someone else moving my hours
        services.hours_transfer(
            actor=world.user("neighbour"),
            sender=r,
            receiver=family,
            minutes=10,
            idempotency_key="t3",
        )


def test_hours_cap_overflows_to_public_fund(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.settings_save(
        actor=world.user("secretary"), community=world.community, hours_cap_minutes=120
    )
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=100,
        idempotency_key="a",
    )
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=60,
        idempotency_key="b",
    )
    assert balance(r, Currency.MINUTES) == 120
    assert fund(world, Currency.MINUTES) == 40
    assert_consistent()


def test_donation_grants_philanthropist_at_threshold(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.settings_save(
        actor=world.user("secretary"), community=world.community, philanthropist_threshold=25
    )
    give_points(world, r, 30, "g")
    services.donate(actor=world.user("resident"), resident=r, points=20, idempotency_key="d1")
    assert not Honour.objects.filter(kind=HonourKind.PHILANTHROPIST).exists()
    services.donate(actor=world.user("resident"), resident=r, points=5, idempotency_key="d2")
    assert Honour.objects.filter(resident=r, kind=HonourKind.PHILANTHROPIST).count() == 1
    assert fund(world) == 25 and balance(r) == 5


def test_credit_level_uses_lifetime_not_balance(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    services.settings_save(
        actor=world.user("secretary"),
        community=world.community,
        level_a=20,
        level_aa=30,
        level_aaa=1000,
    )
    give_points(world, r, 25, "g")
    acc = services.resident_account(r, Currency.POINTS)
    assert services.credit_level(acc) == "A"
    services.donate(actor=world.user("resident"), resident=r, points=25, idempotency_key="d")
    acc.refresh_from_db()
    assert acc.balance == 0 and services.credit_level(acc) == "A"
    from linli.ledger.permissions import has_credit_level

    assert has_credit_level("A")(world.user("resident"))
    assert not has_credit_level("AA")(world.user("resident"))


def test_reversal_references_original_and_entries_are_immutable(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    claim = services.award(
        actor=world.user("worker"), resident=r, kind=EarnKind.VOLUNTEER_SERVICE, idempotency_key="k"
    )
    assert claim is not None and claim.transaction is not None
    with pytest.raises(PermissionDenied):
        services.reverse(
            actor=world.user("worker"), tx=claim.transaction, reason="录错", idempotency_key="rv"
        )
    rev = services.reverse(
        actor=world.user("secretary"), tx=claim.transaction, reason="录错", idempotency_key="rv"
    )
    assert rev.reverses_id == claim.transaction.pk
    assert balance(r) == 0
    assert services.resident_account(r, Currency.POINTS).lifetime_earned == 0
    with pytest.raises(Conflict):
        services.reverse(
            actor=world.user("secretary"),
            tx=claim.transaction,
            reason="again",
            idempotency_key="rv2",
        )
    entry = Entry.objects.first()
    assert entry is not None
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():  # the database refuses too (trigger)
        Entry.objects.filter(pk=entry.pk).update(amount=999)
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=services.resident_account(r, Currency.POINTS).pk).update(
            balance=-1
        )
    assert_consistent()


def test_recompute_command_reports_tampering(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 10, "g")
    call_command("ledger_recompute")
    Account.objects.filter(pk=services.resident_account(r, Currency.POINTS).pk).update(balance=7)
    with pytest.raises(CommandError):
        call_command("ledger_recompute")


def test_cross_currency_and_unbalanced_posting_refused(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    pts = services.resident_account(r, Currency.POINTS)
    mins = services.resident_account(r, Currency.MINUTES)
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.post_transaction(
            actor=None,
            community_id=r.community_id,
            currency=Currency.POINTS,
            kind="adjust",
            legs=[services.Leg(pts.pk, 5), services.Leg(mins.pk, -5)],
            idempotency_key="x",
            rhash="x",
        )
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.post_transaction(
            actor=None,
            community_id=r.community_id,
            currency=Currency.POINTS,
            kind="adjust",
            legs=[services.Leg(pts.pk, 5)],
            idempotency_key="y",
            rhash="y",
        )


def test_honour_award_and_candidates(world: Any, rules: Any) -> None:
    from linli.ledger.selectors import honour_candidates

    r = world.residents["resident"]
    give_points(world, r, 10, "g")
    year = date.today().year
    cands = honour_candidates(
        viewer=world.user("secretary"),
        community=world.community,
        kind=HonourKind.BEST_VOLUNTEER,
        year=year,
    )
    assert [c.resident.pk for c in cands] == [r.pk]
    services.honour_award(
        actor=world.user("secretary"),
        community=world.community,
        resident=r,
        kind=HonourKind.BEST_VOLUNTEER,
        year=year,
        citation="热心助老",
    )
    with pytest.raises(Conflict):
        services.honour_award(
            actor=world.user("secretary"),
            community=world.community,
            resident=r,
            kind=HonourKind.BEST_VOLUNTEER,
            year=year,
        )
    with pytest.raises(PermissionDenied):
        services.honour_award(
            actor=world.user("resident"),
            community=world.community,
            resident=r,
            kind=HonourKind.GOVERNANCE_PIONEER,
            year=year,
        )


def test_unknown_earning_kind_is_refused_clearly(world) -> None:
    from linli.core.errors import ValidationFailed
    from linli.ledger import services

    with pytest.raises(ValidationFailed) as exc:
        services._rule(world.community.pk, "property_voucher")
    assert exc.value.field == "kind"
