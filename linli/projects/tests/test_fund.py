"""The community fund in money on the ledger: income, points conversion, expenses
against approved budget lines with two-person approval, the quarterly disclosure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import World
from linli.core import ratelimit
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.ledger.models import Account, Currency, Entry
from linli.projects.models import FundMovement, MicroProject
from linli.projects.services import fund
from linli.projects.tests.conftest import propose

pytestmark = pytest.mark.django_db


def filed_project(w: World) -> MicroProject:
    with ratelimit.suspended():  # set-up, called once per hypothesis example
        p = propose(w)
    MicroProject.objects.filter(pk=p.pk).update(
        status="filed", submitted_at=timezone.now(), review_due=timezone.now()
    )
    p.refresh_from_db()
    return p


def balances(w: World) -> tuple[int, int]:
    f, o, e = fund.fund_accounts(w.community.pk)
    f.refresh_from_db()
    total = Account.objects.filter(community=w.community, currency=Currency.FEN).aggregate(
        s=Sum("balance")
    )["s"]
    return f.balance, int(total or 0)


def test_income_and_expense_flow(world: World) -> None:
    sec, worker = world.user("secretary"), world.user("worker")
    fund.fund_income(
        actor=sec,
        community=world.community,
        source="donation",
        amount_yuan="3000.50",
        memo="捐款",
        donor_name="张先生",
        donor_consent=True,
    )
    fund.fund_income(
        actor=sec, community=world.community, source="grant", amount_yuan="20000", memo="街道资助"
    )
    assert balances(world) == (2_300_050, 0)
    p = filed_project(world)
    line = p.lines.get(position=1)  # 6 000 yuan
    mv = fund.fund_expense(actor=worker, line=line, amount_yuan="4000", memo="地砖")
    assert mv.status == "posted"
    with pytest.raises(ValidationFailed) as exc:  # 2 000 left on the line
        fund.fund_expense(actor=worker, line=line, amount_yuan="2000.01", memo="超支")
    assert exc.value.code == "over_line"
    assert balances(world) == (1_900_050, 0)


def test_expense_above_threshold_needs_second_person(world: World) -> None:
    sec, worker = world.user("secretary"), world.user("worker")
    fund.fund_income(
        actor=sec, community=world.community, source="grant", amount_yuan="20000", memo="资助"
    )
    p = filed_project(world)
    line = p.lines.get(position=1)
    mv = fund.fund_expense(actor=worker, line=line, amount_yuan="5500", memo="地砖")
    assert mv.status == "pending" and mv.transaction_id is None
    assert balances(world)[0] == 2_000_000  # nothing paid without approval
    with pytest.raises(PermissionDenied):
        fund.fund_expense_approve(actor=worker, movement=mv)
    with pytest.raises(ValidationFailed):  # pending money counts against the line
        fund.fund_expense(actor=worker, line=line, amount_yuan="600", memo="再买")
    mv = fund.fund_expense_approve(actor=sec, movement=mv)
    assert mv.status == "posted" and mv.approved_by_id == sec.pk
    assert balances(world) == (1_450_000, 0)


def test_expense_needs_approved_project(world: World) -> None:
    p = propose(world)  # still gathering signatures
    with pytest.raises(ValidationFailed) as exc:
        fund.fund_expense(
            actor=world.user("worker"), line=p.lines.get(position=1), amount_yuan="1", memo="x"
        )
    assert exc.value.code == "not_approved"
    assert FundMovement.objects.count() == 0


def test_expense_cannot_overdraw_fund(world: World) -> None:
    p = filed_project(world)
    with pytest.raises(ValidationFailed) as exc:
        fund.fund_expense(
            actor=world.user("worker"), line=p.lines.get(position=1), amount_yuan="10", memo="x"
        )
    assert exc.value.code == "insufficient"
    assert FundMovement.objects.count() == 0


def test_points_conversion(world: World) -> None:
    from django.db import transaction

    from linli.ledger.models import AccountKind
    from linli.ledger.services.posting import Leg, request_hash, system_account, transaction_post

    pf = system_account(world.community.pk, Currency.POINTS, AccountKind.PUBLIC_FUND)
    issuer = system_account(world.community.pk, Currency.POINTS, AccountKind.ISSUER)
    with transaction.atomic():
        transaction_post(
            actor=None,
            community_id=world.community.pk,
            currency=Currency.POINTS,
            kind="donate",
            legs=[Leg(issuer.pk, -500), Leg(pf.pk, 500)],
            idempotency_key="seed-pf",
            rhash=request_hash(x=1),
        )
    with pytest.raises(ValidationFailed):
        fund.fund_convert_points(
            actor=world.user("secretary"),
            community=world.community,
            points=150.5,  # type: ignore[arg-type]
        )
    mv = fund.fund_convert_points(
        actor=world.user("secretary"), community=world.community, points=250
    )
    assert mv.amount_fen == 250  # 100 points = 1 yuan → 2.50 yuan
    pf.refresh_from_db()
    assert pf.balance == 250


def test_disclosure_reconciles_and_refuses_open_quarter(world: World) -> None:
    sec = world.user("secretary")
    fund.fund_income(
        actor=sec, community=world.community, source="donation", amount_yuan="100", memo="a"
    )
    fund.fund_income(
        actor=sec, community=world.community, source="partner", amount_yuan="900", memo="b"
    )
    now = timezone.localtime()
    q = (now.month - 1) // 3 + 1
    with pytest.raises(ValidationFailed) as exc:
        fund.disclosure(community=world.community, year=now.year, quarter=q)
    assert exc.value.code == "quarter_not_ended"
    later = timezone.now() + timedelta(days=200)
    d = fund.disclosure(community=world.community, year=now.year, quarter=q, now=later)
    assert d.opening == 0 and d.income_total == 100_000 and d.closing == 100_000
    assert d.reconciles and d.ledger_closing == 100_000


def test_disclosure_totals_by_source_and_project_equal_the_movements(world: World) -> None:
    """The totals are summed by the database; they must equal the movements one by one
    (income per source, expenses per project), and the detail rows come only on request."""
    sec, worker = world.user("secretary"), world.user("worker")
    for source, amount in [("donation", "10.10"), ("grant", "500"), ("donation", "0.90")]:
        fund.fund_income(
            actor=sec, community=world.community, source=source, amount_yuan=amount, memo="m"
        )
    p = filed_project(world)
    line = p.lines.get(position=1)
    fund.fund_expense(actor=worker, line=line, amount_yuan="12.34", memo="a")
    fund.fund_expense(actor=worker, line=line, amount_yuan="0.66", memo="b")
    now = timezone.localtime()
    q = (now.month - 1) // 3 + 1
    later = timezone.now() + timedelta(days=200)
    d = fund.disclosure(community=world.community, year=now.year, quarter=q, now=later)
    assert dict(d.income) == {"居民/单位捐款": 1_100, "政府/基金会资助": 50_000}
    assert d.expenses == [(p.title, 1_300)]
    assert d.movement_count == 5 and d.movements == []
    assert d.closing == 51_100 - 1_300 and d.reconciles
    full = fund.disclosure(
        community=world.community, year=now.year, quarter=q, now=later, with_movements=True
    )
    assert len(full.movements) == 5
    assert sum(m.amount_fen for m in full.movements if m.kind == "income") == d.income_total
    assert sum(m.amount_fen for m in full.movements if m.kind == "expense") == d.expense_total


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["in", "out"]), st.integers(min_value=1, max_value=900_000)),
        min_size=1,
        max_size=8,
    )
)
def test_fund_invariants_under_sequences(world: World, ops: list[tuple[str, int]]) -> None:
    """Whatever sequence of income and expenses is attempted: the fund never goes
    negative, every money transaction balances, and the fund's balance equals posted
    income minus posted expenses."""
    p = filed_project(world)
    line = p.lines.get(position=1)
    # Hypothesis reuses the function-scoped database: compare against the state at the
    # start of this example.
    before = list(FundMovement.objects.values_list("pk", flat=True))
    f0, _t = balances(world)
    with ratelimit.suspended():  # many examples share one minute's rate-limit window
        _apply(world, line, ops)
    f_balance, total = balances(world)
    assert f_balance >= 0 and total == 0
    posted = FundMovement.objects.filter(community=world.community, status="posted").exclude(
        pk__in=before
    )
    inc = sum(posted.filter(kind="income").values_list("amount_fen", flat=True))
    out = sum(posted.filter(kind="expense").values_list("amount_fen", flat=True))
    assert f_balance - f0 == inc - out
    assert fund.line_left(line) >= 0
    for tx_id in posted.values_list("transaction_id", flat=True):
        legs = Entry.objects.filter(transaction_id=tx_id)
        assert sum(e.signed for e in legs) == 0


def test_disclosure_pages_pdf_xlsx(world: World, client: object) -> None:
    from django.test import Client
    from django.urls import reverse

    assert isinstance(client, Client)
    sec = world.user("secretary")
    fund.fund_income(
        actor=sec,
        community=world.community,
        source="donation",
        amount_yuan="88.80",
        memo="捐款",
        donor_name="王阿姨",
        donor_consent=True,
    )
    fund.fund_income(
        actor=sec,
        community=world.community,
        source="donation",
        amount_yuan="50",
        memo="捐款",
        donor_name="李先生",
        donor_consent=False,
    )
    body = client.get(reverse("projects:fund_public", args=[world.community.pk])).content.decode()
    assert "王阿姨" in body and "李先生" not in body and "138.80" in body
    now = timezone.localtime()
    q = (now.month - 1) // 3 + 1
    r = client.get(reverse("projects:disclosure", args=[world.community.pk, now.year, q]))
    assert r.status_code == 400 and "尚未结束" in r.content.decode()
    # Last quarter (ended): nothing moved then, but the page, PDF and workbook exist.
    y, pq = (now.year, q - 1) if q > 1 else (now.year - 1, 4)
    r = client.get(reverse("projects:disclosure", args=[world.community.pk, y, pq]))
    assert r.status_code == 200 and "核对一致" in r.content.decode()
    r = client.get(reverse("projects:disclosure_pdf", args=[world.community.pk, y, pq]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = client.get(reverse("projects:disclosure_xlsx", args=[world.community.pk, y, pq]))
    assert r.status_code == 200 and r.content[:2] == b"PK"


def _apply(world: World, line: Any, ops: list[tuple[str, int]]) -> None:
    for op, fen in ops:
        amount = f"{fen // 100}.{fen % 100:02d}"
        try:
            if op == "in":
                fund.fund_income(
                    actor=world.user("secretary"),
                    community=world.community,
                    source="grant",
                    amount_yuan=amount,
                    memo="x",
                )
            else:
                fund.fund_expense(
                    actor=world.user("worker"), line=line, amount_yuan=amount, memo="y"
                )
        except ValidationFailed:
            pass
