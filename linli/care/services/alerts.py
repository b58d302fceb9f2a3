"""Raising, acknowledging, escalating and resolving alerts.

An alert is raised by the system (arrival check or sweep). Care alerts start the
ladder: an urgent task on the grid worker's list, SMS to the grid worker and to family
contacts who agreed to be told; unacknowledged after ``ack_minutes`` the sweep moves
it one rung down (volunteer pair → community duty → street), each step logged in
``AlertStep`` and the audit chain. A household marked away gets its alerts held
(smoke and leaks excepted), a silent device gets a maintenance task (no ladder)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.care import rules as care_rules
from linli.care.ladder import RUNGS, Rung, next_step, rung
from linli.care.models import (
    OPEN_STATES,
    Alert,
    AlertStatus,
    AlertStep,
    CareSubject,
    Device,
    FamilyContact,
    Outcome,
)
from linli.care.services.roster import is_away, settings_for
from linli.care.states import ALERT
from linli.core.errors import ValidationFailed
from linli.core.masking import mask_phone
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip

CARE_OUTCOMES = (Outcome.FALSE_ALARM, Outcome.FINE, Outcome.HELPED, Outcome.EMERGENCY)
MAINTENANCE_OUTCOMES = (Outcome.REPAIRED, Outcome.FALSE_ALARM)


def _label(rule: str) -> str:
    return str(care_rules.RULES.get(rule, rule))


def _where(alert: Alert) -> str:
    return str(alert.household)


def _log_step(alert: Alert, step: int, r: Rung, now: datetime, w: Write, note: str = "") -> None:
    AlertStep.objects.create(
        community_id=alert.community_id,
        alert=alert,
        step=step,
        rung=r.name,
        at=now,
        # Who was told: names of the people on the rung, and the duty phone (masked).
        notified=[str(u) for u in r.users]
        + [mask_phone(p) for p in r.phones if p not in {u.phone for u in r.users}],
        note=note[:200],
    )
    body = _("【邻里关爱】%(where)s %(rule)s：%(summary)s。请尽快确认处理。") % {
        "where": _where(alert),
        "rule": _label(alert.rule),
        "summary": alert.summary,
    }
    for phone in dict.fromkeys(r.phones):
        w.notify(Message("sms", phone, _("关爱报警"), body))


def _start_ladder(alert: Alert, w: Write, now: datetime) -> None:
    """Step 0 (or the first rung with someone on it) and the family SMS."""
    cs = settings_for(alert.community_id)
    first = rung(alert, RUNGS[0], duty_phone=cs.duty_phone)
    step: tuple[int, Rung] | None = (
        (0, first) if not first.empty else next_step(alert, 0, duty_phone=cs.duty_phone)
    )
    if step is not None:
        _log_step(alert, step[0], step[1], now, w)
        alert.step = step[0]
    alert.ack_due_at = now + timedelta(minutes=cs.ack_minutes)
    alert.save(update_fields=["step", "ack_due_at", "updated_at"])
    if alert.subject_id is not None:
        family = FamilyContact.objects.filter(
            community_id=alert.community_id, subject_id=alert.subject_id, notify=True
        )
        body = _("【邻里关爱】您的家人（%(where)s）%(rule)s：%(summary)s。社区网格员正在处理。") % {
            "where": alert.household.building.name,
            "rule": _label(alert.rule),
            "summary": alert.summary,
        }
        for c in family:
            w.notify(Message("sms", c.phone, _("关爱报警"), body))


TIER_ORDER = {"high": 0, "alone": 1, "monthly": 2, "quarterly": 3}


def subject_for_household(household_id: int, community_id: int) -> CareSubject | None:
    """The care subject an alert of this household is about (the most watched one)."""
    return subjects_for_households({household_id}).get((community_id, household_id))


def subjects_for_households(
    household_ids: set[int],
) -> dict[tuple[int, int], CareSubject]:
    """(community, household) → the care subject its alerts are about (the most watched
    one: highest tier, then the earliest enrolled), for many households in one query."""
    best: dict[tuple[int, int], CareSubject] = {}
    if not household_ids:
        return best
    rows = CareSubject.objects.select_related("worker", "volunteer", "volunteer2").filter(
        household_id__in=household_ids, is_active=True
    )
    for s in rows:
        key = (s.community_id, s.household_id)
        held = best.get(key)
        if held is None or (TIER_ORDER.get(s.tier, 9), s.pk) < (
            TIER_ORDER.get(held.tier, 9),
            held.pk,
        ):
            best[key] = s
    return best


def raise_alert(
    *,
    device: Device,
    verdict: care_rules.Verdict,
    subject: CareSubject | None,
    now: datetime,
    repeats: int = 0,
) -> Alert | None:
    """Open an alert for ``verdict`` unless one is already open for this device and
    rule (the partial unique index decides, also between concurrent writers); then
    only ``repeats`` further triggers are counted on it. Returns the new alert or None."""
    rule = verdict.rule
    maintenance = rule in care_rules.MAINTENANCE
    if device.household_id is None:
        return None
    held = (
        not maintenance
        and rule not in care_rules.NEVER_HELD
        and (
            is_away(subject, now)
            or CareSubject.objects.filter(
                community_id=device.community_id,
                household_id=device.household_id,
                is_active=True,
                away_until__gt=now,
            ).exists()
        )
    )
    with governed_write(
        actor=None, action="care.alert_raised", community_id=device.community_id
    ) as w:
        alert = Alert(
            community_id=device.community_id,
            household_id=device.household_id,
            subject=subject if rule in care_rules.CARE_ONLY or subject is not None else None,
            device=device,
            rule=rule,
            maintenance=maintenance,
            status=AlertStatus.HELD if held else AlertStatus.OPEN,
            detected_at=now,
            summary=verdict.summary[:200],
            evidence=care_rules.evidence_json(verdict.evidence),
        )
        if not insert_or_skip(alert):
            w.record = False
            if repeats:
                Alert.objects.filter(
                    community_id=device.community_id,
                    device_id=device.pk,
                    rule=rule,
                    status__in=OPEN_STATES,
                ).update(repeats=F("repeats") + repeats)
            return None
        alert = Alert.objects.select_related(
            "household__building",
            "community",
            "subject__worker",
            "subject__volunteer",
            "subject__volunteer2",
        ).get(pk=alert.pk)
        if alert.status == AlertStatus.OPEN and not maintenance:
            _start_ladder(alert, w, now)
        w.target = alert
        w.payload = {
            "rule": rule,
            "device": device.serial,
            "held": held,
            "maintenance": maintenance,
            "readings": [p.id for p in verdict.evidence][:60],
        }
    return alert


def alert_acknowledge(*, actor: Actor, alert: Alert, now: datetime | None = None) -> Alert:
    """Only someone on the ladder may acknowledge (others: refused, nothing changed)."""
    now = now or timezone.now()

    def effects(row: Alert, w: Write) -> None:
        row.acknowledged_by = actor  # type: ignore[assignment]
        row.acknowledged_at = now
        row.ack_due_at = None

    return ALERT.apply(actor=actor, obj=alert, action="acknowledge", effects=effects)


def alert_resolve(
    *, actor: Actor, alert: Alert, outcome: str, note: str = "", now: datetime | None = None
) -> Alert:
    """Close with an outcome (false alarm, visited and fine, needed help, emergency
    services called; for a maintenance task: repaired). The outcome feeds the
    false-alarm rate per rule."""
    allowed = MAINTENANCE_OUTCOMES if alert.maintenance else CARE_OUTCOMES
    if outcome not in allowed:
        raise ValidationFailed(_("请选择处置结果。"), field="outcome")
    note = within(note, field="note", limit=300, label=_("处置说明"))
    now = now or timezone.now()

    def effects(row: Alert, w: Write) -> None:
        row.outcome, row.outcome_note = outcome, note
        row.resolved_by = actor  # type: ignore[assignment]
        row.resolved_at = now
        row.ack_due_at = None
        if row.acknowledged_at is None:
            row.acknowledged_by, row.acknowledged_at = actor, now  # type: ignore[assignment]

    return ALERT.apply(
        actor=actor, obj=alert, action="resolve", effects=effects, payload={"outcome": outcome}
    )


def alert_release(*, actor: Actor, alert: Alert, now: datetime | None = None) -> Alert:
    """A held alert is taken up now (the resident is back, or staff decide to act)."""
    now = now or timezone.now()

    def effects(row: Alert, w: Write) -> None:
        _start_ladder(row, w, now)

    return ALERT.apply(actor=actor, obj=alert, action="release", effects=effects)


def alert_escalate(*, alert: Alert, now: datetime) -> Alert | None:
    """The sweep: one rung down the ladder for an open alert past its ack deadline.
    At the last rung the deadline is cleared (everyone has been told)."""
    cs = settings_for(alert.community_id)
    result: dict[str, Any] = {}

    def effects(row: Alert, w: Write) -> None:
        if row.ack_due_at is None or row.ack_due_at > now:
            result["skipped"] = True
            w.record = False
            return
        nxt = next_step(row, row.step, duty_phone=cs.duty_phone)
        if nxt is None:
            row.ack_due_at = None
            w.payload["last_rung"] = True
            return
        step, r = nxt
        _log_step(
            row, step, r, now, w, note=_("%(m)d 分钟内无人响应，逐级上报") % {"m": cs.ack_minutes}
        )
        row.step = step
        row.ack_due_at = now + timedelta(minutes=cs.ack_minutes)
        w.payload["step"] = step
        w.payload["rung"] = r.name

    row = ALERT.apply(actor=None, obj=alert, action="escalate", effects=effects)
    return None if result.get("skipped") else row


def alert_recover(*, alert: Alert, now: datetime) -> Alert:
    """A silent device reported again: its maintenance task closes itself."""

    def effects(row: Alert, w: Write) -> None:
        row.outcome = Outcome.RECOVERED
        row.resolved_at = now

    return ALERT.apply(actor=None, obj=alert, action="recover", effects=effects)
