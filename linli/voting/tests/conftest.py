"""Ballot helpers on top of the shared ``world`` fixture."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.voting.models import Ballot
from linli.voting.services import ballot_create, ballot_open


def make_ballot(world: Any, *, open_now: bool = True, **kw: Any) -> Ballot:
    now = timezone.now()
    args: dict[str, Any] = {
        "actor": world.users["secretary"],
        "community": world.community,
        "title": "是否同意加装电梯",
        "kind": "yes_no_abstain",
        "options": [],
        "eligibility": "all_residents",
        "validity_rule": "participation_20",
        "opens_at": now - timedelta(minutes=5),
        "closes_at": now + timedelta(days=3),
    }
    args.update(kw)
    ballot = ballot_create(**args)
    if open_now:
        ballot = ballot_open(actor=world.users["secretary"], ballot=ballot)
    return ballot


def expire(ballot: Ballot) -> Ballot:
    """Move the closing time into the past (the clock is outside the process)."""
    past = timezone.now() - timedelta(seconds=1)
    Ballot.objects.filter(pk=ballot.pk).update(opens_at=past - timedelta(days=1), closes_at=past)
    ballot.refresh_from_db()
    return ballot


@pytest.fixture
def ballot(world: Any) -> Ballot:
    return make_ballot(world)
