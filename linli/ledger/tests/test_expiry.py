"""Points expiry: first in, first out, only past the community's validity period, never
for hours, never twice; run by a command and a django.tasks task."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.ledger import selectors, services
from linli.ledger.models import Currency, LedgerSettings, LedgerTransaction, TxKind
from linli.ledger.tasks import expire_points_task
from linli.ledger.tests.conftest import balance, give_points

pytestmark = pytest.mark.django_db


def _valid(world: Any, months: int) -> None:
    services.settings_save(
        actor=world.user("secretary"), community=world.community, points_valid_months=months
    )


def _later(months: int, days: int = 1) -> datetime:
    return timezone.now() + timedelta(days=31 * months + days)


def test_months_before_clamps_day() -> None:
    assert services.months_before(datetime(2025, 3, 31, 9, tzinfo=UTC), 1) == datetime(
        2025, 2, 28, 9, tzinfo=UTC
    )
    assert services.months_before(datetime(2024, 1, 15, tzinfo=UTC), 13) == datetime(
        2022, 12, 15, tzinfo=UTC
    )


def test_nothing_expires_when_not_configured(world: Any, rules: Any) -> None:
    give_points(world, world.residents["resident"], 20, "g")
    assert services.points_expire(as_of=_later(100)).points == 0
    assert balance(world.residents["resident"]) == 20


def test_fifo_expiry_of_unspent_old_points_once(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    _valid(world, 12)
    give_points(world, r, 30, "g1")
    services.donate(actor=world.user("resident"), resident=r, points=10, idempotency_key="d")
    lifetime = services.resident_account(r, Currency.POINTS).lifetime_earned
    # Not yet twelve months old: nothing lapses.
    assert services.points_expire(as_of=_later(11)).points == 0
    # Twelve months on: the 30 old points minus the 10 already spent lapse.
    res = services.points_expire(as_of=_later(12))
    assert (res.communities, res.accounts, res.points) == (1, 1, 20)
    assert balance(r) == 0
    tx = LedgerTransaction.objects.get(kind=TxKind.EXPIRE)
    assert AuditEvent.objects.filter(action="ledger.expire", target_id=str(tx.pk)).exists()
    # Credit level is by lifetime earnings: expiry does not lower it.
    assert services.resident_account(r, Currency.POINTS).lifetime_earned == lifetime
    # Re-running (same day, or later with nothing new) expires nothing more.
    assert services.points_expire(as_of=_later(12)).points == 0
    assert services.points_expire(as_of=_later(30)).points == 0
    assert LedgerTransaction.objects.filter(kind=TxKind.EXPIRE).count() == 1
    rows, totals = selectors.trial_balance_raw(world.community.pk)
    assert all(v == 0 for v in totals.values())


def test_recent_points_survive_and_hours_never_expire(world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    _valid(world, 12)
    give_points(world, r, 20, "old")
    services.award(
        actor=world.user("secretary"),
        resident=r,
        kind="timebank_service",
        amount=120,
        idempotency_key="h",
    )
    time.sleep(0.01)
    give_points(world, r, 10, "new")
    first = LedgerTransaction.objects.get(idempotency_key="old").created_at
    second = LedgerTransaction.objects.get(idempotency_key="new").created_at
    middle = first + (second - first) / 2
    # Twelve months after a moment between the two earnings: only the older batch lapses.
    res = services.points_expire(as_of=middle.replace(year=middle.year + 1))
    assert res.points == 20
    assert balance(r) == 10
    assert balance(r, Currency.MINUTES) == 120
    services.points_expire(as_of=_later(13))
    assert balance(r) == 0
    assert balance(r, Currency.MINUTES) == 120


def test_only_secretary_runs_by_hand(world: Any, rules: Any) -> None:
    give_points(world, world.residents["resident"], 20, "g")
    _valid(world, 1)
    for role in ("worker", "resident", "grid_worker", "supervisor"):
        with pytest.raises(PermissionDenied):
            services.points_expire(actor=world.user(role), community=world.community)
    res = services.points_expire(
        actor=world.user("secretary"), community=world.community, as_of=_later(1)
    )
    assert res.points == 20


def test_settings_validation(world: Any) -> None:
    for bad in ("-1", "1.5", "abc", 121):
        with pytest.raises(ValidationFailed):
            _valid(world, bad)  # type: ignore[arg-type]
    _valid(world, 0)
    assert LedgerSettings.objects.get(community=world.community).points_valid_months == 0
    _valid(world, 24)
    assert LedgerSettings.objects.get(community=world.community).points_valid_months == 24


def test_command_and_task(world: Any, rules: Any, monkeypatch: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 15, "g")
    _valid(world, 1)
    future = _later(1)
    monkeypatch.setattr(timezone, "now", lambda: future)
    out = StringIO()
    call_command("expire_points", stdout=out)
    assert "accounts=1 points=15" in out.getvalue()
    assert balance(r) == 0
    give_points(world, r, 5, "g2")
    monkeypatch.setattr(timezone, "now", lambda: future + timedelta(days=62))
    result = expire_points_task.enqueue(community_id=world.community.pk)
    assert result.return_value == {"communities": 1, "accounts": 1, "points": 5}
    out = StringIO()
    call_command("expire_points", "--enqueue", stdout=out)
    assert out.getvalue().startswith("enqueued ")


def test_settings_page_saves_validity(client: Any, world: Any) -> None:
    client.force_login(world.user("secretary"))
    client.post(
        "/ledger/manage/settings/",
        {
            "community": world.community.pk,
            "points_valid_months": "18",
            "hours_cap": "1500",
            "philanthropist_threshold": "500",
            "level_a": "100",
            "level_aa": "500",
            "level_aaa": "2000",
        },
    )
    s = LedgerSettings.objects.get(community=world.community)
    assert s.points_valid_months == 18 and s.hours_cap_minutes == 1500 * 60
    page = client.get("/ledger/manage/rules/").content.decode()
    assert 'name="hours_cap" value="1500"' in page
