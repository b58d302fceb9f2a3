"""Booking contention on the resource pool (资源池).

`python -m bench booking_contention --workers=20 --slots=5000 --resources=50`

Builds one community with ``--residents`` residents (default 400, each with points for
deposits) and ``--resources`` popular resources (open 07:00–22:00 every day; every
fifth asks a 5-point deposit, so the ledger path runs too), in a fresh PostgreSQL
database (``BENCH_DATABASE_URL``, default ``linli_bench_resources``). Then ``--workers``
processes try to book ``--slots`` random slots through ``linli.resources.services``:
a random resource, one of the next 3 days, a start on the quarter hour between 08:00
and 20:00, 30–120 minutes long — heavy overlap, so most attempts are refused. 10 % of
attempts repeat an earlier request with the same idempotency key (a retry).

Reports attempts/s, bookings/s, refusals and latency; then checks: zero overlapping
live bookings (SQL self-join), bookings in the table = bookings the workers were
granted, retries made nothing new, every held deposit matches a live booking and the
ledger recomputes clean. Exits 1 on any failed check.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_resources"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _build(n_residents: int, n_resources: int) -> dict[str, Any]:
    from datetime import time as dtime
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.core import ratelimit
    from linli.core.demo import _unit
    from linli.ledger import services as ledger
    from linli.ledger.models import AccountKind, Currency, TxKind
    from linli.resources import services
    from linli.resources.services import ResourceSpec

    with transaction.atomic(), ratelimit.suspended():
        city = _unit("city", "杭州市", "rb-city", None)
        district = _unit("district", "拱墅区", "rb-d", city)
        street = _unit("street", "和睦街道", "rb-s", district)
        c = _unit("community", "阳光社区", "rb-c", street)
        g = _unit("grid", "第1网格", "rb-g", c)
        pw = make_password("bench")
        sec = User.objects.create(username="bench-secretary", password=pw)
        Membership.objects.create(user=sec, role=Role.SECRETARY, unit=c)
        Building.objects.bulk_create(
            [Building(community=c, grid=g, name=f"{b + 1}幢") for b in range(20)]
        )
        bids = list(Building.objects.filter(community=c).values_list("id", flat=True))
        Household.objects.bulk_create(
            [
                Household(
                    community=c,
                    building_id=bids[h % len(bids)],
                    unit="1",
                    room=str(101 + h),
                    area_m2=Decimal("80.00"),
                    tenure="owner",
                )
                for h in range(n_residents)
            ]
        )
        hids = list(Household.objects.filter(community=c).values_list("id", flat=True))
        users = User.objects.bulk_create(
            [User(username=f"rb{i}", password=pw) for i in range(n_residents)]
        )
        Resident.objects.bulk_create(
            [
                Resident(
                    community=c,
                    grid=g,
                    household_id=hids[i],
                    name=f"居民{i}",
                    birth_year=1970,
                    phone=f"137{i:08d}",
                    user=u,
                )
                for i, u in enumerate(users)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(user=u, role=Role.RESIDENT, unit=c) for u in users]
        )
        issuer = ledger.system_account(c.pk, Currency.POINTS, AccountKind.ISSUER)
        for r in Resident.objects.filter(community=c):
            acc = ledger.resident_account(r, Currency.POINTS)
            ledger.transaction_post(
                actor=None,
                community_id=c.pk,
                currency=Currency.POINTS,
                kind=TxKind.EARN,
                legs=[ledger.Leg(issuer.pk, -1000), ledger.Leg(acc.pk, 1000)],
                idempotency_key=f"bench-seed:{r.pk}",
                rhash="seed",
            )
        hours = {d: [(dtime(7, 0), dtime(22, 0))] for d in range(7)}
        resources = [
            services.resource_create(
                actor=sec,
                community=c,
                spec=ResourceSpec(
                    kind="venue" if i % 2 else "equipment",
                    name=f"热门资源{i + 1}",
                    max_minutes=180,
                    deposit_points=5 if i % 5 == 0 else 0,
                    open_on_holidays=True,
                    hours=hours,
                ),
            ).pk
            for i in range(n_resources)
        ]
    return {"users": [u.pk for u in users], "resources": resources, "community": c.pk}


def _worker(idx: int, n: int, data: dict[str, Any], seed: int, out: Any) -> None:
    import django

    django.setup()
    from datetime import datetime, timedelta

    from django.db import connection

    from linli.accounts.models import User
    from linli.core import ratelimit
    from linli.core.calendar import LOCAL_TZ
    from linli.core.errors import Conflict, DomainError
    from linli.resources import services
    from linli.resources.models import Resource

    connection.close()
    rng = random.Random(seed)
    resources = {r.pk: r for r in Resource.objects.prefetch_related("hours")}
    users: dict[int, Any] = {}
    today = datetime.now(LOCAL_TZ).date()
    granted: list[int] = []
    done: list[tuple[int, int, datetime, datetime, str]] = []
    ok = conflict = other = retried = replay_new = 0
    lat: list[float] = []
    cpu0 = time.process_time()
    with ratelimit.suspended():
        for i in range(n):
            if done and rng.random() < 0.10:
                uid, rid, s, e, key = rng.choice(done)
                retried += 1
            else:
                uid = rng.choice(data["users"])
                rid = rng.choice(data["resources"])
                day = today + timedelta(days=rng.randint(1, 3))
                s = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(
                    minutes=8 * 60 + 15 * rng.randint(0, 48)
                )
                e = s + timedelta(minutes=30 * rng.randint(1, 4))
                key = f"w{idx}:{i}"
            if uid not in users:
                users[uid] = User.objects.get(pk=uid)
            t0 = time.perf_counter()
            try:
                b = services.booking_create(
                    actor=users[uid],
                    resource=resources[rid],
                    starts_at=s,
                    ends_at=e,
                    idempotency_key=key,
                )
            except Conflict:
                conflict += 1
            except DomainError:
                other += 1
            else:
                if key.startswith(f"w{idx}:") and key == f"w{idx}:{i}":
                    ok += 1
                    granted.append(b.pk)
                    done.append((uid, rid, s, e, key))
                elif b.pk not in granted:
                    replay_new += 1
            lat.append(time.perf_counter() - t0)
    out.put(
        {
            "ok": ok,
            "conflict": conflict,
            "other": other,
            "retried": retried,
            "replay_new": replay_new,
            "granted": granted,
            "lat": lat,
            "cpu": time.process_time() - cpu0,
        }
    )
    connection.close()


OVERLAPS = """
SELECT count(*) FROM resources_booking a JOIN resources_booking b
  ON a.community_id = b.community_id AND a.resource_id = b.resource_id AND a.id < b.id
 AND a.status IN ('requested', 'confirmed', 'checked_out')
 AND b.status IN ('requested', 'confirmed', 'checked_out')
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""


def main(argv: list[str]) -> int:
    workers = _opt(argv, "workers", 20)
    slots = _opt(argv, "slots", 5000)
    n_res = _opt(argv, "resources", 50)
    n_residents = _opt(argv, "residents", 400)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    setup(fresh=True)
    from django.db import connection, connections

    from linli.ledger.checks import recompute
    from linli.resources.models import Booking

    t0 = time.perf_counter()
    data = _build(n_residents, n_res)
    print(
        f"built {n_res} resources, {n_residents} residents in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    connections.close_all()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    per = slots // workers
    procs = [ctx.Process(target=_worker, args=(i, per, data, 7000 + i, q)) for i in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _p in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    ok = sum(r["ok"] for r in results)
    conflict = sum(r["conflict"] for r in results)
    other = sum(r["other"] for r in results)
    retried = sum(r["retried"] for r in results)
    replay_new = sum(r["replay_new"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    attempts = per * workers
    print(
        f"{workers} workers, {attempts} attempts on {n_res} resources in {wall:.1f}s: "
        f"{ok} booked, {conflict} refused as overlapping, {other} other refusals, "
        f"{retried} retries"
    )
    print(
        f"throughput: {attempts / wall:.0f} attempts/s, {ok / wall:.0f} bookings/s; "
        f"latency p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
        f"p95 {lat[int(len(lat) * 0.95)] * 1000:.1f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms"
    )
    with connection.cursor() as cur:
        cur.execute(OVERLAPS)
        overlaps = int(cur.fetchone()[0])
    in_table = Booking.objects.count()
    granted = {pk for r in results for pk in r["granted"]}
    held = Booking.objects.filter(deposit_state="held").count()
    with_deposit = Booking.objects.filter(deposit_points__gt=0).count()
    ledger = recompute()
    checks = {
        "0 overlapping live bookings": overlaps == 0,
        "bookings in table == bookings granted": in_table == ok == len(granted),
        "retries created nothing new": replay_new == 0,
        "every deposit booking holds its deposit": held == with_deposit,
        "ledger recomputes clean": ledger.ok,
    }
    cpu = sum(r["cpu"] for r in results)
    print(
        f"application CPU: {cpu * 1000 / attempts:.1f} ms per attempt "
        f"(Python side, all workers; the machine's other load does not inflate it)"
    )
    print(f"overlapping live bookings: {overlaps}")
    for name, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {name}")
    return 0 if all(checks.values()) else 1
