"""Security findings of issue 9 in the ledger: formula injection in the statement
export, claim ids of another tenant, and who may read a resident's statement."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from django.db import transaction
from openpyxl import load_workbook

from linli.ledger import services
from linli.ledger.models import AccountKind, Currency, EarnKind, TxKind
from linli.ledger.services import Leg

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/x","点我领积分")'


def test_statement_xlsx_memo_formula_arrives_as_text(client: Any, world: Any) -> None:
    """A memo the resident wrote (``=HYPERLINK(…)``) must not become a live formula in
    the staff's Excel statement: the cell is text, shown with a leading quote."""
    r = world.residents["resident"]
    acc = services.resident_account(r, Currency.POINTS)
    issuer = services.system_account(world.community.pk, Currency.POINTS, AccountKind.ISSUER)
    with transaction.atomic():
        services.transaction_post(
            actor=world.user("secretary"),
            community_id=world.community.pk,
            currency=Currency.POINTS,
            kind=TxKind.ADJUST,
            legs=[Leg(acc.pk, 7), Leg(issuer.pk, -7)],
            idempotency_key="memo-formula",
            rhash="memo-formula",
            memo=EVIL,
        )
    client.force_login(world.user("secretary"))
    resp = client.get(f"/ledger/accounts/{acc.pk}/?format=xlsx")
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.content)).active
    memo = ws.cell(row=2, column=3)
    assert memo.data_type == "s"  # a string cell, not a formula ("f")
    assert memo.value == "'" + EVIL
    assert ws.cell(row=2, column=4).value == 7  # numbers stay numbers
    assert resp["Cache-Control"] == "no-store"


@pytest.fixture
def far_claim(world: Any) -> Any:
    """A claim awaiting approval in the *other* community."""
    services.rule_save(
        actor=world.user("other_secretary"),
        community=world.other_community,
        kind=EarnKind.MUTUAL_AID,
        amount=5,
        approver_roles=["staff"],
    )
    from django.utils import timezone

    return services.claim_submit(
        actor=world.user("stranger"),
        resident=world.residents["stranger"],
        kind=EarnKind.MUTUAL_AID,
        service_date=timezone.localdate(),
    )


def test_claim_of_another_tenant_is_not_found_like_a_missing_one(
    client: Any, world: Any, far_claim: Any
) -> None:
    """Another community's claim id and an id that does not exist get the same 404 on
    the page and in the API (no 403 telling that the id exists), and nothing changes."""
    client.force_login(world.user("secretary"))
    missing = far_claim.pk + 1000
    for pk in (far_claim.pk, missing):
        page = client.post(f"/ledger/claims/{pk}/decide/", {"action": "approve"})
        assert page.status_code == 404, pk
        for action in ("approve", "confirm"):
            api = client.post(f"/api/v1/ledger/claims/{pk}/{action}")
            assert api.status_code == 404, (pk, action)
            assert api.json()["code"] == "not_found"
    far_claim.refresh_from_db()
    assert far_claim.status == "awaiting_approval"
    # The claim's own community still decides it.
    client.force_login(world.user("other_secretary"))
    ok = client.post(f"/api/v1/ledger/claims/{far_claim.pk}/approve")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


def test_grid_worker_reads_statements_of_their_own_grid_only(client: Any, world: Any) -> None:
    """张三 lives in grid 1, 李四 in grid 2: each grid worker sees only their own grid's
    resident's statement (page and API); community staff see both."""
    mine = services.resident_account(world.residents["resident"], Currency.POINTS)
    theirs = services.resident_account(world.residents["neighbour"], Currency.POINTS)
    client.force_login(world.user("grid_worker"))
    assert client.get(f"/ledger/accounts/{mine.pk}/").status_code == 200
    assert client.get(f"/ledger/accounts/{theirs.pk}/").status_code == 404
    assert client.get(f"/ledger/accounts/{theirs.pk}/?format=xlsx").status_code == 404
    assert client.get(f"/api/v1/ledger/accounts/{theirs.pk}/statement").status_code == 404
    client.force_login(world.user("grid2_worker"))
    assert client.get(f"/ledger/accounts/{theirs.pk}/").status_code == 200
    assert client.get(f"/ledger/accounts/{mine.pk}/").status_code == 404
    client.force_login(world.user("worker"))
    assert client.get(f"/ledger/accounts/{mine.pk}/").status_code == 200
    assert client.get(f"/ledger/accounts/{theirs.pk}/").status_code == 200
