"""/api/v1/ledger/: wallet, statements, catalogue, redemption, donation, time bank,
claims and the trial balance. Every write takes an ``idempotency_key`` (or the
``Idempotency-Key`` header) so a client may retry safely."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from linli.communities.display import display_name
from linli.communities.models import OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import NotFound, ValidationFailed
from linli.ledger import selectors, services
from linli.ledger.models import EarningClaim
from linli.ledger.states import CLAIMS

router = Router(tags=["ledger"])


class WalletOut(Schema):
    resident_id: int
    points_account: int
    points: int
    hours_account: int
    minutes: int
    lifetime_points: int
    level: str
    donated: int


class EntryOut(Schema):
    id: int
    transaction_id: int
    kind: str
    memo: str
    side: str
    amount: int
    balance_after: int
    created_at: str


class StatementOut(Schema):
    account_id: int
    currency: str
    balance: int
    count: int
    items: list[EntryOut]


class ItemOut(Schema):
    id: int
    name: str
    kind: str
    price_points: int
    stock: int
    per_person_limit: int
    min_level: str


class RedeemIn(Schema):
    item_id: int
    idempotency_key: str = ""


class VoucherOut(Schema):
    id: int
    code: str
    item_id: int
    status: str
    transaction_id: int


class DonateIn(Schema):
    points: Any
    idempotency_key: str = ""


class TxOut(Schema):
    id: int
    kind: str
    currency: str
    idempotency_key: str


class TransferIn(Schema):
    to_resident_id: int
    minutes: Any
    idempotency_key: str = ""


class SpendIn(Schema):
    minutes: Any
    description: str = ""
    idempotency_key: str = ""


class ClaimIn(Schema):
    kind: str
    service_date: date
    minutes: Any = None
    recipient_id: int | None = None
    description: str = ""


class ClaimOut(Schema):
    id: int
    kind: str
    amount: int
    status: str
    transaction_id: int | None
    # What the caller may do with the claim now (from the claim state machine).
    actions: list[str] = []


class TrialOut(Schema):
    community_id: int
    totals: dict[str, int]
    rows: list[dict[str, Any]]


def _key(request: HttpRequest, body_key: str) -> str:
    return body_key or request.headers.get("Idempotency-Key", "")


def _tx(tx: Any) -> TxOut:
    return TxOut(id=tx.pk, kind=tx.kind, currency=tx.currency, idempotency_key=tx.idempotency_key)


def _claim(c: EarningClaim, viewer: Any = None) -> ClaimOut:
    return ClaimOut(
        id=c.pk,
        kind=c.rule.kind,
        amount=c.amount,
        status=c.status,
        transaction_id=c.transaction_id,
        actions=CLAIMS.available(viewer, c) if viewer is not None else [],
    )


@router.get("/me", response=WalletOut)
def me(request: HttpRequest) -> WalletOut:
    w = selectors.wallet_for(viewer=request.user)
    return WalletOut(
        resident_id=w.resident.pk,
        points_account=w.points.pk,
        points=w.points.balance,
        hours_account=w.hours.pk,
        minutes=w.hours.balance,
        lifetime_points=w.points.lifetime_earned,
        level=w.level,
        donated=w.donated,
    )


@router.get("/accounts/{account_id}/statement", response=StatementOut)
def statement(
    request: HttpRequest, account_id: int, limit: int = 50, offset: int = 0
) -> StatementOut:
    acc = selectors.account_get_for(viewer=request.user, pk=account_id)
    qs = selectors.statement_for(viewer=request.user, account=acc)
    limit = max(1, min(limit, 500))
    offset = max(0, offset)  # a negative offset is not a page; treat it as the first
    items = [
        EntryOut(
            id=e.pk,
            transaction_id=e.transaction_id,
            kind=e.transaction.kind,
            memo=e.transaction.memo,
            side=e.side,
            amount=e.amount,
            balance_after=e.balance_after,
            created_at=e.created_at.isoformat(),
        )
        for e in qs[offset : offset + limit]
    ]
    return StatementOut(
        account_id=acc.pk, currency=acc.currency, balance=acc.balance, count=qs.count(), items=items
    )


@router.get("/catalogue", response=list[ItemOut])
def catalogue(request: HttpRequest) -> list[ItemOut]:
    r = selectors.my_resident(request.user)
    return [
        ItemOut(
            id=i.pk,
            name=i.name,
            kind=i.kind,
            price_points=i.price_points,
            stock=i.stock,
            per_person_limit=i.per_person_limit,
            min_level=i.min_level,
        )
        for i in selectors.catalogue_for(viewer=request.user, community_id=r.community_id)
    ]


@router.post("/redeem", response={201: VoucherOut})
def redeem(request: HttpRequest, body: RedeemIn) -> Status[VoucherOut]:
    item = selectors.item_get_for(viewer=request.user, pk=body.item_id)
    r = selectors.my_resident(request.user)
    v = services.item_redeem(
        actor=request.user,
        item=item,
        resident=r,
        idempotency_key=_key(request, body.idempotency_key),
    )
    out = VoucherOut(
        id=v.pk, code=v.code, item_id=v.item_id, status=v.status, transaction_id=v.transaction_id
    )
    return Status(201, out)


@router.post("/donate", response={201: TxOut})
def donate(request: HttpRequest, body: DonateIn) -> Status[TxOut]:
    r = selectors.my_resident(request.user)
    tx = services.points_donate(
        actor=request.user,
        resident=r,
        points=body.points,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _tx(tx))


@router.post("/hours/transfer", response={201: TxOut})
def hours_transfer(request: HttpRequest, body: TransferIn) -> Status[TxOut]:
    r = selectors.my_resident(request.user)
    to = Resident.objects.filter(pk=body.to_resident_id, community_id=r.community_id).first()
    if to is None:
        raise ValidationFailed(
            "时间银行小时只能转给同户家庭成员。", field="to_resident_id", code="not_family"
        )
    tx = services.hours_transfer(
        actor=request.user,
        sender=r,
        receiver=to,
        minutes=body.minutes,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _tx(tx))


@router.post("/hours/spend", response={201: TxOut})
def hours_spend(request: HttpRequest, body: SpendIn) -> Status[TxOut]:
    r = selectors.my_resident(request.user)
    tx = services.hours_spend(
        actor=request.user,
        resident=r,
        minutes=body.minutes,
        description=body.description,
        idempotency_key=_key(request, body.idempotency_key),
    )
    return Status(201, _tx(tx))


@router.post("/claims", response={201: ClaimOut})
def claim_submit(request: HttpRequest, body: ClaimIn) -> Status[ClaimOut]:
    r = selectors.my_resident(request.user)
    recipient = None
    if body.recipient_id:
        recipient = Resident.objects.filter(
            pk=body.recipient_id, community_id=r.community_id
        ).first()
        if recipient is None:
            raise ValidationFailed("服务对象必须是本社区居民。", field="recipient_id")
    c = services.claim_submit(
        actor=request.user,
        resident=r,
        kind=body.kind,
        service_date=body.service_date,
        amount=body.minutes,
        recipient=recipient,
        description=body.description,
        idempotency_key=idempotency.from_request(request),
    )
    return Status(201, _claim(c))


@router.get("/claims/pending", response=list[ClaimOut])
def claims_pending(request: HttpRequest) -> list[ClaimOut]:
    return [_claim(c, request.user) for c in selectors.claims_to_decide(viewer=request.user)]


@router.post("/claims/{claim_id}/confirm", response=ClaimOut)
def claim_confirm(request: HttpRequest, claim_id: int) -> ClaimOut:
    return _claim(
        services.claim_confirm(
            actor=request.user, claim=selectors.claim_get_for(viewer=request.user, pk=claim_id)
        ),
        request.user,
    )


@router.post("/claims/{claim_id}/approve", response=ClaimOut)
def claim_approve(request: HttpRequest, claim_id: int) -> ClaimOut:
    return _claim(
        services.claim_approve(
            actor=request.user, claim=selectors.claim_get_for(viewer=request.user, pk=claim_id)
        ),
        request.user,
    )


@router.get("/trial-balance/{community_id}", response=TrialOut)
def trial_balance(request: HttpRequest, community_id: int) -> TrialOut:
    community = OrgUnit.objects.filter(pk=community_id, kind="community").first()
    if community is None:
        raise NotFound()
    rows, totals = selectors.trial_balance(viewer=request.user, community=community)
    return TrialOut(
        community_id=community.pk,
        totals=totals,
        rows=[
            {"currency": r.currency, "kind": r.kind, "accounts": r.accounts, "balance": r.balance}
            for r in rows
        ],
    )


@router.get("/hall-of-fame/{community_id}", response=list[dict[str, Any]], auth=None)
def hall_of_fame(request: HttpRequest, community_id: int) -> list[dict[str, Any]]:
    return [
        {
            "year": h.year,
            "kind": h.kind,
            "label": h.get_kind_display(),
            "name": display_name(h.resident, viewer=request.user),
            "citation": h.citation,
        }
        for h in selectors.hall_of_fame(community_id)
    ]
