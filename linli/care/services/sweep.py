"""The periodic sweep (``manage.py care_sweep``, every few minutes, or the task worker):

1. rules over all devices — leaks on every water meter, silent devices (maintenance),
   and for households on the care roster no water use, unusual use and not seen;
2. alert escalation down the ladder when nobody acknowledged in time;
3. overdue visits told to the community after the grace period (once per due date).

At scale (100 000 meters) SQL only narrows the candidates: a window query finds the
meters with water in every interval of the last hours, a NOT EXISTS probe on the
(device, at) index finds silent devices; the verdict for each candidate is reached by
the same functions as on arrival (:mod:`linli.care.rules`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role, User
from linli.care import rules as care_rules
from linli.care import schedule
from linli.care.models import (
    Alert,
    CareSettings,
    CareSubject,
    Device,
    DeviceKind,
    Reading,
)
from linli.care.services.alerts import (
    alert_escalate,
    alert_recover,
    raise_alert,
    subject_for_household,
)
from linli.care.services.ingest import HISTORY
from linli.care.services.roster import settings_for
from linli.core.errors import DomainError
from linli.core.notify import Message
from linli.core.writes import governed_write


@dataclass
class SweepResult:
    devices_checked: int = 0
    leak_candidates: int = 0
    alerts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    recovered: int = 0
    escalated: int = 0
    visits_escalated: int = 0
    alert_ids: list[int] = field(default_factory=list)


def _settings_by_community(ids: set[int]) -> dict[int, CareSettings]:
    found = {s.community_id: s for s in CareSettings.objects.filter(community_id__in=ids)}
    return {cid: found.get(cid) or CareSettings(community_id=cid) for cid in ids}


def _leak_candidates(now: datetime, hours: int) -> list[int]:
    """Meters whose every interval in the last ``hours`` used water (a superset of the
    leaking ones: a meter leaking for longer has positive use in this shorter window)."""
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"""
        SELECT device_id FROM (
            SELECT device_id,
                   {qn("value")} - LAG({qn("value")})
                       OVER (PARTITION BY device_id ORDER BY {qn("at")}) AS d
            FROM {qn(Reading._meta.db_table)}
            WHERE kind = 'meter' AND {qn("at")} > %s AND {qn("at")} <= %s
        ) x
        WHERE d IS NOT NULL
        GROUP BY device_id
        HAVING MIN(d) > 0 AND COUNT(*) >= %s
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A day of readings sorted by (device, time) for the window function: in
            # memory rather than in temporary files (this transaction only).
            cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute(sql, [adapt(now - timedelta(hours=hours)), adapt(now), max(1, hours)])
        return [r[0] for r in cur.fetchall()]


def _silent_devices(now: datetime, hours: int, kinds: list[str]) -> list[int]:
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    since = adapt(now - timedelta(hours=hours))
    marks = ", ".join(["%s"] * len(kinds))
    sql = f"""
        SELECT d.id FROM {qn(Device._meta.db_table)} d
        WHERE d.is_active AND d.kind IN ({marks}) AND d.registered_at <= %s
          AND NOT EXISTS (
              SELECT 1 FROM {qn(Reading._meta.db_table)} r
              WHERE r.device_id = d.id AND r.{qn("at")} > %s
          )
    """  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [*kinds, since, since])
        return [r[0] for r in cur.fetchall()]


def _points(
    device_ids: list[int], since: datetime, kinds: tuple[str, ...]
) -> dict[int, list[care_rules.Point]]:
    out: dict[int, list[care_rules.Point]] = defaultdict(list)
    for i in range(0, len(device_ids), 500):
        rows = Reading.objects.filter(
            device_id__in=device_ids[i : i + 500], at__gte=since, kind__in=kinds
        ).values_list("id", "at", "value", "kind", "device_id")
        for pk, at, value, kind, device_id in rows:
            out[device_id].append(care_rules.Point(pk, at, value, kind))
    return out


def sweep_rules(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    res = SweepResult()
    devices = {
        d.pk: d
        for d in Device.objects.filter(is_active=True)
        .exclude(kind=DeviceKind.GATEWAY)
        .only("id", "community_id", "household_id", "kind", "serial", "registered_at")
    }
    res.devices_checked = len(devices)
    if not devices:
        return res
    conf = _settings_by_community({d.community_id for d in devices.values()})
    base = {cid: care_rules.thresholds_of(s) for cid, s in conf.items()}
    subjects: dict[int, CareSubject] = {}
    for s in CareSubject.objects.filter(is_active=True).select_related("worker"):
        subjects.setdefault(s.household_id, s)

    def t_for(device: Device) -> care_rules.Thresholds:
        t = base[device.community_id]
        s = subjects.get(device.household_id or 0)
        return t.with_overrides(s.overrides) if s is not None else t

    def fire(device: Device, v: care_rules.Verdict) -> None:
        subject = subjects.get(device.household_id or 0)
        if subject is not None:
            subject = subject_for_household(subject.household_id, subject.community_id)
        alert = raise_alert(device=device, verdict=v, subject=subject, now=now)
        if alert is not None:
            res.alerts[v.rule] += 1
            res.alert_ids.append(alert.pk)

    # 1. Water meters of households on the care roster: every water rule, in Python.
    watched = [
        pk
        for pk, d in devices.items()
        if d.kind == DeviceKind.WATER_METER and d.household_id in subjects
    ]
    for pk, points in _points(watched, now - HISTORY, ("meter",)).items():
        d = devices[pk]
        for v in care_rules.meter_verdicts(points, now=now, t=t_for(d), care=True):
            fire(d, v)
    # 2. Leaks on every other meter: SQL candidates, verdict in Python.
    shortest = min([t.leak_hours for t in base.values()] + [24])
    watched_set = set(watched)
    candidates = [
        pk for pk in _leak_candidates(now, shortest) if pk in devices and pk not in watched_set
    ]
    res.leak_candidates = len(candidates)
    longest = max(t.leak_hours for t in base.values())
    for pk, points in _points(candidates, now - timedelta(hours=longest + 3), ("meter",)).items():
        d = devices[pk]
        t = t_for(d)
        if "leak" in t.off:
            continue
        found = care_rules.leak(points, now=now, t=t)
        if found is not None:
            fire(d, found)
    # 3. Not seen: households on the roster with door or motion sensors.
    sensors: dict[int, list[Device]] = defaultdict(list)
    for d in devices.values():
        if d.kind in (DeviceKind.DOOR, DeviceKind.MOTION) and d.household_id in subjects:
            sensors[d.household_id or 0].append(d)
    if sensors:
        last = dict(
            Reading.objects.filter(
                device_id__in=[d.pk for ds in sensors.values() for d in ds],
                kind__in=("door", "motion"),
            )
            .values("device_id")
            .annotate(m=Max("at"))
            .values_list("device_id", "m")
        )
        for ds in sensors.values():
            t = t_for(ds[0])
            if "not_seen" in t.off:
                continue
            seen = [last[d.pk] for d in ds if d.pk in last]
            latest = max(seen) if seen else None
            point = care_rules.Point(0, latest, 1, "door") if latest else None
            unseen = care_rules.not_seen(
                point, watched_since=min(d.registered_at for d in ds), now=now, t=t
            )
            if unseen is not None:
                fire(ds[0], unseen)
    # 4. Silent devices: a maintenance task (per community threshold).
    by_hours: dict[int, list[int]] = defaultdict(list)
    for cid, t in base.items():
        by_hours[t.silent_hours].append(cid)
    for hours, cids in by_hours.items():
        for kinds, h in (
            ([DeviceKind.WATER_METER.value], hours),
            (
                [
                    k.value
                    for k in (DeviceKind.SMOKE, DeviceKind.SOS, DeviceKind.DOOR, DeviceKind.MOTION)
                ],
                max(hours, care_rules.EVENT_SILENT_HOURS),
            ),
        ):
            for pk in _silent_devices(now, h, kinds):
                dev = devices.get(pk)
                if dev is None or dev.community_id not in cids:
                    continue
                if "silent" in base[dev.community_id].off:
                    continue
                quiet = care_rules.silent(
                    None,
                    registered_at=dev.registered_at,
                    kind=dev.kind,
                    now=now,
                    t=base[dev.community_id],
                )
                if quiet is not None:
                    fire(dev, quiet)
    # A silent device that reported again closes its own maintenance task.
    for alert in Alert.objects.filter(
        rule="silent", status__in=("open", "acknowledged")
    ).select_related("subject", "household__building__grid", "community"):
        if Reading.objects.filter(device_id=alert.device_id, at__gt=alert.detected_at).exists():
            try:
                alert_recover(alert=alert, now=now)
                res.recovered += 1
            except DomainError:
                continue
    return res


def sweep_escalations(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    n = 0
    due = Alert.objects.filter(
        status="open", maintenance=False, ack_due_at__lte=now
    ).select_related(
        "subject__worker",
        "subject__volunteer",
        "subject__volunteer2",
        "household__building__grid",
        "community",
    )
    for alert in due:
        try:
            if alert_escalate(alert=alert, now=now) is not None:
                n += 1
        except DomainError:
            continue  # acknowledged meanwhile: nothing to do
    return n


def sweep_visits(*, now: datetime | None = None) -> int:
    """Overdue past the grace period: tell the community's workers (once per due)."""
    now = now or timezone.now()
    n = 0
    ids = set(
        CareSubject.objects.filter(is_active=True).values_list("community_id", flat=True).distinct()
    )
    for cid in ids:
        grace = settings_for(cid).grace_days
        late = list(
            CareSubject.objects.filter(
                schedule.escalate_q(now, grace), community_id=cid, is_active=True
            )
            .exclude(escalated_due_at=F("next_due_at"))
            .select_related("resident__household__building", "worker")
        )
        if not late:
            continue
        staff = User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(unit_id=cid, role__in=(Role.COMMUNITY_WORKER, Role.SECRETARY))
            .values("user_id")
        )
        phones = [u.phone for u in staff if u.phone]
        with governed_write(actor=None, action="care.visits_overdue", community_id=cid) as w:
            for s in late:
                CareSubject.objects.filter(pk=s.pk).update(escalated_due_at=s.next_due_at)
            w.payload = {"subjects": [s.pk for s in late], "grace_days": grace}
            body = _("【邻里关爱】%(n)d 位关爱对象走访超期超过 %(d)d 天，请督促网格员。") % {
                "n": len(late),
                "d": grace,
            }
            for p in phones:
                w.notify(Message("sms", p, _("走访超期"), body))
        n += len(late)
    return n


def sweep(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    res = sweep_rules(now=now)
    res.escalated = sweep_escalations(now=now)
    res.visits_escalated = sweep_visits(now=now)
    return res
