"""Reads for care pages and the API, each filtered to what the viewer may see
("not found" and "not allowed" look the same)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.care import rules as care_rules
from linli.care import schedule
from linli.care.ladder import ladder_q
from linli.care.models import OPEN_STATES, Alert, CareSubject, Device, Visit
from linli.care.permissions import MANAGER_ROLES, VIEW_ROLES, can_view_subject, community_ids
from linli.care.services.roster import CARE_TAGS, settings_for
from linli.communities.models import Resident
from linli.core.errors import NotFound
from linli.core.types import Viewer

SUBJECT_RELATED = ("resident__household__building", "grid", "worker", "volunteer", "volunteer2")


def _paths_q(paths: list[str], field: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def subjects_for(viewer: Viewer, *, community_id: int | None = None) -> QuerySet[CareSubject]:
    """The care roster the viewer covers (grid workers their grid, community staff
    their community, street officers their street)."""
    scope = scope_of(viewer)
    qs = CareSubject.objects.select_related(*SUBJECT_RELATED).filter(is_active=True)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if scope.is_platform_admin:
        return qs
    return qs.filter(_paths_q(scope.paths_for(*VIEW_ROLES), "grid__path"))


def subject_get_for(viewer: Viewer, pk: int) -> CareSubject:
    s = CareSubject.objects.select_related(*SUBJECT_RELATED, "community").filter(pk=pk).first()
    if s is None or not can_view_subject(viewer, s):
        raise NotFound()
    return s


def my_subjects(viewer: Viewer) -> list[CareSubject]:
    """The care records of the viewer's own household (for 外出报备)."""
    hid = scope_of(viewer).household_id
    if hid is None:
        return []
    return list(
        CareSubject.objects.select_related("resident", "worker").filter(
            household_id=hid, is_active=True
        )
    )


def alerts_for(viewer: Viewer, *, states: tuple[str, ...] = OPEN_STATES) -> QuerySet[Alert]:
    scope = scope_of(viewer)
    qs = Alert.objects.select_related("household__building", "subject__resident", "device").filter(
        status__in=states
    )
    if scope.is_platform_admin:
        return qs
    see = ladder_q(viewer) | _paths_q(
        scope.paths_for(*VIEW_ROLES), "household__building__grid__path"
    )
    return qs.filter(see)


def alert_get_for(viewer: Viewer, pk: int) -> Alert:
    a = (
        Alert.objects.select_related(
            "household__building__grid",
            "community",
            "subject__resident",
            "subject__worker",
            "device",
            "acknowledged_by",
            "resolved_by",
        )
        .filter(pk=pk)
        .first()
    )
    from linli.care.states import sees_alert

    if a is None or not sees_alert(viewer, a):
        raise NotFound()
    return a


@dataclass
class Tasks:
    """The grid worker's phone list, most urgent first."""

    alerts: list[Alert]
    overdue: list[CareSubject]
    soon: list[CareSubject]
    escalated: list[CareSubject]
    held: list[Alert]
    maintenance: list[Alert]


def tasks_for(viewer: Viewer, *, now: datetime | None = None) -> Tasks:
    now = now or timezone.now()
    open_alerts = list(alerts_for(viewer).order_by("detected_at")[:200])
    mine = subjects_for(viewer)
    manager_of = community_ids(viewer, MANAGER_ROLES)
    overdue = list(mine.filter(schedule.overdue_q(now)).order_by("next_due_at")[:200])
    escalated = [
        s
        for s in overdue
        if s.community_id in manager_of
        and schedule.due_state(s.next_due_at, now=now, grace_days=_grace(s.community_id))
        == "escalated"
    ]
    return Tasks(
        alerts=[a for a in open_alerts if a.status != "held" and not a.maintenance],
        overdue=overdue,
        soon=list(mine.filter(schedule.soon_q(now)).order_by("next_due_at")[:100]),
        escalated=escalated,
        held=[a for a in open_alerts if a.status == "held"],
        maintenance=[a for a in open_alerts if a.maintenance and a.status != "held"],
    )


def _grace(community_id: int) -> int:
    return settings_for(community_id).grace_days


def due_state(subject: CareSubject, *, now: datetime | None = None) -> str:
    return schedule.due_state(
        subject.next_due_at, now=now or timezone.now(), grace_days=_grace(subject.community_id)
    )


def visits_of(subject: CareSubject, *, limit: int = 20) -> list[Visit]:
    return list(
        Visit.objects.select_related("visitor", "recorded_by")
        .filter(community_id=subject.community_id, subject_id=subject.pk)
        .order_by("-visited_at")[:limit]
    )


def devices_of_household(subject: CareSubject) -> list[Device]:
    return list(
        Device.objects.filter(community_id=subject.community_id, household_id=subject.household_id)
    )


def devices_for(viewer: Viewer, *, community_id: int) -> QuerySet[Device]:
    if community_id not in community_ids(viewer, MANAGER_ROLES):
        return Device.objects.none()
    return Device.objects.select_related("household__building", "gateway").filter(
        community_id=community_id
    )


def enrol_candidates(viewer: Viewer, *, community_id: int) -> list[Resident]:
    """Residents with a care tag who are not on the roster yet (community staff)."""
    if community_id not in community_ids(viewer, MANAGER_ROLES):
        return []
    q = Q(pk__in=[])
    for tag in CARE_TAGS:
        q |= Q(tags__contains=[tag]) if _json_contains() else Q(tags__icontains=f'"{tag}"')
    return list(
        Resident.objects.select_related("household__building", "grid")
        .filter(q, community_id=community_id, is_active=True, care__isnull=True)
        .order_by("household__building__name", "household__room")[:300]
    )


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@dataclass
class RuleRate:
    rule: str
    label: str
    total: int
    false_alarms: int
    open: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.false_alarms / self.total, 1) if self.total else None


def false_alarm_rates(viewer: Viewer, *, community_id: int) -> list[RuleRate]:
    """Per rule: resolved alerts, of which false alarms (the rate communities tune
    thresholds by), and how many are still open."""
    if community_id not in community_ids(viewer, (*MANAGER_ROLES, *VIEW_ROLES)):
        return []
    rows = (
        Alert.objects.filter(community_id=community_id)
        .values("rule")
        .annotate(
            total=Count("pk", filter=Q(status="resolved")),
            false=Count("pk", filter=Q(status="resolved", outcome="false_alarm")),
            open=Count("pk", filter=Q(status__in=OPEN_STATES)),
        )
    )
    by_rule = {r["rule"]: r for r in rows}
    out = []
    for rule, label in care_rules.RULES.items():
        r: dict[str, Any] = dict(by_rule.get(rule) or {})
        out.append(
            RuleRate(rule, str(label), r.get("total", 0), r.get("false", 0), r.get("open", 0))
        )
    return out


def staff_communities(viewer: Viewer) -> list[int]:
    return sorted(community_ids(viewer, MANAGER_ROLES))
