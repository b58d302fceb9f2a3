"""The one write skeleton: lock → re-check → change → audit → notify on commit.

Every service that changes governance data runs inside :func:`governed_write`::

    with governed_write(actor=actor, action="requests.submit", community_id=c.pk) as w:
        req = ServiceRequest.objects.create(...)
        w.target = req
        w.payload["channel"] = channel
        w.notify(Message(...))              # sent only if the transaction commits

On leaving the block without an exception, exactly one audit event is written (one
INSERT, no lock: see :mod:`linli.core.audit`) and the notifications are queued with
``transaction.on_commit``. Any exception rolls back the change, the event and the
notifications together. :func:`lock_row` and :func:`lock_rows` are the locking half:
a single ``SELECT … FOR UPDATE`` (several rows: one statement, a fixed order, so two
writers never wait on each other in opposite orders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.constants import OnConflict

from linli.core import audit
from linli.core.errors import NotFound
from linli.core.notify import Message, send_on_commit
from linli.core.types import Actor


@dataclass
class Write:
    """What the block fills in: the event's target and payload, further events,
    and what to send after commit."""

    actor: Actor
    action: str
    community_id: int | None
    target: Model | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # Set False when the block decides there was nothing to record (e.g. a replay of
    # an idempotent request returned the earlier result).
    record: bool = True
    # Write the event without naming anyone (a secret ballot's vote); otherwise the
    # event names ``audit_actor`` if given, else the actor.
    anonymous: bool = False
    audit_actor: Actor = None
    _after: list[Callable[[], None]] = field(default_factory=list)
    _messages: list[Message] = field(default_factory=list)

    def notify(self, message: Message) -> None:
        self._messages.append(message)

    def on_commit(self, fn: Callable[[], None]) -> None:
        self._after.append(fn)

    def also(
        self, *, action: str, target: Model | None = None, payload: dict[str, Any] | None = None
    ) -> None:
        """A further audit event in the same transaction (e.g. a side effect on another
        object)."""
        audit.record(
            actor=self._event_actor(),
            action=action,
            target=target,
            community_id=self.community_id,
            payload=payload,
        )

    def record_now(self) -> None:
        """Write the block's event now instead of at the end, for a write whose last
        statement must come after the event (e.g. a re-check that takes a lock)."""
        if self.record:
            audit.record(
                actor=self._event_actor(),
                action=self.action,
                target=self.target,
                community_id=self.community_id,
                payload=self.payload,
            )
            self.record = False

    def _event_actor(self) -> Actor:
        if self.anonymous:
            return None
        if self.audit_actor is not None:
            return self.audit_actor
        return self.actor if getattr(self.actor, "pk", None) else None


@contextmanager
def governed_write(
    *,
    actor: Actor,
    action: str,
    community_id: int | None,
    target: Model | None = None,
    payload: dict[str, Any] | None = None,
) -> Iterator[Write]:
    """Run the block in one transaction and write its audit event at the end.
    ``community_id`` is the tenant the event belongs to."""
    w = Write(
        actor=actor,
        action=action,
        community_id=community_id,
        target=target,
        payload=dict(payload or {}),
    )
    with transaction.atomic():
        yield w
        w.record_now()
        for m in w._messages:
            send_on_commit(m)
        for fn in w._after:
            transaction.on_commit(fn)


def lock_row[M: Model](
    qs: QuerySet[M], pk: Any, *, of: Sequence[str] = ("self",), **filters: Any
) -> M:
    """Re-read one row under ``FOR UPDATE`` (joined rows in ``qs.select_related`` are
    read, not locked). Missing or filtered out → :class:`NotFound`.
    Precondition: inside a transaction."""
    obj = qs.select_for_update(of=tuple(of)).filter(pk=pk, **filters).first()
    if obj is None:
        raise NotFound()
    return obj


def lock_rows[M: Model](qs: QuerySet[M], pks: Iterable[Any]) -> dict[Any, M]:
    """Lock several rows with one statement, always in primary-key order."""
    wanted = sorted(set(pks))
    rows = qs.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk")
    return {r.pk: r for r in rows}


def share_lock(
    model: type[Model], pk: Any, columns: Sequence[str], **filters: Any
) -> tuple[Any, ...] | None:
    """Read ``columns`` of one row and hold a ``FOR KEY SHARE`` lock on it until the
    transaction ends: many writers may hold it at once (casting votes), and a writer
    that takes ``FOR UPDATE`` on the row (closing the ballot) waits for all of them
    and is then seen by later ones. SQLite serialises writers anyway (IMMEDIATE
    transactions), so there it is a plain read. ``filters`` are equality conditions on
    further columns (e.g. ``community_id=…``). Returns None when the row is missing."""
    if not connection.in_atomic_block:
        raise RuntimeError("share_lock must run inside a transaction")
    table = connection.ops.quote_name(model._meta.db_table)
    fields = [model._meta.get_field(c) for c in columns]
    cols = ", ".join(connection.ops.quote_name(str(getattr(f, "column", f.name))) for f in fields)
    pk_col = connection.ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
    where = [f"{pk_col} = %s"]
    params = [pk]
    for name, value in filters.items():
        f = model._meta.get_field(name)
        where.append(f"{connection.ops.quote_name(str(getattr(f, 'column', f.name)))} = %s")
        params.append(value)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {cols} FROM {table} WHERE {' AND '.join(where)}{lock}",  # noqa: S608
            params,
        )
        row = cur.fetchone()
    return tuple(row) if row is not None else None


def insert_or_skip(obj: Model) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` for a new model instance:
    one statement, no savepoint (SQLite ≥ 3.35 and PostgreSQL). True and ``obj.pk``
    set when the row went in; False when a unique key already held it (a replay, or a
    concurrent writer that committed first — PostgreSQL makes the second wait on the
    unique index, then skip). Field defaults and ``auto_now`` apply as in ``save()``.
    (``bulk_create(ignore_conflicts=True)`` does not return the id; this is Django's
    own insert query with RETURNING kept.)"""
    model = type(obj)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = model._default_manager._insert(  # type: ignore[attr-defined]
        [obj],
        fields=fields,
        returning_fields=[model._meta.pk],
        on_conflict=OnConflict.IGNORE,
    )
    if not rows:
        return False
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


__all__ = ["Write", "governed_write", "insert_or_skip", "lock_row", "lock_rows", "share_lock"]
