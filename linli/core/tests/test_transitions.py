"""core.transitions and core.writes on a real model (CalendarDay.kind serves as a
two-state field): refusal order, lock → re-check, audit event, notify on commit,
rollback of everything on failure, predicates derived from the table."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import User
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.models import AuditEvent, CalendarDay
from linli.core.notify import MemorySender, Message
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.writes import governed_write, lock_row, lock_rows, share_lock

pytestmark = pytest.mark.django_db

H, W = CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY


def Who(name: str) -> User:  # noqa: N802 - reads like the actor it makes
    return User(username=name)


@predicate
def is_boss(actor: Any, day: CalendarDay) -> bool:
    return getattr(actor, "username", "") == "boss"


@predicate
def sees(actor: Any, day: CalendarDay) -> bool:
    return getattr(actor, "username", "") != "stranger"


def _not_new_year(actor: Any, day: CalendarDay) -> str | None:
    return "元旦不能改" if (day.date.month, day.date.day) == (1, 1) else None


MACHINE: Machine[CalendarDay] = Machine(
    name="calendar",
    model=CalendarDay,
    state_field="kind",
    visible=sees,
    transitions=[
        transition("work", "调休", [H], W, who=is_boss, guard=_not_new_year),
        transition("rest", "放假", [W], H, who=is_boss | is_system, reason_required=True),
    ],
    tenant=lambda day: None,
)


@pytest.fixture
def day() -> CalendarDay:
    return CalendarDay.objects.create(date=date(2026, 5, 2), kind=H, name="劳动节")


def test_refusal_order(day: CalendarDay) -> None:
    assert isinstance(MACHINE.refusal(Who("stranger"), day, "work"), NotFound)
    assert isinstance(MACHINE.refusal(Who("clerk"), day, "work"), PermissionDenied)
    assert isinstance(MACHINE.refusal(Who("boss"), day, "rest"), InvalidTransition)
    assert isinstance(MACHINE.refusal(Who("nobody"), day, "fly"), InvalidTransition)
    day.kind = W
    assert isinstance(MACHINE.refusal(Who("boss"), day, "rest", reason=" "), ValidationFailed)
    assert MACHINE.refusal(Who("boss"), day, "rest") is None  # "may I?" ignores the reason
    new_year = CalendarDay(date=date(2027, 1, 1), kind=H)
    err = MACHINE.refusal(Who("boss"), new_year, "work")
    assert isinstance(err, Conflict) and "元旦" in str(err.message)


def test_buttons_and_predicates_follow_the_table(day: CalendarDay) -> None:
    boss, clerk = Who("boss"), Who("clerk")
    assert MACHINE.available(boss, day) == ["work"]
    assert MACHINE.available(clerk, day) == []
    assert MACHINE.flags(boss, day) == {"can_work": True, "can_rest": False}
    assert MACHINE.predicate("work")(boss, day) and not MACHINE.predicate("work")(clerk, day)
    assert not MACHINE.predicate("work")(boss, None)  # type: ignore[arg-type]
    assert MACHINE.actions_from(H) == ["work"] and MACHINE.states() == {H, W}
    # The system (actor None) may rest a day but not make one a working day.
    day.kind = W
    assert MACHINE.can(None, day, "rest") and not MACHINE.can(None, day, "work")


def test_apply_locks_rechecks_saves_and_audits(day: CalendarDay) -> None:
    with CaptureQueriesContext(connection) as ctx:
        out = MACHINE.apply(actor=Who("boss"), obj=day, action="work", payload={"why": "调休"})
    assert out.kind == W and CalendarDay.objects.get(pk=day.pk).kind == W
    ev = AuditEvent.objects.get(action="calendar.work")
    assert ev.payload == {"from": H, "to": W, "why": "调休"}
    assert ev.target_id == str(day.pk)
    sql = [q["sql"].upper() for q in ctx.captured_queries]
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in s for s in sql)
    # lock + update + audit insert (+ transaction bookkeeping on some backends)
    assert len([s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE"))]) <= 3


def test_apply_rechecks_on_the_locked_row(day: CalendarDay) -> None:
    stale = CalendarDay.objects.get(pk=day.pk)
    MACHINE.apply(actor=Who("boss"), obj=day, action="work")
    assert day.kind == W  # the caller's object follows
    # The stale copy still says "holiday"; the locked row says "workday".
    with pytest.raises(InvalidTransition):
        MACHINE.apply(actor=Who("boss"), obj=stale, action="work")
    assert AuditEvent.objects.filter(action="calendar.work").count() == 1
    # A stale "workday" copy of a row that is a holiday again is judged on the row.
    MACHINE.apply(actor=Who("boss"), obj=day, action="rest", reason="改回")
    with pytest.raises(InvalidTransition):
        MACHINE.apply(
            actor=Who("boss"),
            obj=CalendarDay(pk=day.pk, date=day.date, kind=W),
            action="rest",
            reason="再放",
        )


def test_refused_apply_changes_nothing(day: CalendarDay) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        MACHINE.apply(actor=Who("clerk"), obj=day, action="work")
    day.refresh_from_db()
    assert day.kind == H and AuditEvent.objects.count() == before


def test_reason_is_recorded(day: CalendarDay) -> None:
    MACHINE.apply(actor=Who("boss"), obj=day, action="work")
    MACHINE.apply(actor=None, obj=day, action="rest", reason="国务院通知")
    ev = AuditEvent.objects.get(action="calendar.rest")
    assert ev.payload["reason"] == "国务院通知" and ev.actor_id is None


def test_effects_and_history_run_inside_the_transaction(day: CalendarDay) -> None:
    seen: list[tuple[str, str]] = []
    m: Machine[CalendarDay] = Machine(
        name="calendar",
        model=CalendarDay,
        state_field="kind",
        transitions=[transition("work", "调休", [H], W, who=is_boss)],
        history=lambda obj, t, actor, before, reason: seen.append((before, t.target)),
        tenant=lambda d: None,
    )

    def effects(row: CalendarDay, w: Any) -> None:
        row.name = "调休上班"
        w.payload["renamed"] = True
        w.notify(Message("inapp", "boss", "日历", "已调整"))

    MemorySender.outbox.clear()
    m.apply(actor=Who("boss"), obj=day, action="work", effects=effects)
    day.refresh_from_db()
    assert day.name == "调休上班" and seen == [(H, W)]
    assert AuditEvent.objects.get(action="calendar.work").payload["renamed"] is True


def test_governed_write_rolls_back_event_and_notifications() -> None:
    MemorySender.outbox.clear()
    with (
        pytest.raises(Conflict),
        transaction.atomic(),
        governed_write(actor=None, action="t.fail", community_id=7) as w,
    ):
        CalendarDay.objects.create(date=date(2026, 6, 1), kind=H)
        w.notify(Message("sms", "13800000000", "x", "y"))
        raise Conflict("no")
    assert not CalendarDay.objects.filter(date=date(2026, 6, 1)).exists()
    assert not AuditEvent.objects.filter(action="t.fail").exists()
    assert MemorySender.outbox == []


@pytest.mark.django_db(transaction=True)
def test_governed_write_notifies_after_commit_only() -> None:
    MemorySender.outbox.clear()
    with governed_write(actor=None, action="t.ok", community_id=7) as w:
        day = CalendarDay.objects.create(date=date(2026, 6, 2), kind=H)
        w.target = day
        w.notify(Message("sms", "13800000000", "x", "y"))
        assert MemorySender.outbox == []
    assert len(MemorySender.outbox) == 1
    ev = AuditEvent.objects.get(action="t.ok")
    assert ev.community_id == 7 and ev.target_id == str(day.pk)


def test_skip_record_and_extra_events() -> None:
    with governed_write(actor=None, action="t.replay", community_id=1) as w:
        w.record = False
    with governed_write(actor=None, action="t.main", community_id=1) as w:
        w.also(action="t.side", payload={"n": 1})
    assert not AuditEvent.objects.filter(action="t.replay").exists()
    assert AuditEvent.objects.filter(action__in=["t.main", "t.side"]).count() == 2


def test_lock_helpers(day: CalendarDay) -> None:
    other = CalendarDay.objects.create(date=date(2026, 5, 3), kind=H)
    with transaction.atomic():
        assert lock_row(CalendarDay.objects.all(), day.pk).pk == day.pk
        with pytest.raises(NotFound):
            lock_row(CalendarDay.objects.all(), day.pk, kind=W)
        with CaptureQueriesContext(connection) as ctx:
            rows = lock_rows(CalendarDay.objects.all(), [other.pk, day.pk, other.pk])
        assert set(rows) == {day.pk, other.pk} and len(ctx.captured_queries) == 1
        assert share_lock(CalendarDay, day.pk, ["kind", "name"]) == (H, "劳动节")
        assert share_lock(CalendarDay, 10**9, ["kind"]) is None


def test_audit_action_record_now_and_anonymous(day: CalendarDay) -> None:
    m: Machine[CalendarDay] = Machine(
        name="calendar",
        model=CalendarDay,
        state_field="kind",
        transitions=[transition("work", "调休", [H], W, who=is_boss, audit_action="cal.swapped")],
        tenant=lambda d: None,
    )
    boss = User.objects.create(username="boss")
    m.apply(actor=boss, obj=day, action="work")
    assert AuditEvent.objects.get(action="cal.swapped").actor_id == boss.pk
    with governed_write(actor=boss, action="t.secret", community_id=1) as w:
        w.anonymous = True
        w.record_now()
        # A statement after the event (e.g. a lock-taking re-check) sees it written.
        assert AuditEvent.objects.filter(action="t.secret").count() == 1
    ev = AuditEvent.objects.get(action="t.secret")
    assert ev.actor_id is None


def test_share_lock_with_filters(day: CalendarDay) -> None:
    with transaction.atomic():
        assert share_lock(CalendarDay, day.pk, ["name"], kind=H) == ("劳动节",)
        assert share_lock(CalendarDay, day.pk, ["name"], kind=W) is None
