"""Pages and the JSON API through the test client."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from linli.ledger import services
from linli.ledger.models import Currency, EarnKind, LedgerTransaction, Voucher
from linli.ledger.tests.conftest import give_points

pytestmark = pytest.mark.django_db


def test_resident_pages_render(client: Any, world: Any, rules: Any) -> None:
    give_points(world, world.residents["resident"], 20, "g")
    client.force_login(world.user("resident"))
    for url in [
        "/ledger/",
        "/ledger/catalogue/",
        "/ledger/vouchers/",
        "/ledger/donate/",
        "/ledger/timebank/",
        "/ledger/timebank/?q=李",
        "/ledger/hall-of-fame/",
        "/volunteers/",
        "/volunteers/me/",
        "/me/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
    body = client.get("/ledger/").content.decode()
    assert "20" in body and "信用等级" in body


def test_staff_pages_render(client: Any, world: Any, rules: Any) -> None:
    client.force_login(world.user("secretary"))
    for url in [
        "/ledger/claims/",
        "/ledger/manage/rules/",
        "/ledger/manage/catalogue/",
        "/ledger/manage/trial-balance/",
        "/ledger/manage/honours/",
        "/volunteers/new/",
        "/volunteers/skills/",
        "/workbench/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
    assert "借贷平衡" in client.get("/ledger/manage/trial-balance/").content.decode()
    client.force_login(world.user("resident"))
    assert client.get("/ledger/manage/rules/").status_code == 404
    assert client.get("/ledger/manage/trial-balance/").status_code == 404


def test_redeem_form_double_submit_posts_once(client: Any, world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 20, "g")
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="粮油",
        kind="goods",
        price_points=5,
        stock=10,
        per_person_limit=5,
    )
    client.force_login(world.user("resident"))
    for _i in range(2):
        resp = client.post(
            f"/ledger/catalogue/{item.pk}/redeem/", {"idempotency_key": "form-1", "confirm": "1"}
        )
        assert resp.status_code == 302
    assert Voucher.objects.count() == 1
    assert services.resident_account(r, Currency.POINTS).balance == 15
    resp = client.post("/ledger/donate/", {"idempotency_key": "d1", "points": "1.5"}, follow=True)
    assert "不能有小数" in resp.content.decode()
    assert services.resident_account(r, Currency.POINTS).balance == 15


def test_statement_and_excel_export(client: Any, world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 20, "g")
    services.donate(actor=world.user("resident"), resident=r, points=5, idempotency_key="d")
    acc = services.resident_account(r, Currency.POINTS)
    client.force_login(world.user("resident"))
    assert client.get(f"/ledger/accounts/{acc.pk}/").status_code == 200
    resp = client.get(f"/ledger/accounts/{acc.pk}/?format=xlsx")
    ws = load_workbook(BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][5] == 15  # newest first; running balance
    client.force_login(world.user("neighbour"))
    assert client.get(f"/ledger/accounts/{acc.pk}/").status_code == 404


def test_api_wallet_redeem_idempotent_and_errors(client: Any, world: Any, rules: Any) -> None:
    r = world.residents["resident"]
    give_points(world, r, 20, "g")
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="理发服务",
        kind="service",
        price_points=8,
        stock=5,
        per_person_limit=3,
    )
    client.force_login(world.user("resident"))
    me = client.get("/api/v1/ledger/me").json()
    assert me["points"] == 20 and me["minutes"] == 0
    a = client.post(
        "/api/v1/ledger/redeem",
        {"item_id": item.pk},
        content_type="application/json",
        headers={"Idempotency-Key": "api-1"},
    )
    b = client.post(
        "/api/v1/ledger/redeem",
        {"item_id": item.pk},
        content_type="application/json",
        headers={"Idempotency-Key": "api-1"},
    )
    assert a.status_code == b.status_code == 201 and a.json()["code"] == b.json()["code"]
    bad = client.post(
        "/api/v1/ledger/donate",
        {"points": -3, "idempotency_key": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    over = client.post(
        "/api/v1/ledger/donate",
        {"points": 999, "idempotency_key": "y"},
        content_type="application/json",
    )
    assert over.status_code == 400 and "余额不足" in over.json()["message"]
    nf = client.post(
        "/api/v1/ledger/hours/transfer",
        {"to_resident_id": world.residents["neighbour"].pk, "minutes": 10, "idempotency_key": "z"},
        content_type="application/json",
    )
    assert nf.status_code == 400 and nf.json()["code"] == "not_family"
    assert LedgerTransaction.objects.filter(kind="redeem").count() == 1
    st = client.get(f"/api/v1/ledger/accounts/{me['points_account']}/statement").json()
    assert st["balance"] == 12 and st["count"] == 2
    assert client.get(f"/api/v1/ledger/trial-balance/{world.community.pk}").status_code == 404
    client.force_login(world.user("supervisor"))
    tb = client.get(f"/api/v1/ledger/trial-balance/{world.community.pk}").json()
    assert tb["totals"] == {"points": 0, "minutes": 0, "fen": 0}


def test_claim_flow_through_pages(client: Any, world: Any, rules: Any) -> None:
    client.force_login(world.user("neighbour"))
    resp = client.post(
        "/ledger/claims/new/",
        {
            "kind": EarnKind.TIMEBANK_SERVICE,
            "recipient": world.residents["resident"].pk,
            "service_date": "2026-01-05",
            "hours": "1.5",
            "description": "买菜",
        },
        follow=True,
    )
    assert "已提交" in resp.content.decode()
    client.force_login(world.user("resident"))
    page = client.get("/ledger/timebank/").content.decode()
    assert "请确认邻居为您提供的服务" in page
    from linli.ledger.models import EarningClaim

    claim = EarningClaim.objects.get()
    client.post(f"/ledger/claims/{claim.pk}/decide/", {"action": "confirm", "back": "timebank"})
    assert services.resident_account(world.residents["neighbour"], Currency.MINUTES).balance == 90


def test_redeem_asks_for_confirmation_first(client: Any, world: Any, rules: Any) -> None:
    """兑换 cannot be undone: the catalogue's button only shows what will happen
    (price, balance after, "不可撤销"); nothing is spent until the confirm button,
    which carries the catalogue form's one-time key."""
    r = world.residents["resident"]
    give_points(world, r, 20, "g")
    item = services.item_save(
        actor=world.user("secretary"),
        community=world.community,
        name="洗衣液",
        kind="goods",
        price_points=12,
        stock=3,
        per_person_limit=2,
    )
    client.force_login(world.user("resident"))
    url = f"/ledger/catalogue/{item.pk}/redeem/"
    catalogue = client.get("/ledger/catalogue/").content.decode()
    assert f'action="{url}"' in catalogue
    for resp in (client.post(url, {"idempotency_key": "cat-key-1"}), client.get(url)):
        assert resp.status_code == 200
        page = resp.content.decode()
        assert "将花费 12 积分兑换“洗衣液”，兑换后不可撤销。" in page
        assert 'name="confirm" value="1"' in page
        assert "<dd>8</dd>" in page  # balance after
    assert (
        'name="idempotency_key" value="cat-key-1"'
        in client.post(url, {"idempotency_key": "cat-key-1"}).content.decode()
    )
    assert Voucher.objects.count() == 0
    assert services.resident_account(r, Currency.POINTS).balance == 20
    for _i in range(2):  # a double tap on the confirm button
        resp = client.post(url, {"idempotency_key": "cat-key-1", "confirm": "1"})
        assert resp.status_code == 302 and resp["Location"].endswith("/ledger/vouchers/")
    assert Voucher.objects.count() == 1
    assert services.resident_account(r, Currency.POINTS).balance == 8
    # Not enough points left for a second one: the confirmation says so, no button.
    page = client.get(url).content.decode()
    assert "积分不足" in page and 'name="confirm"' not in page
