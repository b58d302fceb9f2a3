from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from linli.core import audit
from linli.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def _write(n: int, community_id: int | None = 1) -> list[AuditEvent]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(
                audit.record(
                    actor=None,
                    action="test.write",
                    target_type="x",
                    target_id=i,
                    community_id=community_id,
                    payload={"i": i, "名": "张三"},
                )
            )
    return out


def _drop_guards() -> None:
    """Simulate an attacker with DDL rights: remove the append-only triggers."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
            cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")
        else:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")


def test_chain_links_and_verifies() -> None:
    events = _write(5)
    _write(3, community_id=2)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    result = audit.verify_all()
    assert result.ok and result.events == 8 and result.chains == 2


@pytest.mark.django_db(transaction=True)
def test_record_outside_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x")


def test_database_refuses_update_and_delete() -> None:
    _write(2)
    from django.db.utils import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=2).delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.get(seq=1).save()
    assert audit.verify_all().ok


@pytest.mark.parametrize("field", ["action", "payload", "actor", "occurred_at"])
def test_editing_any_past_row_is_detected(field: str) -> None:
    _write(6)
    _drop_guards()
    target = AuditEvent.objects.get(seq=3)
    if field == "action":
        AuditEvent.objects.filter(pk=target.pk).update(action="test.forged")
    elif field == "payload":
        AuditEvent.objects.filter(pk=target.pk).update(payload={"i": 999, "名": "张三"})
    elif field == "actor":
        from linli.accounts.models import User

        u = User.objects.create(username="mallory")
        AuditEvent.objects.filter(pk=target.pk).update(actor=u)
    else:
        from datetime import timedelta

        AuditEvent.objects.filter(pk=target.pk).update(
            occurred_at=target.occurred_at - timedelta(days=1)
        )
    result = audit.verify_all()
    assert not result.ok
    assert result.first_break is not None and result.first_break.seq == 3
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit")


def test_deleting_a_middle_row_is_detected() -> None:
    _write(5)
    _drop_guards()
    AuditEvent.objects.filter(seq=2).delete()
    result = audit.verify_all()
    assert result.first_break is not None and result.first_break.seq == 2
    assert "missing" in result.first_break.reason


def test_deleting_the_last_row_is_detected() -> None:
    _write(4)
    _drop_guards()
    AuditEvent.objects.filter(seq=4).delete()
    result = audit.verify_all()
    assert result.first_break is not None
    assert "head" in result.first_break.reason


def test_rewriting_a_row_with_a_fresh_hash_breaks_the_next_link() -> None:
    events = _write(4)
    _drop_guards()
    ev = events[1]
    forged = audit.compute_hash(
        chain=ev.chain,
        seq=ev.seq,
        prev_hash=ev.prev_hash,
        occurred_at=ev.occurred_at,
        actor_id=None,
        action="test.forged",
        target_type=ev.target_type,
        target_id=ev.target_id,
        community_id=ev.community_id,
        payload=ev.payload,
    )
    AuditEvent.objects.filter(pk=ev.pk).update(action="test.forged", hash=forged)
    result = audit.verify_all()
    assert result.first_break is not None and result.first_break.seq == 3


def test_verify_command_ok(capsys: pytest.CaptureFixture[str]) -> None:
    _write(2)
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out
    assert AuditChainHead.objects.get(key="community:1").last_seq == 2


def test_sharded_events_form_verifiable_sub_chains() -> None:
    for voter in range(40):
        with transaction.atomic():
            audit.record(
                actor=None, action="vote", community_id=9, payload={"v": voter}, shard=voter
            )
    chains = set(AuditEvent.objects.values_list("chain", flat=True))
    assert len(chains) > 4 and all(c.startswith("community:9/") for c in chains)
    # The same shard value always lands on the same sub-chain, in order.
    with transaction.atomic():
        again = audit.record(actor=None, action="vote", community_id=9, payload={}, shard=7)
    assert again.chain == audit.chain_key_for(9, shard=7)
    assert audit.verify_all().ok
    with transaction.atomic():
        audit.lock_tenant_chains(community_id=9)
    assert AuditChainHead.objects.filter(key__startswith="community:9").count() == audit.SHARDS + 1
    assert audit.verify_all().ok  # empty heads verify too
