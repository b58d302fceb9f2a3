"""Time limits (SPEC §1), computed on the server only.

* response: ``category.response_hours`` clock hours after submission (24 h default);
* plan for a complex matter: ``plan_working_days`` working days after acceptance;
* progress feedback / resolution: ``feedback_working_days`` working days after
  submission (7 by default), skipping weekends and configured holidays;
* after a 吹哨 to a department: respond within 24 h, on site within 48 h (clock hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from linli.core.calendar import WorkCalendar, add_hours
from linli.requests.models import DueKind, DueState, ServiceRequest, Status

WHISTLE_RESPONSE_HOURS = 24
WHISTLE_ONSITE_HOURS = 48
# "Due soon" margin: hour-based limits turn amber 4 h before, day-based ones 1 day before.
SOON_HOURS: dict[str, int] = {
    DueKind.RESPONSE: 4,
    DueKind.WHISTLE_RESPONSE: 4,
    DueKind.WHISTLE_ONSITE: 8,
    DueKind.PLAN: 24,
    DueKind.FEEDBACK: 24,
}


def set_initial(req: ServiceRequest, *, now: datetime, cal: WorkCalendar) -> None:
    cat = req.category
    req.response_due = add_hours(now, cat.response_hours)
    req.feedback_due = cal.add_working_days(now, cat.feedback_working_days)


def set_plan(req: ServiceRequest, *, now: datetime, cal: WorkCalendar) -> None:
    req.plan_due = cal.add_working_days(now, req.category.plan_working_days)


def set_whistle(req: ServiceRequest, *, now: datetime) -> None:
    req.whistle_response_due = add_hours(now, WHISTLE_RESPONSE_HOURS)
    req.whistle_onsite_due = add_hours(now, WHISTLE_ONSITE_HOURS)


def pending(req: ServiceRequest) -> list[tuple[datetime, str]]:
    """The deadlines still to be met, given the request's status."""
    out: list[tuple[datetime, str]] = []
    if req.status in (Status.SUBMITTED, Status.REOPENED) and req.response_due:
        out.append((req.response_due, DueKind.RESPONSE))
    if req.status in (Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED):
        if req.feedback_due:
            out.append((req.feedback_due, DueKind.FEEDBACK))
        if req.is_complex and req.plan_due and req.plan_at is None:
            out.append((req.plan_due, DueKind.PLAN))
        if req.whistle_response_due:
            out.append((req.whistle_response_due, DueKind.WHISTLE_RESPONSE))
        if req.whistle_onsite_due:
            out.append((req.whistle_onsite_due, DueKind.WHISTLE_ONSITE))
    if req.status == Status.SUBMITTED and req.feedback_due:
        out.append((req.feedback_due, DueKind.FEEDBACK))
    return out


def due_state_at(due: datetime | None, kind: str, now: datetime) -> str:
    if due is None:
        return DueState.NONE
    if now > due:
        return DueState.OVERDUE
    if due - now <= timedelta(hours=SOON_HOURS.get(kind, 24)):
        return DueState.SOON
    return DueState.OK


def refresh(req: ServiceRequest, *, now: datetime) -> list[str]:
    """Recompute ``next_due_at``/``next_due_kind``/``due_state``; returns changed fields."""
    items = pending(req)
    if items:
        due, kind = min(items, key=lambda x: x[0])
        state = due_state_at(due, kind, now)
    else:
        due, kind, state = None, DueKind.NONE, DueState.NONE
    changed = []
    if req.next_due_at != due:
        req.next_due_at = due
        changed.append("next_due_at")
    if req.next_due_kind != kind:
        req.next_due_kind = kind
        changed.append("next_due_kind")
    if req.due_state != state:
        req.due_state = state
        changed.append("due_state")
    return changed


def is_overdue(req: ServiceRequest, now: datetime) -> bool:
    return any(now > due for due, _k in pending(req))
