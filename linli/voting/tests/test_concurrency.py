"""Concurrent submissions on PostgreSQL: one vote per voter holds under real threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.core.errors import Conflict
from linli.voting.models import Vote
from linli.voting.selectors import tally_verify
from linli.voting.services import ballot_close, vote_cast
from linli.voting.tests.conftest import expire, make_ballot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _skip_unless_pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set DATABASE_URL)")


def _run(n: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_voter_twelve_times_at_once_gives_one_vote(world):
    _skip_unless_pg()
    ballot = make_ballot(world)
    user = world.users["resident"]
    results = _run(12, lambda i: vote_cast(actor=user, ballot=ballot, choices=[i % 2]))
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 1, results
    assert all(isinstance(e, Conflict) for e in errors), errors
    assert Vote.objects.filter(ballot=ballot).count() == 1


def test_many_voters_at_once_none_lost(world):
    _skip_unless_pg()
    users = []
    for i in range(16):
        h = make_household(world.building2, f"5{i:02d}", area="70.00")
        u = make_user(f"cv{i}")
        make_resident(h, f"居民{i}", user=u)
        Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
        users.append(u)
    ballot = make_ballot(world, eligibility="households", validity_rule="households_75")
    # Each voter submits twice at the same moment.
    results = _run(32, lambda i: vote_cast(actor=users[i % 16], ballot=ballot, choices=[0]))
    assert sum(1 for r in results if not isinstance(r, Exception)) == 16
    assert Vote.objects.filter(ballot=ballot).count() == 16
    expire(ballot)
    closed = ballot_close(actor=world.users["secretary"], ballot=ballot)
    v = tally_verify(viewer=world.users["secretary"], ballot=closed)
    assert v.ok, v.differences
    assert v.live.participants == 16


def test_co_owners_voting_at_once_first_vote_stands(world):
    """Two co-owners of one unit submit at the same moment on a changeable ballot
    under "first vote stands": exactly one vote, and the other is told a co-owner
    voted — never a silent overwrite (the change path only updates a vote its own
    caster cast)."""
    _skip_unless_pg()
    from decimal import Decimal

    from linli.communities.ownership import OwnerSpec, ownership_set_unit

    h = make_household(world.building2, "777", area="88.00")
    users, owners = [], []
    for name in ("甲", "乙"):
        u = make_user(f"co{name}")
        owners.append(make_resident(h, name, user=u))
        Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
        users.append(u)
    ownership_set_unit(
        actor=world.users["secretary"],
        household=h,
        owners=[OwnerSpec(o, Decimal("0.5")) for o in owners],
    )
    ballot = make_ballot(
        world,
        eligibility="owners",
        validity_rule="art278",
        matter_class="ordinary",
        co_owner_rule="first",
        allow_change=True,
    )
    for _round in range(3):
        results = _run(2, lambda i: vote_cast(actor=users[i], ballot=ballot, choices=[i]))
        votes = list(Vote.objects.filter(ballot=ballot, voter__owner_count=2))
        assert len(votes) == 1, results
        first = votes[0].cast_by_id
        assert first is not None
        refused = [r for r in results if isinstance(r, Exception)]
        assert all(isinstance(e, Conflict) for e in refused), refused
        # Whoever came first still holds the vote after the race.
        assert votes[0].choices == [[o.pk for o in owners].index(first)]
