"""The correction desk: a secretary reverses a transaction with a reason; everyone
else is refused, and refused cases say why in Chinese with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.core.models import AuditEvent
from linli.ledger import services
from linli.ledger.models import (
    CatalogueItem,
    Currency,
    EarningClaim,
    LedgerTransaction,
    TxKind,
    VoucherStatus,
)
from linli.ledger.tests.conftest import balance, give_points

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _earn(world: Any, n: int = 10, key: str = "e1") -> LedgerTransaction:
    give_points(world, world.residents["resident"], n, key)
    claim = EarningClaim.objects.get(transaction__idempotency_key=key)
    assert claim.transaction is not None
    return claim.transaction


def _url(tx: LedgerTransaction) -> str:
    return f"/ledger/manage/transactions/{tx.pk}/"


def test_reachable_from_trial_balance_and_statement(world: Any, rules: Any) -> None:
    tx = _earn(world)
    c = _client(world.user("secretary"))
    tb = c.get(f"/ledger/manage/trial-balance/?community={world.community.pk}").content.decode()
    assert _url(tx) in tb
    acc = services.resident_account(world.residents["resident"], Currency.POINTS)
    st = c.get(f"/ledger/accounts/{acc.pk}/").content.decode()
    assert _url(tx) in st
    # The resident's own statement has no links to the staff desk.
    mine = _client(world.user("resident")).get(f"/ledger/accounts/{acc.pk}/").content.decode()
    assert _url(tx) not in mine


def test_secretary_reverses_with_reason_once(world: Any, rules: Any) -> None:
    tx = _earn(world)
    r = world.residents["resident"]
    c = _client(world.user("secretary"))
    page = c.get(_url(tx)).content.decode()
    assert 'name="reason"' in page and 'name="key"' in page
    before = AuditEvent.objects.filter(action="ledger.reversal").count()
    resp = c.post(_url(tx), {"reason": "重复录入", "key": "k-1"}, follow=True)
    assert "已冲正" in resp.content.decode()
    assert balance(r) == 0
    rev = LedgerTransaction.objects.get(reverses=tx)
    assert rev.kind == TxKind.REVERSAL and "重复录入" in rev.memo
    assert AuditEvent.objects.filter(action="ledger.reversal").count() == before + 1
    # The same form posted again (double tap): no second effect.
    c.post(_url(tx), {"reason": "重复录入", "key": "k-1"})
    # A fresh form after the reversal: refused clearly.
    resp = c.post(_url(tx), {"reason": "再冲一次", "key": "k-2"}, follow=True)
    assert "该交易已冲正" in resp.content.decode()
    assert LedgerTransaction.objects.filter(kind=TxKind.REVERSAL).count() == 1
    assert balance(r) == 0
    # A reversal cannot itself be reversed.
    resp = c.post(_url(rev), {"reason": "撤回冲正", "key": "k-3"}, follow=True)
    assert "冲正交易不能再次冲正" in resp.content.decode()
    assert LedgerTransaction.objects.filter(kind=TxKind.REVERSAL).count() == 1


def test_reason_required(world: Any, rules: Any) -> None:
    tx = _earn(world)
    resp = _client(world.user("secretary")).post(_url(tx), {"reason": "  ", "key": "k"})
    assert resp.status_code == 200
    assert "请填写冲正原因" in resp.content.decode()
    assert not LedgerTransaction.objects.filter(reverses=tx).exists()


def test_insufficient_balance_refused(world: Any, rules: Any) -> None:
    tx = _earn(world, 10, "e1")
    r = world.residents["resident"]
    services.donate(actor=world.user("resident"), resident=r, points=8, idempotency_key="d")
    resp = _client(world.user("secretary")).post(_url(tx), {"reason": "录错", "key": "k"})
    body = resp.content.decode()
    assert "未冲正" in body and "积分余额不足" in body
    assert balance(r) == 2
    assert not LedgerTransaction.objects.filter(reverses=tx).exists()


@pytest.mark.parametrize(
    ("role", "get_status", "can_post"),
    [
        ("secretary", 200, True),
        ("worker", 200, False),  # manages the ledger, may look, may not reverse
        ("supervisor", 200, False),
        ("grid_worker", 404, False),
        ("resident", 404, False),
        ("stranger", 404, False),
        ("other_street_officer", 404, False),
    ],
)
def test_permission_matrix(
    world: Any, rules: Any, role: str, get_status: int, can_post: bool
) -> None:
    tx = _earn(world)
    c = _client(world.user(role))
    resp = c.get(_url(tx))
    assert resp.status_code == get_status
    if get_status == 200:
        assert ('name="reason"' in resp.content.decode()) is can_post
    c.post(_url(tx), {"reason": "试试", "key": f"k-{role}"})
    assert LedgerTransaction.objects.filter(reverses=tx).exists() is can_post


def test_reversing_a_redemption_voids_the_voucher_and_restores_stock(
    world: Any, rules: Any
) -> None:
    r = world.residents["resident"]
    give_points(world, r, 30, "g")
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="洗衣液",
        kind="goods",
        price_points=20,
        stock=3,
    )
    v1 = services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="r1")
    c = _client(world.user("secretary"))
    c.post(_url(v1.transaction), {"reason": "居民放弃", "key": "k1"})
    v1.refresh_from_db()
    item.refresh_from_db()
    assert v1.status == VoucherStatus.VOID and item.stock == 3 and balance(r) == 30
    # A voucher already used at the counter cannot be undone by a ledger entry.
    v2 = services.redeem(actor=world.user("resident"), item=item, resident=r, idempotency_key="r2")
    services.voucher_use(actor=world.user("secretary"), community=world.community, code=v2.code)
    resp = c.post(_url(v2.transaction), {"reason": "误兑", "key": "k2"})
    assert "已核销，不能冲正" in resp.content.decode()
    v2.refresh_from_db()
    assert v2.status == VoucherStatus.USED
    assert CatalogueItem.objects.get(pk=item.pk).stock == 2 and balance(r) == 10
