"""Sensor intake at street scale (智能水表), on PostgreSQL, through the HTTP endpoint.

`python -m bench care_ingest --households=100000 --gateways=20 --batch=500 --server-workers=4`

1. A fresh database (``BENCH_DATABASE_URL``, default ``linli_bench_care``) with a street
   of ``--households`` households (communities of 1 200, one grid each, 24 households a
   building), a water meter in each and ``--gateways`` gateways, each with its own
   secret and an equal share of the meters.
2. A day of readings (every 30 min → 48 per meter; 4.8 M for 100 000 meters; the
   previous day's last reading is stored beforehand as history) posted by
   the gateways at the same time (one client thread each) to ``/api/v1/care/ingest`` on
   gunicorn (``--server-workers`` sync workers), ``--batch`` readings per signed request.
   50 households go silent half-way through the day, 20 leak (water in every half-hour);
   every other meter has dry half-hours. Reports readings/s and the time a day takes.
3. 0 lost, 0 duplicated: the table holds exactly the readings sent; then ``--resend``
   batches are posted again (a gateway retrying) and must add nothing.
4. The rule sweep over all meters (``linli.care.services.sweep_rules``): seconds, and
   the alerts must be exactly the planted leaks and silent meters.
Exits 1 if any check fails.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_care"
HALF = timedelta(minutes=30)
SILENT, LEAKS = 50, 20


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _build(households: int, gateways: int) -> tuple[list[tuple[str, str, list[str]]], Any]:
    """Tenancy, meters and gateways by bulk insert. Returns [(gateway serial, secret,
    meter serials)] and the community list."""
    from django.db import transaction
    from django.utils import timezone

    from linli.care.models import Device
    from linli.care.services.devices import device_secret
    from linli.communities.models import Building, Household, OrgUnit

    def unit(kind: str, name: str, code: str, parent: OrgUnit | None) -> OrgUnit:
        u = OrgUnit.objects.create(kind=kind, name=name, code=code, parent=parent, path="")
        u.path = f"{parent.path if parent else '/'}{u.pk}/"
        OrgUnit.objects.filter(pk=u.pk).update(path=u.path)
        return u

    reg = timezone.now() - timedelta(days=30)
    with transaction.atomic():
        city = unit("city", "基准市", "b-city", None)
        district = unit("district", "基准区", "b-d", city)
        street = unit("street", "基准街道", "b-s", district)
        per = 1200
        communities, meters = [], []
        n_comm = (households + per - 1) // per
        for c in range(n_comm):
            comm = unit("community", f"社区{c + 1}", f"b-c{c}", street)
            grid = unit("grid", "第1网格", f"b-g{c}", comm)
            communities.append(comm)
            size = min(per, households - c * per)
            blds = Building.objects.bulk_create(
                [
                    Building(community=comm, grid=grid, name=f"{b + 1}幢")
                    for b in range((size + 23) // 24)
                ]
            )
            hhs = Household.objects.bulk_create(
                [
                    Household(
                        community=comm,
                        building=blds[h // 24],
                        unit="1",
                        room=f"{h % 24 + 101}",
                        area_m2=80,
                        tenure="owner",
                    )
                    for h in range(size)
                ],
                batch_size=2000,
            )
            meters += [(comm.pk, hh.pk) for hh in hhs]
        gws = Device.objects.bulk_create(
            [
                Device(
                    community=communities[g * len(communities) // gateways],
                    kind="gateway",
                    serial=f"GW-{g:03d}",
                    secret_nonce=f"n{g}",
                    registered_at=reg,
                )
                for g in range(gateways)
            ]
        )
        devices = [
            Device(
                community_id=cid,
                household_id=hid,
                gateway=gws[i % gateways],
                kind="water_meter",
                serial=f"WM-{i:06d}",
                secret_nonce="-",
                registered_at=reg,
            )
            for i, (cid, hid) in enumerate(meters)
        ]
        Device.objects.bulk_create(devices, batch_size=5000)
    out = []
    for g, gw in enumerate(gws):
        out.append((gw.serial, device_secret(gw), [d.serial for d in devices[g::gateways]]))
    return out, communities


def main(argv: list[str]) -> int:  # noqa: PLR0915 - one linear scenario
    households = _opt(argv, "households", 100_000)
    n_gw = _opt(argv, "gateways", 20)
    batch = _opt(argv, "batch", 500)
    server_workers = _opt(argv, "server-workers", 4)
    resend = _opt(argv, "resend", 40)
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    os.environ["BENCH_DATABASE_URL"] = url
    from bench._django import setup

    setup(fresh=True)
    from django.db import connection

    from linli.care.models import Alert, Reading
    from linli.care.services import sign, sweep_rules

    t0 = time.perf_counter()
    gws, _communities = _build(households, n_gw)
    print(
        f"set-up: {households} households, meters and {n_gw} gateways "
        f"in {time.perf_counter() - t0:.1f}s"
    )

    rng = random.Random(13)
    all_meters = [m for _g, _s, ms in gws for m in ms]
    planted = rng.sample(all_meters, SILENT + LEAKS)
    silent, leaks = set(planted[:SILENT]), set(planted[SILENT:])
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    start = end - 47 * HALF
    times = [(start + k * HALF).isoformat() for k in range(48)]

    def series(serial: str) -> list[int]:
        """The meter index (litres) at each of the day's 48 half-hours."""
        r = random.Random(serial)
        total, out = r.randint(0, 900_000), []
        leak = serial in leaks
        for k in range(48):
            if leak:
                total += r.randint(2, 9)
            elif k not in (5, 30):  # every normal meter has dry half-hours
                total += r.choice((0, 0, 0, 3, 8, 20, 45))
            out.append(total)
        return out

    # Each gateway sends its meters' readings in time order (as a real gateway does
    # every half-hour); a silent meter stops after half the day.
    def payloads(meters: list[str]) -> Any:
        values = {m: series(m) for m in meters}
        pending: list[dict[str, Any]] = []
        for k in range(48):
            for m in meters:
                if m in silent and k >= 24:
                    continue
                pending.append({"device": m, "at": times[k], "value": values[m][k] / 1000})
                if len(pending) == batch:
                    yield pending
                    pending = []
        if pending:
            yield pending

    # Yesterday's last reading of every meter is already stored (the system has been
    # running): with it, today's 48 half-hourly readings cover a full 24 hours.
    from linli.care.models import Device

    ids = dict(Device.objects.filter(kind="water_meter").values_list("serial", "id"))
    cids = dict(Device.objects.filter(kind="water_meter").values_list("serial", "community_id"))
    history = [
        Reading(
            community_id=cids[m],
            device_id=ids[m],
            at=start - HALF,
            value=series(m)[0] - 1,
            kind="meter",
        )
        for m in all_meters
    ]
    Reading.objects.bulk_create(history, batch_size=5000)
    expected = len(history) + sum(24 if m in silent else 48 for m in all_meters)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.bench", DATABASE_URL=url)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(server_workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "error",
            "--timeout",
            "120",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    sent = dict(accepted=0, duplicates=0, requests=0)
    lock = threading.Lock()
    kept: list[tuple[str, str, bytes]] = []

    def post(serial: str, secret: str, raw: bytes) -> dict[str, Any]:
        for attempt in range(5):
            ts = str(int(time.time()))
            req = urllib.request.Request(  # noqa: S310 - our own loopback server
                f"{base}/api/v1/care/ingest",
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Device": serial,
                    "X-Timestamp": ts,
                    "X-Signature": sign(secret, ts, raw),
                },
            )
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
                    return dict(json.loads(resp.read()))
            except urllib.error.HTTPError as exc:
                if exc.code == 409 and attempt < 4:  # same second, same body: sign again
                    time.sleep(1.1)
                    continue
                raise
        raise RuntimeError("unreachable")

    def gateway(serial: str, secret: str, meters: list[str]) -> None:
        try:
            for i, readings in enumerate(payloads(meters)):
                raw = json.dumps({"readings": readings}).encode()
                r = post(serial, secret, raw)
                with lock:
                    sent["accepted"] += r["accepted"]
                    sent["duplicates"] += r["duplicates"]
                    sent["requests"] += 1
                    if i % 37 == 0 and len(kept) < resend:
                        kept.append((serial, secret, raw))
        except Exception as exc:  # reported, and the run fails
            failures.append(f"{serial}: {exc!r}")

    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=gateway, args=g) for g in gws]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rate = sent["accepted"] / wall if wall else 0
        day = households * 48
        print(
            f"ingest: {sent['accepted']} readings in {sent['requests']} requests "
            f"from {n_gw} gateways, "
            f"{wall:.1f}s → {rate:.0f} readings/s; a day of {households} meters ({day} readings) "
            f"≈ {day / rate / 60:.1f} min at this rate (target < 10 min)"
        )
        # A gateway retrying earlier batches: nothing new may be stored.
        before = Reading.objects.count()
        again = [post(s, k, raw) for s, k, raw in kept]
        added = sum(r["accepted"] for r in again)
        print(
            f"resend: {len(kept)} batches again → accepted {added}, "
            f"duplicates {sum(r['duplicates'] for r in again)}"
        )
        if added or Reading.objects.count() != before:
            failures.append("a resent batch stored readings twice")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    # Per meter: exactly yesterday's reading plus the day's (49, or 25 for a meter that
    # went silent). One hash aggregate; with the unique (device, time) index this shows
    # nothing was lost and nothing stored twice.
    stored = Reading.objects.count()
    want_per = {ids[m]: (25 if m in silent else 49) for m in all_meters}
    with connection.cursor() as cur:
        cur.execute("SELECT device_id, COUNT(*) FROM care_reading GROUP BY device_id")
        got_per = dict(cur.fetchall())
    wrong = [d for d, n in want_per.items() if got_per.get(d) != n]
    print(f"stored {stored}, expected {expected}; meters with a wrong count: {len(wrong)}")
    if stored != expected or wrong:
        failures.append(f"lost or duplicated readings: stored {stored} != expected {expected}")
    with connection.cursor() as cur:
        cur.execute("ANALYZE care_reading")
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('care_reading'))")
        print(f"care_reading size with indexes: {cur.fetchone()[0]}")

    now = end + timedelta(minutes=5)
    t0 = time.perf_counter()
    res = sweep_rules(now=now)
    took = time.perf_counter() - t0
    found = {(d, r) for d, r in Alert.objects.values_list("device__serial", "rule")}
    want = {(m, "leak") for m in leaks} | {(m, "silent") for m in silent}
    print(
        f"sweep: {res.devices_checked} meters in {took:.1f}s (target < 60 s); "
        f"leak candidates {res.leak_candidates}; alerts {dict(res.alerts)}"
    )
    if found != want:
        missed, extra = want - found, found - want
        failures.append(
            f"sweep: missed {len(missed)} {sorted(missed)[:5]}, "
            f"extra {len(extra)} {sorted(extra)[:5]}"
        )
    else:
        print(f"sweep found all {LEAKS} leaks and {SILENT} silent meters, no others")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0
