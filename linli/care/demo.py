"""Demo care for 阳光社区: the first grid's special-group residents on the roster of
网格员 陈晓东 (a volunteer pair, family contacts, visits — some overdue), a gateway with
water meters, smoke alarms and SOS buttons, a day of readings, and the alerts they
raise: an SOS waiting for the grid worker, 12 h without water, a leak next door, a
held alarm for a resident in hospital, and resolved alarms (one a false alarm)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.accounts.models import Role
from linli.care import services
from linli.care.models import Alert, CareSubject
from linli.care.rules import RULES
from linli.care.services.ingest import store
from linli.communities.models import Household, OrgUnit, Resident
from linli.core import ratelimit
from linli.core.demo import DemoContext

RELATIONS = ("儿子", "女儿", "侄子", "外甥女")


def _meter_day(
    serial: str, now: Any, rng: Any, *, dry_hours: int = 0, leak: bool = False
) -> list[dict[str, Any]]:
    """25 hours of half-hourly readings ending now (ordinary use: some dry half-hours)."""
    total, out = rng.randint(10_000, 90_000), []
    for i in range(51):
        at = now - timedelta(minutes=30 * (50 - i))
        dry = dry_hours and at > now - timedelta(hours=dry_hours)
        if leak:
            total += rng.randint(3, 8)
        elif not dry:
            total += rng.choice([0, 0, 0, 4, 12, 30, 60])
        out.append({"device": serial, "at": at.isoformat(), "value": total / 1000})
    return out


def seed(ctx: DemoContext) -> None:
    with ratelimit.suspended():
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    main = ctx.main
    sec = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.GRID_WORKER]
    grid = OrgUnit.objects.filter(parent=main, kind="grid").order_by("id").first()
    if grid is None:
        return
    now = timezone.now().replace(second=0, microsecond=0)
    services.settings_save(actor=sec, community=main, duty_phone="0571-88886666")
    tagged = [
        r
        for r in Resident.objects.filter(community=main, grid=grid, is_active=True)
        .select_related("grid", "household__building")
        .order_by("id")
        if {"living_alone", "empty_nest", "disabled", "left_behind_child", "low_income"}
        & set(r.tags)
    ][:14]
    alone_first = sorted(tagged, key=lambda r: ("living_alone" not in r.tags, r.pk))
    volunteers = list(
        Resident.objects.filter(community=main, user__isnull=False, birth_year__lte=1995)
        .exclude(pk__in=[r.pk for r in tagged])
        .exclude(household_id__in=[r.household_id for r in tagged])
        .select_related("user")
        .order_by("id")[:14]
    )
    subjects: list[CareSubject] = []
    for i, r in enumerate(alone_first):
        s = services.subject_enrol(
            actor=sec,
            resident=r,
            worker=worker,
            tier="high" if i == 1 else "",
            volunteer=volunteers[i].user if i < len(volunteers) else None,
            now=now - timedelta(days=40),
        )
        subjects.append(s)
        if i < 5:
            services.contact_add(
                actor=sec,
                subject=s,
                name=f"{r.name[0]}{rng.choice('明华军丽静强')}",
                relation=RELATIONS[i % len(RELATIONS)],
                phone=f"1590000{1000 + i:04d}",
                consent=True,
                consent_channel="in_person",
            )
    # Visits: most residents seen recently; the last three not for a while (overdue).
    for i, s in enumerate(subjects[:-3]):
        for k in range(1 if i % 2 else 2):
            services.visit_record(
                actor=worker,
                subject=s,
                present=True,
                checklist=["spirit", "meals", "medicine", "safety"],
                needs="希望有人帮忙买菜" if i == 2 and k == 0 else "",
                visited_at=now - timedelta(days=1 + 3 * k + i % 4, hours=2),
            )
    if len(subjects) > 4:
        services.visit_record(
            actor=ctx.users[Role.COMMUNITY_WORKER],
            subject=subjects[4],
            present=False,
            channel="phone",
            note="敲门无人应答，电话联系其女儿，在女儿家",
            visited_at=now - timedelta(hours=5),
        )
    # Devices behind one gateway.
    gw, _secret = services.device_register(
        actor=sec, community=main, kind="gateway", serial="GW-YG-01", now=now - timedelta(days=60)
    )
    readings: list[dict[str, Any]] = []
    # One set of devices per household: two people on the roster may share one flat
    # (an elderly couple), and a meter's serial is registered once.
    equipped: list[CareSubject] = []
    for s in subjects:
        if len(equipped) < 6 and s.household_id not in {e.household_id for e in equipped}:
            equipped.append(s)
    for i, s in enumerate(equipped):
        hh = Household.objects.get(pk=s.household_id)
        meter, _x = services.device_register(
            actor=sec,
            community=main,
            kind="water_meter",
            serial=f"WM-YG-{hh.pk}",
            household=hh,
            gateway=gw,
            now=now - timedelta(days=60),
        )
        readings += _meter_day(meter.serial, now, rng, dry_hours=13 if i in (0, 3) else 0)
        for kind, prefix in (("smoke", "SM"), ("sos", "SOS")):
            d, _x = services.device_register(
                actor=sec,
                community=main,
                kind=kind,
                serial=f"{prefix}-YG-{hh.pk}",
                household=hh,
                gateway=gw,
                now=now - timedelta(days=60),
            )
            readings.append(
                {"device": d.serial, "at": (now - timedelta(hours=3)).isoformat(), "kind": "beat"}
            )
    # A neighbour's meter (not on the roster) with water running all day: a leak.
    other = (
        Household.objects.filter(community=main, building__grid=grid)
        .exclude(pk__in=[s.household_id for s in subjects])
        .order_by("id")
        .first()
    )
    if other is not None:
        m, _x = services.device_register(
            actor=sec,
            community=main,
            kind="water_meter",
            serial=f"WM-YG-{other.pk}",
            household=other,
            gateway=gw,
            now=now - timedelta(days=60),
        )
        readings += _meter_day(m.serial, now, rng, leak=True)
    # Resident 4 is in hospital: away, so what their sensors raise is held.
    if len(subjects) > 3:
        services.away_set(
            actor=worker,
            subject=subjects[3],
            until=now + timedelta(days=6),
            reason="住院",
            channel="phone",
            now=now,
        )
    for k in range(0, len(readings), 500):
        store(holder=gw, items=readings[k : k + 500], now=now)
    services.sweep_rules(now=now)
    # An SOS press two minutes ago, waiting for the grid worker.
    if len(subjects) > 2:
        sos = f"SOS-YG-{subjects[2].household_id}"
        store(
            holder=gw,
            items=[{"device": sos, "at": (now - timedelta(minutes=2)).isoformat(), "kind": "sos"}],
            now=now,
        )
    # History for the false-alarm rates: yesterday's smoke alarm (cooking) and an SOS.
    if len(subjects) > 1:
        for j, (kind, outcome) in enumerate((("smoke", "false_alarm"), ("sos", "helped"))):
            serial = f"{'SM' if kind == 'smoke' else 'SOS'}-YG-{subjects[1].household_id}"
            at = now - timedelta(hours=20 - j)
            store(holder=gw, items=[{"device": serial, "at": at.isoformat(), "kind": kind}], now=at)
            a = Alert.objects.filter(device__serial=serial, rule=kind, status="open").first()
            if a is not None:
                services.alert_resolve(
                    actor=worker,
                    alert=a,
                    outcome=outcome,
                    note="炒菜油烟触发" if kind == "smoke" else "老人跌倒，已扶起送医",
                    now=at + timedelta(minutes=9),
                )
    ctx.extra["care"] = {
        "subjects": len(subjects),
        "alerts": {r: Alert.objects.filter(community=main, rule=r).count() for r in RULES},
    }
