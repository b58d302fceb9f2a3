"""The recount catches tampering by someone with database rights: a vote's audit event
rewritten and re-hashed after it was sealed, and a vote row changed on its own."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from linli.core import audit
from linli.core.models import AuditEvent
from linli.voting.models import Ballot, Vote
from linli.voting.selectors import tally_verify
from linli.voting.services import ballot_close, vote_cast
from linli.voting.tests.conftest import expire, make_ballot


def _drop_guards() -> None:
    """An attacker with DDL rights removes the append-only triggers (as
    linli/core/tests/test_audit.py does)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for t in ("core_auditevent", "core_auditcheckpoint"):
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER IF EXISTS {t}_no_update")
                cur.execute(f"DROP TRIGGER IF EXISTS {t}_no_delete")
            else:
                cur.execute(f"ALTER TABLE {t} DISABLE TRIGGER {t}_no_change")


def _closed_ballot(world) -> Ballot:
    ballot = make_ballot(world)
    vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    vote_cast(actor=world.users["neighbour"], ballot=ballot, choices=[0])
    expire(ballot)
    return ballot_close(actor=world.users["secretary"], ballot=ballot)


def _recount_cli(ballot: Ballot) -> str:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("voting_recount", str(ballot.pk), stdout=out)
    return out.getvalue()


def test_untouched_ballot_recounts_ok(world):
    ballot = _closed_ballot(world)
    audit.seal()
    v = tally_verify(viewer=world.users["secretary"], ballot=ballot)
    assert v.ok, v.differences
    call_command("voting_recount", str(ballot.pk))  # no CommandError


def test_rehashed_vote_event_after_seal_is_reported(world):
    ballot = _closed_ballot(world)
    assert audit.seal() is not None
    ev = AuditEvent.objects.filter(
        target_type="voting.ballot", target_id=str(ballot.pk), action="voting.vote_cast"
    ).first()
    assert ev is not None
    _drop_guards()
    # Change the choice in the payload and make the event consistent with itself.
    ev.payload = {**ev.payload, "choices": [1]}
    ev.hash = audit.event_hash(ev)
    AuditEvent.objects.filter(pk=ev.pk).update(payload=ev.payload, hash=ev.hash)
    v = tally_verify(viewer=world.users["secretary"], ballot=ballot)
    assert not v.ok
    # The log names the rewritten event, and the replayed tally no longer matches.
    assert any(d.startswith("audit log:") and str(ev.pk) in d for d in v.differences), v.differences
    assert "options differ" in v.differences, v.differences
    out = _recount_cli(ballot)
    assert f"DIFF #{ballot.pk}" in out and "audit log" in out


def test_changed_vote_row_alone_is_reported(world):
    ballot = _closed_ballot(world)
    audit.seal()
    vote = Vote.objects.filter(ballot=ballot).first()
    assert vote is not None
    Vote.objects.filter(pk=vote.pk).update(choices=[1])
    v = tally_verify(viewer=world.users["secretary"], ballot=ballot)
    assert not v.ok
    assert "options differ" in v.differences, v.differences
    # The log itself is intact: only the table was changed.
    assert not any(d.startswith("audit log:") for d in v.differences), v.differences
    out = _recount_cli(ballot)
    assert f"DIFF #{ballot.pk}" in out and "options differ" in out
