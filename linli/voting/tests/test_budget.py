"""Statement budget of the hot write: a vote is at most 6 statements, SAVEPOINT and
RELEASE included (tests run inside a transaction, so the service's own transaction is
a savepoint here), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.scope import scope_of
from linli.core.errors import Conflict
from linli.voting.models import Vote
from linli.voting.services import vote_cast
from linli.voting.tests.conftest import make_ballot

VOTE_BUDGET = 6


def _cast(user, ballot, choices, key=None):
    # The request has already loaded the viewer's scope (ballot_get_for does), and it
    # is cached on the user: the service does not read it again.
    scope_of(user)
    with CaptureQueriesContext(connection) as ctx:
        result = vote_cast(actor=user, ballot=ballot, choices=choices, idempotency_key=key)
    return result, [q["sql"] for q in ctx.captured_queries]


def _show(sqls):
    return "\n".join(sqls)


@pytest.mark.parametrize("secret", [False, True])
def test_first_vote_within_budget(world, secret):
    ballot = make_ballot(world, secret=secret)
    user = world.users["resident"]
    result, sqls = _cast(user, ballot, [0], key="k-first")
    assert len(sqls) <= VOTE_BUDGET, _show(sqls)
    # No savepoint round trip around the INSERT: only the transaction's own.
    assert sum(s.startswith("SAVEPOINT") for s in sqls) <= 1, _show(sqls)
    # The ballot recheck (FOR KEY SHARE on PostgreSQL) is the last statement.
    work = [s for s in sqls if "SAVEPOINT" not in s]
    assert work[-1].startswith("SELECT") and "voting_ballot" in work[-1], _show(sqls)
    if connection.vendor == "postgresql":
        assert work[-1].endswith("FOR KEY SHARE"), _show(sqls)
    vote = Vote.objects.get(ballot=ballot)
    assert (vote.pk, vote.choices, vote.community_id) == (
        result.vote.pk,
        [0],
        ballot.community_id,
    )


def test_changed_vote_within_budget(world):
    ballot = make_ballot(world, allow_change=True)
    user = world.users["resident"]
    first, _ = _cast(user, ballot, [0])
    second, sqls = _cast(user, ballot, [1], key="k-change")
    assert second.changed and second.receipt != first.receipt
    assert len(sqls) <= VOTE_BUDGET, _show(sqls)
    assert Vote.objects.get(ballot=ballot).choices == [1]


def test_replay_and_refusal_within_budget(world):
    ballot = make_ballot(world)
    user = world.users["resident"]
    first, _ = _cast(user, ballot, [0], key="k1")
    again, sqls = _cast(user, ballot, [0], key="k1")
    assert again.replayed and again.vote.pk == first.vote.pk and again.receipt == first.receipt
    assert len(sqls) <= 1, _show(sqls)  # one read, nothing written
    with CaptureQueriesContext(connection) as ctx, pytest.raises(Conflict):
        vote_cast(actor=user, ballot=ballot, choices=[1])
    assert len(ctx.captured_queries) <= 1, _show([q["sql"] for q in ctx.captured_queries])


def test_unchanged_vote_keeps_receipt_and_writes_nothing(world):
    """修改投票 pressed without changing anything: the saved receipt stays valid."""
    from linli.core.models import AuditEvent
    from linli.voting.selectors import receipt_check

    ballot = make_ballot(world, allow_change=True)
    user = world.users["resident"]
    first, _ = _cast(user, ballot, [1], key="k-a")
    events = AuditEvent.objects.count()
    again, sqls = _cast(user, ballot, ["1"], key="k-b")
    assert again.unchanged and not again.changed
    assert again.receipt == first.receipt and again.vote.pk == first.vote.pk
    assert len(sqls) <= 1, _show(sqls)  # the eligibility read; nothing written
    assert AuditEvent.objects.count() == events
    assert receipt_check(viewer=user, ballot=ballot, code=first.receipt).counted
    # A real change still issues a new receipt and retires the old one.
    changed, _ = _cast(user, ballot, [2], key="k-c")
    assert changed.changed and changed.receipt != first.receipt
    assert not receipt_check(viewer=user, ballot=ballot, code=first.receipt).counted


def test_owners_ballot_vote_within_budget(world):
    """An owner of several units votes once for all of them (area summed) within the
    same budget: the casters frozen at opening are one more JOIN of the same read."""
    from datetime import date

    from conftest import make_household
    from linli.communities.ownership import OwnerSpec, ownership_set_unit

    me = world.residents["resident"]
    for unit in (me.household, make_household(world.building, "188", area="50.00")):
        ownership_set_unit(
            actor=world.users["secretary"],
            household=unit,
            owners=[OwnerSpec(me)],
            since=date(2020, 1, 1),
        )
    ballot = make_ballot(
        world, eligibility="owners", validity_rule="art278", matter_class="ordinary"
    )
    user = world.users["resident"]
    result, sqls = _cast(user, ballot, [0], key="k-owner")
    assert len(sqls) <= VOTE_BUDGET, _show(sqls)
    assert str(result.vote.area_m2) == "130.00"
    again, sqls = _cast(user, ballot, [0], key="k-owner")
    assert again.replayed and len(sqls) <= 1, _show(sqls)
