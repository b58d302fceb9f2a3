"""The audit log: one INSERT per event, signed Merkle checkpoints, and detection of
every tampering a database superuser could try (edit, re-hash, delete, tail cut, forged
checkpoint), naming the first event that does not match."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from linli.core import audit
from linli.core.models import AuditCheckpoint, AuditEvent

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
        if connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks for ALTER
        for t in ("core_auditevent", "core_auditcheckpoint"):
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER IF EXISTS {t}_no_update")
                cur.execute(f"DROP TRIGGER IF EXISTS {t}_no_delete")
            else:
                cur.execute(f"ALTER TABLE {t} DISABLE TRIGGER {t}_no_change")


def _first_break() -> audit.Break:
    result = audit.verify_all()
    assert not result.ok
    assert result.first_break is not None
    return result.first_break


def test_record_is_one_insert_without_lock() -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        ev = audit.record(actor=None, action="t.one", community_id=3, payload={"a": 1})
    writes = [q["sql"] for q in ctx.captured_queries if "auditevent" in q["sql"].lower()]
    assert len(writes) == 1 and writes[0].upper().startswith("INSERT")
    assert not any("FOR UPDATE" in q["sql"].upper() for q in ctx.captured_queries)
    assert ev.hash == audit.event_hash(AuditEvent.objects.get(pk=ev.pk))


def test_seal_and_verify() -> None:
    _write(5)
    _write(3, community_id=2)
    cp = audit.seal()
    assert cp is not None and cp.seq == 1 and cp.count == 8 and cp.after_id == 0
    assert audit.seal() is None  # nothing new
    _write(2)
    cp2 = audit.seal()
    assert cp2 is not None and cp2.prev_hash == cp.hash and cp2.after_id == cp.last_id
    result = audit.verify_all()
    assert result.ok and result.checkpoints == 2 and result.events == 10 and result.unsealed == 0


def test_unsealed_events_are_self_checked() -> None:
    _write(2)
    audit.seal()
    events = _write(2)
    result = audit.verify_all()
    assert result.ok and result.unsealed == 2
    _drop_guards()
    AuditEvent.objects.filter(pk=events[1].pk).update(action="test.forged")
    brk = _first_break()
    assert brk.event_id == events[1].pk and "not yet sealed" in brk.reason


@pytest.mark.django_db(transaction=True)
def test_record_outside_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x")


def test_database_refuses_update_and_delete() -> None:
    events = _write(2)
    audit.seal()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.update(merkle_root="0" * 64)
    with pytest.raises(RuntimeError):
        AuditEvent.objects.get(pk=events[0].pk).save()
    assert audit.verify_all().ok


@pytest.mark.parametrize("field", ["action", "payload", "actor", "occurred_at"])
def test_editing_any_sealed_row_is_detected(field: str) -> None:
    events = _write(6)
    audit.seal()
    _drop_guards()
    target = events[2]
    qs = AuditEvent.objects.filter(pk=target.pk)
    if field == "action":
        qs.update(action="test.forged")
    elif field == "payload":
        qs.update(payload={"i": 999, "名": "张三"})
    elif field == "actor":
        from linli.accounts.models import User

        qs.update(actor=User.objects.create(username="mallory"))
    else:
        qs.update(occurred_at=target.occurred_at - timedelta(days=1))
    brk = _first_break()
    assert brk.event_id == target.pk and brk.checkpoint == 1
    with pytest.raises(CommandError, match=f"event id={target.pk}"):
        call_command("verify_audit")


def test_rewriting_a_row_with_a_fresh_hash_is_detected() -> None:
    events = _write(4)
    audit.seal()
    _drop_guards()
    ev = AuditEvent.objects.get(pk=events[1].pk)
    ev.action = "test.forged"
    AuditEvent.objects.filter(pk=ev.pk).update(action="test.forged", hash=audit.event_hash(ev))
    brk = _first_break()
    assert brk.event_id == ev.pk and "rewritten" in brk.reason


def test_deleting_a_sealed_row_is_detected() -> None:
    events = _write(5)
    audit.seal()
    _drop_guards()
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    brk = _first_break()
    assert brk.event_id == events[1].pk and "deleted" in brk.reason


def test_deleting_the_last_sealed_row_is_detected() -> None:
    events = _write(4)
    audit.seal()
    _drop_guards()
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    brk = _first_break()
    assert brk.event_id == events[-1].pk and "deleted" in brk.reason


def test_inserting_into_a_sealed_range_is_detected() -> None:
    events = _write(3)
    audit.seal()
    _drop_guards()
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    with transaction.atomic():
        forged = audit.record(actor=None, action="test.forged", community_id=1)
    # Move the forged event into the sealed range (a superuser can choose ids).
    AuditEvent.objects.filter(pk=forged.pk).update(id=events[1].pk)
    brk = _first_break()
    assert brk.event_id == events[1].pk and "rewritten" in brk.reason


def test_cutting_the_tail_with_its_checkpoint_is_caught_by_the_published_copy(
    tmp_path: Path, client: object
) -> None:
    _write(3)
    audit.seal()
    tail = _write(2)
    audit.seal()
    # An outside copy, downloaded from the public page.
    from django.test import Client

    body = b"".join(Client().get("/audit/checkpoints.jsonl").streaming_content)  # type: ignore[attr-defined]
    published = tmp_path / "checkpoints.jsonl"
    published.write_bytes(body)
    assert len(body.splitlines()) == 2
    _drop_guards()
    AuditEvent.objects.filter(pk__in=[e.pk for e in tail]).delete()
    AuditCheckpoint.objects.filter(seq=2).delete()
    assert audit.verify_all().ok  # the database alone is consistent again…
    with pytest.raises(CommandError, match=f"event id={tail[0].pk}.*cut"):
        call_command("verify_audit", published=[str(published)])  # …the copy is not


def test_forged_or_unsigned_checkpoint_is_detected() -> None:
    events = _write(3)
    audit.seal()
    _drop_guards()
    # Re-hash an event AND rebuild the checkpoint without the key: the signature fails.
    ev = AuditEvent.objects.get(pk=events[0].pk)
    ev.action = "test.forged"
    AuditEvent.objects.filter(pk=ev.pk).update(action=ev.action, hash=audit.event_hash(ev))
    cp = AuditCheckpoint.objects.get()
    rows = list(AuditEvent.objects.order_by("pk").values_list("pk", "hash"))
    packed = audit._pack_leaves(rows)
    import hashlib
    import zlib

    root = audit.merkle_root([audit._leaf_data(i, h) for i, h in rows])
    digest = audit.checkpoint_hash(
        seq=cp.seq,
        after_id=cp.after_id,
        last_id=cp.last_id,
        count=cp.count,
        merkle_root=root,
        leaves_digest=hashlib.sha256(packed).hexdigest(),
        prev_hash=cp.prev_hash,
        sealed_at=cp.sealed_at,
    )
    AuditCheckpoint.objects.filter(pk=cp.pk).update(
        merkle_root=root,
        leaves=zlib.compress(packed),
        leaves_digest=hashlib.sha256(packed).hexdigest(),
        hash=digest,
    )
    brk = _first_break()
    assert brk.checkpoint == 1 and "signature" in brk.reason


def test_another_key_is_reported() -> None:
    _write(2)
    audit.seal()
    with override_settings(LINLI_AUDIT_KEY="another-key-" + "x" * 40):
        brk = _first_break()
    assert "another key" in brk.reason


def test_merkle_root_matches_rfc6962_shape() -> None:
    import hashlib

    def h(b: bytes) -> bytes:
        return hashlib.sha256(b).digest()

    a, b, c = b"a", b"b", b"c"
    # RFC 6962: MTH({a,b,c}) = H(1 || MTH({a,b}) || MTH({c}))
    ab = h(b"\x01" + h(b"\x00" + a) + h(b"\x00" + b))
    expected = h(b"\x01" + ab + h(b"\x00" + c)).hex()
    assert audit.merkle_root([a, b, c]) == expected
    assert audit.merkle_root([a]) == h(b"\x00" + a).hex()


def test_public_page_and_download_show_no_personal_data(client: object) -> None:
    from django.test import Client

    _write(2)
    audit.seal()
    page = Client().get("/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "#1" in text and "张三" not in text
    rows = [
        json.loads(line)
        for line in b"".join(Client().get("/audit/checkpoints.jsonl").streaming_content)  # type: ignore[attr-defined]
        .decode()
        .splitlines()
    ]
    assert rows[0]["seq"] == 1 and rows[0]["count"] == 2
    assert "张三" not in json.dumps(rows, ensure_ascii=False)


def test_seal_command_and_verify_command(capsys: pytest.CaptureFixture[str]) -> None:
    _write(2)
    call_command("seal_audit")
    assert "checkpoint #1" in capsys.readouterr().out
    call_command("verify_audit")
    assert "OK: 1 checkpoints, 2 events" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_late_commit_is_never_skipped() -> None:
    """A writer inserts (lower id) and commits only after a later writer committed and
    a seal started: the seal waits for it (LOCK … SHARE), so its event is sealed
    either by this checkpoint or by the next, never skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL (SQLite has one writer)")
    from django.db import connections

    inserted = threading.Event()
    release = threading.Event()
    early: dict[str, int] = {}

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                early["id"] = audit.record(actor=None, action="t.slow", community_id=1).pk
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    t = threading.Thread(target=slow_writer)
    t.start()
    assert inserted.wait(10)
    late = _write(1)[0]  # a higher id, committed first
    assert late.pk > early["id"]

    sealed: list[AuditCheckpoint | None] = []

    def sealer() -> None:
        try:
            sealed.append(audit.seal())
        finally:
            connections.close_all()

    s = threading.Thread(target=sealer)
    s.start()
    s.join(0.5)
    assert s.is_alive(), "the seal must wait for the open writer"
    release.set()
    t.join(10)
    s.join(10)
    cp = sealed[0]
    assert cp is not None and cp.last_id >= late.pk
    ids = [i for i, _p in audit._unpack_leaves(bytes(cp.leaves))]
    assert early["id"] in ids and late.pk in ids
    assert audit.verify_all().ok and audit.verify_all().unsealed == 0
