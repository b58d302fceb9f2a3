"""优先报名 voucher: signs a resident up during the priority window, spent in the same
transaction as the sign-up, and only when it secures a place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.ledger import services as ledger
from linli.ledger.models import EarnKind, Voucher, VoucherStatus
from linli.volunteers import services
from linli.volunteers.models import Activity, SignUp, SignUpStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world: Any) -> dict[str, Any]:
    sec = world.user("secretary")
    ledger.rule_save(
        actor=sec, community=world.community, kind=EarnKind.VOLUNTEER_SERVICE, amount=50
    )
    ledger.settings_save(
        actor=sec, community=world.community, level_a=100, level_aa=200, level_aaa=300
    )
    item = ledger.item_save(
        actor=sec,
        community=world.community,
        name="优先报名券",
        kind="priority_signup",
        price_points=20,
        stock=10,
        per_person_limit=2,
    )
    now = timezone.now()
    act = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="training",
        title="急救培训",
        location="活动室",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        capacity=1,
        priority_level="A",
        priority_until=now + timedelta(days=1),
    )
    return {"item": item, "activity": act}


def _voucher(world: Any, item: Any, who: str = "neighbour", key: str = "v") -> Voucher:
    r = world.residents[who]
    ledger.award(
        actor=world.user("secretary"),
        resident=r,
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key=f"earn-{key}",
    )
    return ledger.redeem(actor=world.user(who), item=item, resident=r, idempotency_key=key)


def _sign(world: Any, act: Activity, who: str = "neighbour", **kw: Any) -> SignUp:
    return services.signup(actor=world.user(who), activity=act, resident=world.residents[who], **kw)


def test_voucher_signs_up_during_priority_window(world: Any, setup: Any) -> None:
    act = setup["activity"]
    with pytest.raises(ValidationFailed) as e:  # no voucher yet
        _sign(world, act, use_voucher=True)
    assert e.value.code == "no_priority_voucher"
    v = _voucher(world, setup["item"])
    with pytest.raises(PermissionDenied):  # holding one is not enough: it must be used
        _sign(world, act)
    v.refresh_from_db()
    assert v.status == VoucherStatus.ISSUED
    s = _sign(world, act, use_voucher=True)
    v.refresh_from_db()
    assert s.status == SignUpStatus.REGISTERED and s.priority_voucher_id == v.pk
    assert v.status == VoucherStatus.USED and v.used_by == world.user("neighbour")
    assert AuditEvent.objects.filter(action="ledger.voucher_used", target_id=str(v.pk)).exists()
    # Cancelling does not give the voucher back.
    services.signup_cancel(actor=world.user("neighbour"), signup=s)
    v.refresh_from_db()
    assert v.status == VoucherStatus.USED
    with pytest.raises(ValidationFailed):
        _sign(world, act, use_voucher=True)


def test_voucher_kept_when_full_or_not_needed(world: Any, setup: Any) -> None:
    act = setup["activity"]
    v = _voucher(world, setup["item"])
    # The resident reaches level A (100 lifetime points) and takes the only place.
    for i in range(2):
        ledger.award(
            actor=world.user("secretary"),
            resident=world.residents["resident"],
            kind=EarnKind.VOLUNTEER_SERVICE,
            idempotency_key=f"lvl{i}",
        )
    mine = _voucher(world, setup["item"], who="resident", key="rv")
    s = _sign(world, act, who="resident", use_voucher=True)
    mine.refresh_from_db()
    assert s.priority_voucher_id is None and mine.status == VoucherStatus.ISSUED
    with pytest.raises(Conflict):  # full: refused, voucher untouched
        _sign(world, act, use_voucher=True)
    v.refresh_from_db()
    assert v.status == VoucherStatus.ISSUED
    assert not SignUp.objects.filter(resident=world.residents["neighbour"]).exists()


def test_voucher_not_used_outside_window(world: Any, setup: Any) -> None:
    act = setup["activity"]
    Activity.objects.filter(pk=act.pk).update(priority_until=timezone.now() - timedelta(hours=1))
    act.refresh_from_db()
    v = _voucher(world, setup["item"])
    s = _sign(world, act, use_voucher=True)
    v.refresh_from_db()
    assert s.status == SignUpStatus.REGISTERED and s.priority_voucher_id is None
    assert v.status == VoucherStatus.ISSUED


def test_voucher_use_rolls_back_with_a_failed_signup(
    world: Any, setup: Any, monkeypatch: Any
) -> None:
    act = setup["activity"]
    v = _voucher(world, setup["item"])

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(SignUp.objects, "create", boom)
    with pytest.raises(RuntimeError):
        _sign(world, act, use_voucher=True)
    v.refresh_from_db()
    assert v.status == VoucherStatus.ISSUED and v.used_at is None


def test_page_offers_voucher_and_signs_up(world: Any, setup: Any) -> None:
    act = setup["activity"]
    c = Client()
    c.force_login(world.user("neighbour"))
    url = f"/volunteers/{act.pk}/"
    page = c.get(url).content.decode()
    assert 'id="priority-box"' in page and 'name="use_voucher"' not in page
    v = _voucher(world, setup["item"])
    page = c.get(url).content.decode()
    assert 'name="use_voucher"' in page
    resp = c.post(f"/volunteers/{act.pk}/signup/", {"use_voucher": "1"}, follow=True)
    body = resp.content.decode()
    assert "已使用一张优先报名券" in body
    v.refresh_from_db()
    assert v.status == VoucherStatus.USED
    assert SignUp.objects.get(activity=act, resident=world.residents["neighbour"]).status == (
        SignUpStatus.REGISTERED
    )
