"""The tamper-evident audit chain (SPEC §0: 区块链/上链 in the seeds).

Every governance write calls :func:`record` inside its own transaction, so the event
commits or rolls back with the change it describes. Each event's hash covers its
content and the previous event's hash; :func:`verify_all` recomputes every chain and
names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from linli.core.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


# A tenant's busiest writes (votes, ledger entries) may spread over this many
# sub-chains ("community:12/5"), so concurrent writers do not all queue on one head
# row. Each sub-chain is a complete hash chain of its own and is verified as one.
SHARDS = 16


def chain_key_for(
    community_id: int | None = None, street_id: int | None = None, shard: object = None
) -> str:
    if community_id is not None:
        base = f"community:{community_id}"
    elif street_id is not None:
        base = f"street:{street_id}"
    else:
        base = "global"
    if shard is None:
        return base
    return f"{base}/{zlib.crc32(str(shard).encode()) % SHARDS}"


def lock_tenant_chains(*, community_id: int | None = None, street_id: int | None = None) -> None:
    """Take every chain head of a tenant (base and all shards), in key order, until the
    transaction ends. A writer that must see no concurrent sharded write in flight
    (e.g. closing a ballot) calls this; writers that hold one shard finish first, and
    later ones wait and then see the committed change."""
    base = chain_key_for(community_id, street_id)
    keys = [base] + [f"{base}/{i}" for i in range(SHARDS)]
    existing = set(AuditChainHead.objects.filter(key__in=keys).values_list("key", flat=True))
    for key in keys:
        if key not in existing:
            AuditChainHead.objects.get_or_create(key=key)
    list(AuditChainHead.objects.select_for_update().filter(key__in=keys).order_by("key"))


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def compute_hash(
    *,
    chain: str,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    community_id: int | None,
    payload: Any,
) -> str:
    body = _canonical(
        {
            "chain": chain,
            "seq": seq,
            "prev": prev_hash,
            "at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "target": [target_type, target_id],
            "community": community_id,
            "payload": payload,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(
    *,
    actor: Any,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    community_id: int | None = None,
    street_id: int | None = None,
    payload: dict[str, Any] | None = None,
    shard: object = None,
) -> AuditEvent:
    """Append one event. Precondition: called inside ``transaction.atomic``.

    ``payload`` must be JSON-serialisable; it is normalised through canonical JSON so
    the stored value hashes identically when it is read back. ``shard`` (e.g. a voter
    or account id) puts the event on one of the tenant's sub-chains: events with the
    same shard value stay in one chain, in order. A transaction that writes to both
    the base chain and a sub-chain must write the base-chain event first (heads are
    always taken base first, as :func:`lock_tenant_chains` does), or two transactions
    could wait on each other's heads.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the write's transaction")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
    clean_payload = json.loads(_canonical(payload or {}))
    chain = chain_key_for(community_id, street_id, shard)
    head, _created = AuditChainHead.objects.get_or_create(key=chain)
    # Lock the head: appends to one chain are serialised, other chains run in parallel.
    head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
    seq = head.last_seq + 1
    occurred_at = timezone.now()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    digest = compute_hash(
        chain=chain,
        seq=seq,
        prev_hash=head.last_hash,
        occurred_at=occurred_at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        community_id=community_id,
        payload=clean_payload,
    )
    event = AuditEvent(
        chain=chain,
        seq=seq,
        occurred_at=occurred_at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        community_id=community_id,
        payload=clean_payload,
        prev_hash=head.last_hash,
        hash=digest,
    )
    event.save(force_insert=True)
    AuditChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=digest)
    return event


@dataclass(frozen=True)
class Break:
    chain: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq} (id={self.event_id}): {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    chains: int
    events: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _verify_chain(head: AuditChainHead) -> tuple[int, Break | None]:
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    events: Iterator[AuditEvent] = (
        AuditEvent.objects.filter(chain=head.key).order_by("seq").iterator(chunk_size=2000)
    )
    for ev in events:
        count += 1
        if ev.seq != expected_seq:
            return count, Break(head.key, expected_seq, None, f"event #{expected_seq} is missing")
        if ev.prev_hash != expected_prev:
            return count, Break(
                head.key, ev.seq, ev.pk, "prev_hash does not match the event before"
            )
        digest = compute_hash(
            chain=ev.chain,
            seq=ev.seq,
            prev_hash=ev.prev_hash,
            occurred_at=ev.occurred_at,
            actor_id=ev.actor_id,
            action=ev.action,
            target_type=ev.target_type,
            target_id=ev.target_id,
            community_id=ev.community_id,
            payload=ev.payload,
        )
        if digest != ev.hash:
            return count, Break(head.key, ev.seq, ev.pk, "content does not match its hash")
        expected_prev = ev.hash
        expected_seq += 1
    if head.last_seq != expected_seq - 1 or head.last_hash != expected_prev:
        return count, Break(
            head.key,
            expected_seq,
            None,
            f"chain ends at #{expected_seq - 1} but its head records #{head.last_seq}",
        )
    return count, None


def verify_all() -> VerifyResult:
    total = 0
    chains = 0
    heads = {h.key: h for h in AuditChainHead.objects.order_by("key")}
    orphan = AuditEvent.objects.exclude(chain__in=list(heads)).order_by("chain", "seq").first()
    for head in heads.values():
        chains += 1
        n, brk = _verify_chain(head)
        total += n
        if brk is not None:
            return VerifyResult(chains, total, brk)
    if orphan is not None:
        return VerifyResult(
            chains, total, Break(orphan.chain, orphan.seq, orphan.pk, "event outside any chain")
        )
    return VerifyResult(chains, total, None)


def events_for(target: Model) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=str(target.pk)
        ).order_by("occurred_at", "id")
    )


__all__ = ["record", "verify_all", "events_for", "chain_key_for", "transaction"]
