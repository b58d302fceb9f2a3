"""Declarative state machines: one table per app (``<app>/states.py``).

A :class:`Transition` says from which states an action may run, to which state it
leads, who may run it (a predicate on actor and object), an optional guard (a rule
about the object beyond its state, returning the refusal message), whether a reason
is required, and the button label. A :class:`Machine` is the table for one model
field. Services call :meth:`Machine.apply`, which locks the row, re-checks everything
on the locked row, changes the state, records history and the audit event through
:func:`linli.core.writes.governed_write`. Pages and the API ask :meth:`Machine.can` /
:meth:`Machine.available`, and ``rules`` permissions come from
:meth:`Machine.predicate` — so a button is shown exactly when the service accepts it.

Refusals are ordered so that nothing leaks: not visible → "not found"; not allowed →
"forbidden"; wrong state → "invalid transition"; reason missing → "invalid"; guard →
"conflict" (or the guard's own error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Protocol, cast

import rules
from django.db.models import Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from linli.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row

type Check[M: Model] = Callable[[Actor, M], bool]


class Who[M: Model](Protocol):
    """A predicate on (actor, object) that combines with ``&``, ``|`` and ``~`` like
    django-rules predicates do. Plain functions are accepted wherever a check is."""

    def __call__(self, actor: Actor, obj: M, /) -> bool: ...
    def __or__(self, other: Who[M]) -> Who[M]: ...
    def __and__(self, other: Who[M]) -> Who[M]: ...
    def __invert__(self) -> Who[M]: ...


# A guard returns None when the transition may go ahead, else the refusal: a message
# (raised as Conflict) or a ready DomainError.
type Guard[M: Model] = Callable[[Actor, M], str | Promise | DomainError | None]


def predicate[M: Model](fn: Callable[[Actor, M], bool]) -> Who[M]:
    """``rules.predicate`` with its types kept (rules itself is untyped): the result can
    be combined with ``&``/``|`` as usual and still type-checks as a callable."""
    return cast(Who[M], rules.predicate(fn))  # type: ignore[no-untyped-call]


def _is_system(actor: Actor, obj: Any) -> bool:
    return actor is None


# The system itself (deadline sweeps, tasks) acts with ``actor=None``.
is_system: Who[Any] = predicate(_is_system)


@dataclass(frozen=True)
class Transition[M: Model]:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    who: Check[M]
    guard: Guard[M] | None = None
    reason_required: bool = False
    # Message when ``who`` fails; defaults to "you may not <label> this".
    forbidden: str | Promise | None = None
    # The audit event's action when it must keep an established name (a recount
    # replays "voting.ballot_closed"); default "<machine name>.<action>".
    audit_action: str | None = None


def transition[M: Model](
    action: str,
    label: str | Promise,
    sources: Iterable[str],
    target: str,
    *,
    who: Check[M],
    guard: Guard[M] | None = None,
    reason_required: bool = False,
    forbidden: str | Promise | None = None,
    audit_action: str | None = None,
) -> Transition[M]:
    return Transition(
        action=action,
        label=label,
        sources=frozenset(str(s) for s in sources),
        target=str(target),
        who=who,
        guard=guard,
        reason_required=reason_required,
        forbidden=forbidden,
        audit_action=audit_action,
    )


@dataclass
class Machine[M: Model]:
    """The transitions of one model's state field.

    ``name`` prefixes audit actions (``<name>.<action>``); ``visible`` decides who may
    know the object exists at all; ``lock_queryset`` is how :meth:`apply` re-reads the
    row (add ``select_related`` for what the guards read); ``history`` writes the
    app's own timeline row when it keeps one; ``tenant`` gives the community id.
    """

    name: str
    model: type[M]
    transitions: Iterable[Transition[M]]
    state_field: str = "status"
    visible: Check[M] | None = None
    lock_queryset: Callable[[], QuerySet[M]] | None = None
    history: Callable[[M, Transition[M], Actor, str, str], None] | None = None
    tenant: Callable[[M], int | None] = dc_field(
        default=lambda obj: cast(int | None, getattr(obj, "community_id", None))
    )
    state_label: Callable[[M], str] | None = None
    table: dict[str, Transition[M]] = dc_field(init=False)
    _tenanted: bool = dc_field(init=False, default=False)

    def __post_init__(self) -> None:
        self._tenanted = any(
            getattr(f, "column", None) == "community_id" for f in self.model._meta.concrete_fields
        )
        self.table = {}
        for t in self.transitions:
            if t.action in self.table:
                raise ValueError(f"{self.name}: action {t.action!r} declared twice")
            self.table[t.action] = t

    # ------------------------------------------------------------------ reading

    def __getitem__(self, action: str) -> Transition[M]:
        return self.table[action]

    def __contains__(self, action: object) -> bool:
        return action in self.table

    def state_of(self, obj: M) -> str:
        return str(getattr(obj, self.state_field))

    def allowed(self, action: str, state: str) -> bool:
        t = self.table.get(action)
        return t is not None and state in t.sources

    def actions_from(self, state: str) -> list[str]:
        return [a for a, t in self.table.items() if state in t.sources]

    def states(self) -> set[str]:
        out: set[str] = set()
        for t in self.table.values():
            out |= t.sources | {t.target}
        return out

    def refusal(
        self, actor: Actor, obj: M, action: str, *, reason: str | None = None
    ) -> DomainError | None:
        """Why ``actor`` may not run ``action`` on ``obj`` now, or None if they may.
        ``reason=None`` skips the reason check (asking "may I?" before a form)."""
        t = self.table.get(action)
        if t is None:
            return InvalidTransition()
        if self.visible is not None and actor is not None and not self.visible(actor, obj):
            return NotFound()
        if not t.who(actor, obj):
            return PermissionDenied(
                t.forbidden or _("您不能执行“%(action)s”操作。") % {"action": t.label}
            )
        state = self.state_of(obj)
        if state not in t.sources:
            shown = self.state_label(obj) if self.state_label else state
            return InvalidTransition(
                _("当前状态为“%(status)s”，不能执行“%(action)s”。")
                % {"status": shown, "action": t.label}
            )
        if reason is not None and t.reason_required and not reason.strip():
            return ValidationFailed(
                _("请填写“%(action)s”的理由。") % {"action": t.label}, field="reason"
            )
        if t.guard is not None:
            verdict = t.guard(actor, obj)
            if isinstance(verdict, DomainError):
                return verdict
            if verdict:
                return Conflict(verdict)
        return None

    def can(self, actor: Actor, obj: M, action: str) -> bool:
        return self.refusal(actor, obj, action) is None

    def available(self, actor: Actor, obj: M, among: Iterable[str] | None = None) -> list[str]:
        """The actions to offer as buttons, in table order (or ``among``'s order)."""
        names = list(among) if among is not None else list(self.table)
        return [a for a in names if a in self.table and self.can(actor, obj, a)]

    def flags(self, actor: Actor, obj: M) -> Mapping[str, bool]:
        """``{"can_<action>": bool}`` for templates and API responses."""
        return {f"can_{a}": self.can(actor, obj, a) for a in self.table}

    def predicate(self, action: str) -> Who[M]:
        """A ``rules`` predicate for one action (who + state + guard)."""
        machine = self

        def check(actor: Actor, obj: M | None) -> bool:
            return obj is not None and machine.can(actor, obj, action)

        check.__name__ = f"can_{self.name.replace('.', '_')}_{action}"
        return predicate(check)

    def add_perms(self, app_label: str) -> None:
        """Register ``<app_label>.<action>_<model>`` permissions with django-rules."""
        model = self.model._meta.model_name
        for action in self.table:
            rules.add_perm(  # type: ignore[no-untyped-call]
                f"{app_label}.{action}_{model}", self.predicate(action)
            )

    # ------------------------------------------------------------------ writing

    def check(self, actor: Actor, obj: M, action: str, *, reason: str | None = None) -> None:
        err = self.refusal(actor, obj, action, reason=reason)
        if err is not None:
            raise err

    def apply(
        self,
        *,
        actor: Actor,
        obj: M,
        action: str,
        reason: str = "",
        payload: dict[str, Any] | None = None,
        effects: Callable[[M, Write], None] | None = None,
        locked: bool = False,
    ) -> M:
        """Run ``action``: lock the row (unless the caller already holds it,
        ``locked=True``), re-check on the locked row, set the state, let ``effects``
        change other fields or write related rows, save, record history and the audit
        event (``<name>.<action>`` with from/to/reason and ``payload``).

        Permission is checked first on the object the caller has, so a refused actor
        takes no lock; state, reason and guards are judged on the locked row (the
        caller's copy may be stale). The caller's object gets the new state too.
        Returns the locked, updated object."""
        err = self.refusal(actor, obj, action, reason=reason)
        if isinstance(err, NotFound | PermissionDenied):
            raise err  # who may act does not depend on the row's latest state
        t = self.table[action]
        tenant = self.tenant(obj)
        with governed_write(
            actor=actor, action=t.audit_action or f"{self.name}.{action}", community_id=tenant
        ) as w:
            if locked:
                row = obj
            else:
                qs = self.lock_queryset() if self.lock_queryset else self.model._default_manager
                # The lock filters by the tenant too: with the data distributed by
                # community, the row is then found on one node.
                if tenant is not None and self._tenanted:
                    row = lock_row(qs.all(), obj.pk, community_id=tenant)
                else:
                    row = lock_row(qs.all(), obj.pk)
                self.check(actor, row, action, reason=reason)
            before = self.state_of(row)
            setattr(row, self.state_field, t.target)
            if effects is not None:
                effects(row, w)
            row.save()
            if self.history is not None:
                self.history(row, t, actor, before, reason)
            w.target = row
            w.payload = {"from": before, "to": t.target, **(payload or {}), **w.payload}
            if reason:
                w.payload["reason"] = reason[:500]
        if row is not obj:
            setattr(obj, self.state_field, t.target)
        return row


__all__ = ["Machine", "Transition", "transition", "predicate", "is_system"]
