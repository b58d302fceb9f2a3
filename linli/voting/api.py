"""/api/v1/voting/: ballots, casting a vote, results and receipt checks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from linli.communities.models import Resident
from linli.core.errors import NotFound
from linli.voting import services
from linli.voting.models import Ballot
from linli.voting.selectors import (
    ballot_get_for,
    ballot_list_for,
    ballot_result,
    receipt_check,
    voter_status,
)
from linli.voting.states import ballot_machine

router = Router(tags=["voting"])


class BallotOut(Schema):
    id: int
    community_id: int
    title: str
    description: str
    kind: str
    options: list[str]
    max_choices: int
    secret: bool
    allow_change: bool
    opens_at: datetime
    closes_at: datetime
    status: str
    eligibility: str
    weighting: str
    validity_rule: str
    matter_class: str
    co_owner_rule: str
    eligible_count: int
    eligible_units: int
    source_type: str
    source_id: str


class BallotDetailOut(BallotOut):
    # The status changes the caller may make now (from linli/voting/states.py).
    actions: list[str]


class MyVoteOut(Schema):
    eligible: bool
    reason: str
    voted: bool
    channel: str
    receipt: str
    delegated: bool
    # Owners' ballots: the units this vote is for, their area, and — when the caller
    # may cast several entries — (entry id, units) to choose from.
    units: list[str] = []
    area: Decimal | None = None
    entries: list[tuple[int, str]] = []


class VoteIn(Schema):
    choices: list[int]
    idempotency_key: str | None = None
    on_behalf_of: int | None = None  # resident id of the principal (written proxy)
    # Owners' ballots: which roll entry, when the caller may cast several (see
    # MyVoteOut.entries).
    voter: int | None = None


class VoteOut(Schema):
    receipt: str
    changed: bool
    replayed: bool
    unchanged: bool = False  # a change to the same choices: the receipt stays valid


class OptionOut(Schema):
    index: int
    label: str
    count: int
    area: Decimal
    meets: bool


class ResultOut(Schema):
    ballot_id: int
    rule: str
    rule_label: str
    matter_class: str
    final: bool
    valid: bool
    passed: bool | None
    eligible_count: int
    eligible_area: Decimal
    # Owners' ballots: the exclusive units behind eligible_count (0 otherwise).
    eligible_units: int = 0
    participants: int
    participating_area: Decimal
    options: list[OptionOut]
    by_channel: dict[str, int]
    explanation: str


class ReceiptOut(Schema):
    counted: bool
    choices: list[str] | None


@router.get("/ballots", response=list[BallotOut])
def list_ballots(request: HttpRequest, community: int | None = None) -> list[Ballot]:
    return list(ballot_list_for(viewer=request.user, community_id=community)[:200])


@router.get("/ballots/{pk}", response=BallotDetailOut)
def get_ballot(request: HttpRequest, pk: int) -> Ballot:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    ballot.actions = ballot_machine.available(request.user, ballot)  # type: ignore[attr-defined]
    return ballot


@router.get("/ballots/{pk}/me", response=MyVoteOut)
def my_vote(request: HttpRequest, pk: int) -> dict[str, object]:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    s = voter_status(viewer=request.user, ballot=ballot)
    return {
        "eligible": s.eligible,
        "reason": s.reason,
        "voted": s.vote is not None,
        "channel": s.vote.channel if s.vote else "",
        "receipt": s.receipt,
        "delegated": s.delegated_to is not None,
        "units": s.units,
        "area": s.area,
        "entries": s.entries,
    }


@router.post("/ballots/{pk}/votes", response={201: VoteOut})
def cast(request: HttpRequest, pk: int, data: VoteIn) -> Status:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    principal = None
    if data.on_behalf_of is not None:
        principal = Resident.objects.filter(
            pk=data.on_behalf_of, community_id=ballot.community_id
        ).first()
        if principal is None:
            raise NotFound()
    r = services.vote_cast(
        actor=request.user,
        ballot=ballot,
        choices=data.choices,
        idempotency_key=data.idempotency_key,
        on_behalf_of=principal,
        voter_id=data.voter,
    )
    return Status(
        201,
        {
            "receipt": r.receipt,
            "changed": r.changed,
            "replayed": r.replayed,
            "unchanged": r.unchanged,
        },
    )


@router.get("/ballots/{pk}/result", response=ResultOut)
def result(request: HttpRequest, pk: int) -> object:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    return ballot_result(viewer=request.user, ballot=ballot)


@router.get("/ballots/{pk}/receipts/{code}", response=ReceiptOut)
def check_receipt(request: HttpRequest, pk: int, code: str) -> object:
    ballot = ballot_get_for(viewer=request.user, pk=pk)
    return receipt_check(viewer=request.user, ballot=ballot, code=code)
