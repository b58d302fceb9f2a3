"""The tamper-evident audit log (SPEC §0: 区块链/上链 in the seeds).

Writing is one INSERT: every governance write calls :func:`record` inside its own
transaction, and the event stores the SHA-256 of its own canonical content. There is
no chain head, so no writer waits for another (the old per-tenant hash chain made every
writer of a community queue on one row).

Integrity comes from *checkpoints* (:func:`seal`, run every minute or so by
``seal_audit`` / the ``seal_audit_task``): all events since the previous checkpoint
become the leaves of a Merkle tree (RFC 6962 hashing); the checkpoint stores the root,
a compact list of (event id, hash prefix), the previous checkpoint's hash, and an
HMAC-SHA256 signature made with a key that is *not* in the database
(``LINLI_AUDIT_KEY`` / ``LINLI_AUDIT_KEY_FILE``). Checkpoints are published (a public
page and a downloadable JSON-lines file), so copies exist outside the database.

:func:`verify_all` recomputes every event's hash and every checkpoint, and names the
first event that does not match. What a database superuser can no longer do unseen:
edit a sealed event (its hash or the sealed prefix differ), re-hash it (the sealed
prefix and the Merkle root differ, and the root is signed), delete one (the sealed id
list names it), or cut the tail together with its checkpoints (the published file
still lists them: ``verify_audit --published FILE``). Events newer than the last
checkpoint are only self-hashed until the next seal; the sealing interval bounds that
window.

Late commits: a checkpoint covers an id range (after_id, last_id]. Before choosing
``last_id`` the sealer takes ``LOCK TABLE … IN SHARE MODE`` on PostgreSQL, which waits
for every transaction that holds an inserted-but-uncommitted event (they hold ROW
EXCLUSIVE until they end), so no event with a lower id can commit after the range was
fixed. SQLite has one writer at a time (transactions start IMMEDIATE), so the highest
committed id is already final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from linli.core.models import AuditCheckpoint, AuditEvent

# How many leading bytes of each event hash a checkpoint keeps next to the event id.
# 8 bytes (64 bits) make a forged event matching the sealed prefix a 2^64 search, and
# keep the sealed list at 16 bytes per event (≈ 16 MB per million, before zlib).
PREFIX_BYTES = 8
_LEAF = struct.Struct(">Q8s")


# --------------------------------------------------------------------------- hashing


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def compute_hash(
    *,
    occurred_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    community_id: int | None,
    payload: Any,
) -> str:
    """SHA-256 of an event's canonical content (everything but its id and hash)."""
    body = _canonical(
        {
            "at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "target": [target_type, target_id],
            "community": community_id,
            "payload": payload,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_hash(ev: AuditEvent) -> str:
    return compute_hash(
        occurred_at=ev.occurred_at,
        actor_id=ev.actor_id,
        action=ev.action,
        target_type=ev.target_type,
        target_id=ev.target_id,
        community_id=ev.community_id,
        payload=ev.payload,
    )


def _leaf_data(event_id: int, digest_hex: str) -> bytes:
    # The id is part of the leaf so an event cannot be moved to another position.
    return struct.pack(">Q", event_id) + bytes.fromhex(digest_hex)


def merkle_root(leaves: Sequence[bytes]) -> str:
    """RFC 6962 Merkle tree hash: leaves prefixed 0x00, nodes 0x01, split at the largest
    power of two below n. Iterative over levels, so a million leaves is fine."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            # An odd node is promoted unchanged; this equals RFC 6962's split rule.
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


# --------------------------------------------------------------------------- writing


def record(
    *,
    actor: Any,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    community_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event: a single INSERT, no lock. Precondition: called inside the
    write's ``transaction.atomic`` so the event commits or rolls back with the change.

    ``payload`` must be JSON-serialisable; it is normalised through canonical JSON so
    the stored value hashes identically when it is read back.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the write's transaction")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
    clean_payload = json.loads(_canonical(payload or {}))
    occurred_at = timezone.now()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    event = AuditEvent(
        occurred_at=occurred_at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        community_id=community_id,
        payload=clean_payload,
        hash=compute_hash(
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            community_id=community_id,
            payload=clean_payload,
        ),
    )
    event.save(force_insert=True)
    return event


# --------------------------------------------------------------------------- signing


def _signing_key() -> bytes:
    raw = getattr(settings, "LINLI_AUDIT_KEY", "") or ""
    path = getattr(settings, "LINLI_AUDIT_KEY_FILE", "") or ""
    if path:
        with open(path, "rb") as fh:
            raw = fh.read().strip().decode()
    if len(raw) < 32:
        raise ImproperlyConfigured(
            "LINLI_AUDIT_KEY (or LINLI_AUDIT_KEY_FILE) must hold at least 32 characters; "
            "keep it outside the database."
        )
    return raw.encode()


def key_id() -> str:
    """A short fingerprint of the signing key, stored with each checkpoint so a key
    rotation is visible and old checkpoints name the key that signed them."""
    return hashlib.sha256(b"linli-audit-key-id:" + _signing_key()).hexdigest()[:16]


def _sign(digest: str) -> str:
    return hmac.new(_signing_key(), digest.encode(), hashlib.sha256).hexdigest()


def checkpoint_hash(
    *,
    seq: int,
    after_id: int,
    last_id: int,
    count: int,
    merkle_root: str,
    leaves_digest: str,
    prev_hash: str,
    sealed_at: datetime,
) -> str:
    return hashlib.sha256(
        _canonical(
            {
                "seq": seq,
                "after": after_id,
                "last": last_id,
                "count": count,
                "root": merkle_root,
                "leaves": leaves_digest,
                "prev": prev_hash,
                "at": sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
            }
        ).encode()
    ).hexdigest()


GENESIS = "0" * 64


def _pack_leaves(pairs: Iterable[tuple[int, str]]) -> bytes:
    return b"".join(_LEAF.pack(i, bytes.fromhex(h)[:PREFIX_BYTES]) for i, h in pairs)


def _unpack_leaves(blob: bytes) -> list[tuple[int, bytes]]:
    raw = zlib.decompress(blob)
    return [_LEAF.unpack_from(raw, off) for off in range(0, len(raw), _LEAF.size)]


def _stable_upper_bound(after_id: int) -> int:
    """The highest event id that no still-running transaction can undercut."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                # Bound the wait: a writer stuck in a long transaction delays this seal,
                # never skips its event; the next run picks it up.
                cur.execute("SET LOCAL lock_timeout = '10s'")
                cur.execute("LOCK TABLE core_auditevent IN SHARE MODE")
        top = AuditEvent.objects.filter(pk__gt=after_id).aggregate(m=Max("pk"))["m"]
    return int(top or after_id)


def seal(*, max_events: int = 200_000) -> AuditCheckpoint | None:
    """Seal every event since the previous checkpoint into a new signed checkpoint.
    Returns None when there is nothing new. Safe to run from several processes: the
    checkpoint table is locked, and ``seq`` is unique."""
    last = AuditCheckpoint.objects.order_by("-seq").first()
    after_id = last.last_id if last else 0
    upper = _stable_upper_bound(after_id)
    if upper <= after_id:
        return None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("LOCK TABLE core_auditcheckpoint IN SHARE ROW EXCLUSIVE MODE")
        last = AuditCheckpoint.objects.order_by("-seq").first()
        if (last.last_id if last else 0) != after_id:
            return None  # another sealer got there first
        rows = list(
            AuditEvent.objects.filter(pk__gt=after_id, pk__lte=upper)
            .order_by("pk")
            .values_list("pk", "hash")[:max_events]
        )
        if not rows:
            return None
        last_id = rows[-1][0]
        packed = _pack_leaves(rows)
        root = merkle_root([_leaf_data(i, h) for i, h in rows])
        leaves_digest = hashlib.sha256(packed).hexdigest()
        seq = (last.seq if last else 0) + 1
        prev = last.hash if last else GENESIS
        sealed_at = timezone.now()
        digest = checkpoint_hash(
            seq=seq,
            after_id=after_id,
            last_id=last_id,
            count=len(rows),
            merkle_root=root,
            leaves_digest=leaves_digest,
            prev_hash=prev,
            sealed_at=sealed_at,
        )
        cp = AuditCheckpoint(
            seq=seq,
            after_id=after_id,
            last_id=last_id,
            count=len(rows),
            merkle_root=root,
            leaves=zlib.compress(packed, 6),
            leaves_digest=leaves_digest,
            prev_hash=prev,
            hash=digest,
            signature=_sign(digest),
            key_id=key_id(),
            sealed_at=sealed_at,
        )
        cp.save(force_insert=True)
    return cp


def seal_all() -> list[AuditCheckpoint]:
    """Seal until nothing is left (a large backlog becomes several checkpoints)."""
    out: list[AuditCheckpoint] = []
    while (cp := seal()) is not None:
        out.append(cp)
    return out


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Break:
    event_id: int | None
    checkpoint: int | None
    reason: str

    def __str__(self) -> str:
        where = []
        if self.event_id is not None:
            where.append(f"event id={self.event_id}")
        if self.checkpoint is not None:
            where.append(f"checkpoint #{self.checkpoint}")
        return f"{', '.join(where) or 'log'}: {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    checkpoints: int
    events: int
    unsealed: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def public_record(cp: AuditCheckpoint) -> dict[str, Any]:
    """What is published about a checkpoint: hashes and counts, nothing personal."""
    return {
        "seq": cp.seq,
        "after_id": cp.after_id,
        "last_id": cp.last_id,
        "count": cp.count,
        "merkle_root": cp.merkle_root,
        "leaves_digest": cp.leaves_digest,
        "prev_hash": cp.prev_hash,
        "hash": cp.hash,
        "signature": cp.signature,
        "key_id": cp.key_id,
        "sealed_at": cp.sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }


def _check_checkpoint(cp: AuditCheckpoint, prev: AuditCheckpoint | None) -> str | None:
    expected_seq = (prev.seq if prev else 0) + 1
    if cp.seq != expected_seq:
        return f"checkpoint #{expected_seq} is missing"
    if cp.prev_hash != (prev.hash if prev else GENESIS):
        return "does not link to the checkpoint before it"
    if cp.after_id != (prev.last_id if prev else 0):
        return "its event range does not follow the checkpoint before it"
    digest = checkpoint_hash(
        seq=cp.seq,
        after_id=cp.after_id,
        last_id=cp.last_id,
        count=cp.count,
        merkle_root=cp.merkle_root,
        leaves_digest=cp.leaves_digest,
        prev_hash=cp.prev_hash,
        sealed_at=cp.sealed_at,
    )
    if digest != cp.hash:
        return "its content does not match its hash"
    if cp.key_id != key_id():
        return f"signed with another key ({cp.key_id}); configure that key to verify"
    if not hmac.compare_digest(_sign(digest), cp.signature):
        return "signature is not valid"
    if hashlib.sha256(zlib.decompress(bytes(cp.leaves))).hexdigest() != cp.leaves_digest:
        return "its sealed event list was altered"
    return None


def _verify_range(cp: AuditCheckpoint) -> tuple[int, Break | None]:
    sealed = _unpack_leaves(bytes(cp.leaves))
    events: Iterator[AuditEvent] = (
        AuditEvent.objects.filter(pk__gt=cp.after_id, pk__lte=cp.last_id)
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    leaves: list[bytes] = []
    i = 0
    n = 0
    for ev in events:
        n += 1
        if ev.hash != event_hash(ev):
            return n, Break(ev.pk, cp.seq, "content does not match its hash")
        if i < len(sealed) and sealed[i][0] < ev.pk:
            return n, Break(sealed[i][0], cp.seq, "event was deleted after it was sealed")
        if i >= len(sealed) or sealed[i][0] != ev.pk:
            return n, Break(ev.pk, cp.seq, "event was inserted after its range was sealed")
        if bytes.fromhex(ev.hash)[:PREFIX_BYTES] != sealed[i][1]:
            return n, Break(ev.pk, cp.seq, "event was rewritten after it was sealed")
        leaves.append(_leaf_data(ev.pk, ev.hash))
        i += 1
    if i < len(sealed):
        return n, Break(sealed[i][0], cp.seq, "event was deleted after it was sealed")
    if len(leaves) != cp.count or merkle_root(leaves) != cp.merkle_root:
        return n, Break(None, cp.seq, "Merkle root does not match the sealed events")
    return n, None


def verify_all(*, published: Iterable[dict[str, Any]] = ()) -> VerifyResult:
    """Check every checkpoint (chain, signature, Merkle root, sealed list) and every
    event's own hash; with ``published`` (records from a downloaded checkpoint file),
    also check that no published checkpoint was removed or changed."""
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    total = 0
    prev: AuditCheckpoint | None = None
    for cp in checkpoints:
        problem = _check_checkpoint(cp, prev)
        if problem:
            return VerifyResult(len(checkpoints), total, 0, Break(None, cp.seq, problem))
        n, brk = _verify_range(cp)
        total += n
        if brk is not None:
            return VerifyResult(len(checkpoints), total, 0, brk)
        prev = cp
    by_seq = {cp.seq: cp for cp in checkpoints}
    for rec in published:
        found = by_seq.get(int(rec["seq"]))
        if found is None:
            return VerifyResult(
                len(checkpoints),
                total,
                0,
                Break(
                    int(rec["after_id"]) + 1,
                    int(rec["seq"]),
                    "published checkpoint is missing from the database (events up to "
                    f"id={rec['last_id']} were cut)",
                ),
            )
        if found.hash != rec.get("hash") or found.merkle_root != rec.get("merkle_root"):
            return VerifyResult(
                len(checkpoints),
                total,
                0,
                Break(None, found.seq, "differs from the published copy"),
            )
    after = prev.last_id if prev else 0
    unsealed = 0
    for ev in AuditEvent.objects.filter(pk__gt=after).order_by("pk").iterator(chunk_size=5000):
        unsealed += 1
        if ev.hash != event_hash(ev):
            return VerifyResult(
                len(checkpoints),
                total + unsealed,
                unsealed,
                Break(ev.pk, None, "content does not match its hash (not yet sealed)"),
            )
    return VerifyResult(len(checkpoints), total + unsealed, unsealed, None)


def verify_events(events: Iterable[AuditEvent]) -> Break | None:
    """Check a subset of events (e.g. one ballot's) against their own hashes and the
    checkpoints that sealed them. Used by the voting recount, so a re-hashed vote is
    caught even when only that ballot is recounted."""
    cps = list(AuditCheckpoint.objects.order_by("seq"))
    sealed_cache: dict[int, dict[int, bytes]] = {}
    for ev in events:
        if ev.hash != event_hash(ev):
            return Break(ev.pk, None, "content does not match its hash")
        cp = next((c for c in cps if c.after_id < ev.pk <= c.last_id), None)
        if cp is None:
            continue  # newer than the last checkpoint
        if cp.seq not in sealed_cache:
            problem = _check_checkpoint(cp, next((c for c in cps if c.seq == cp.seq - 1), None))
            if problem:
                return Break(None, cp.seq, problem)
            sealed_cache[cp.seq] = dict(_unpack_leaves(bytes(cp.leaves)))
        prefix = sealed_cache[cp.seq].get(ev.pk)
        if prefix is None:
            return Break(ev.pk, cp.seq, "event was inserted after its range was sealed")
        if bytes.fromhex(ev.hash)[:PREFIX_BYTES] != prefix:
            return Break(ev.pk, cp.seq, "event was rewritten after it was sealed")
    return None


def events_for(target: Model) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=str(target.pk)
        ).order_by("id")
    )


__all__ = [
    "record",
    "seal",
    "seal_all",
    "verify_all",
    "verify_events",
    "events_for",
    "public_record",
    "transaction",
]
