"""The deadline sweep: due-soon/overdue marks, escalation, auto-close."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from linli.core.errors import DomainError
from linli.core.writes import Write, governed_write, lock_row
from linli.requests import deadlines, stats
from linli.requests import states as st
from linli.requests.models import OPEN_STATUSES, DueState, EventKind, ServiceRequest, Status
from linli.requests.services._common import (
    AUTO_CLOSE_AFTER,
    ESCALATE_INTERVAL,
    _event,
    _notify_staff,
    _now,
    _transition,
)


@dataclass
class SweepResult:
    checked: int = 0
    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    auto_closed: int = 0
    stat_days: int = 0
    escalated_ids: list[int] = field(default_factory=list)


def _escalate(pk: int, community_id: int, now: datetime) -> bool:
    with governed_write(actor=None, action="requests.escalate", community_id=community_id) as w:
        req = lock_row(st.lock_queryset(), pk, community_id=community_id)
        if (
            req.status not in OPEN_STATUSES
            or req.escalation_level >= 2
            or (req.escalated_at and req.escalated_at > now - ESCALATE_INTERVAL)
        ):
            w.record = False
            return False
        req.escalation_level += 1
        req.escalated_at = now
        req.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
        level_name = _("社区") if req.escalation_level == 1 else _("街道")
        _event(
            req,
            actor=None,
            kind=EventKind.ESCALATED,
            now=now,
            note=_("超过%(kind)s时限，已升级至%(level)s督办")
            % {"kind": req.get_next_due_kind_display(), "level": level_name},
        )
        w.target = req
        w.payload = {
            "status": req.status,
            "level": req.escalation_level,
            "due": req.next_due_kind,
        }
        _notify_staff(req, req.escalation_level, _("诉求已超时，升级督办。"))
    return True


def sweep_deadlines(*, now: datetime | None = None, batch: int = 1000) -> SweepResult:
    """Mark due-soon/overdue, escalate overdue items one level (grid → community →
    street, at most once per 24 h) and close requests resolved 7 days ago without a
    rating. Safe to run concurrently with itself: escalations lock their row."""
    now = _now(now)
    res = SweepResult()
    open_qs = ServiceRequest.objects.filter(
        status__in=list(OPEN_STATUSES), next_due_at__isnull=False
    )
    res.checked = open_qs.count()
    # Set-based updates: one statement per state, however many rows.
    res.overdue = (
        open_qs.filter(next_due_at__lt=now)
        .exclude(due_state=DueState.OVERDUE)
        .update(due_state=DueState.OVERDUE)
    )
    for kind, hours in deadlines.SOON_HOURS.items():
        res.due_soon += open_qs.filter(
            next_due_kind=kind,
            next_due_at__gte=now,
            next_due_at__lte=now + timedelta(hours=hours),
            due_state=DueState.OK,
        ).update(due_state=DueState.SOON)
    # Deadlines met or pushed back (e.g. after an accept) turn green again.
    open_qs.filter(due_state=DueState.OVERDUE, next_due_at__gte=now).update(due_state=DueState.OK)

    to_escalate = (
        open_qs.filter(due_state=DueState.OVERDUE, escalation_level__lt=2)
        .exclude(escalated_at__gt=now - ESCALATE_INTERVAL)
        .order_by("id")
        .values_list("id", "community_id")
    )
    for pk, community_id in list(to_escalate[: batch * 10]):
        if _escalate(pk, community_id, now):
            res.escalated += 1
            res.escalated_ids.append(pk)

    stale = ServiceRequest.objects.filter(
        status=Status.RESOLVED, resolved_at__lte=now - AUTO_CLOSE_AFTER
    ).values_list("id", "community_id")
    for pk, community_id in list(stale[: batch * 10]):

        def effects(req: ServiceRequest, w: Write) -> None:
            req.closed_at = now

        try:
            _transition(
                actor=None,
                request=ServiceRequest(pk=pk, community_id=community_id, status=Status.RESOLVED),
                action="close",
                now=now,
                note=_("办结 7 天未评价，系统自动关闭"),
                payload={"auto": True},
                effects=effects,
            )
        except DomainError:
            continue  # changed since the list was read (rated, reopened)
        res.auto_closed += 1
    # Bring the metrics' daily aggregates up to date (only days whose requests changed).
    res.stat_days = stats.refresh(now=now)
    return res
