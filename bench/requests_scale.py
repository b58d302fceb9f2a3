"""诉求 at street scale, on PostgreSQL.

`python -m bench requests_scale --households=100000 --requests=1000000 --clients=20 --posts=2000`

1. Builds a street of ``--households`` households (the demo generator) and
   ``--requests`` historical requests over two years (5 % still open) in a fresh
   database (``BENCH_DATABASE_URL``, default ``linli_bench_requests``; ``--reuse`` keeps an
   existing one).
2. Staff queue page (secretary of 阳光社区, first page, open items) and the metrics
   selector (that community, last 90 days): p50/p95 over 40 runs each, in-process.
3. Deadline sweep over all open requests: seconds per 100 000 open items.
4. Submitting through the JSON API with ``--clients`` concurrent clients against
   gunicorn (4 sync workers) — requests/s and p50/p95 — next to a trivial view
   (``/healthz``) in the same server run; the ratio is the figure.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_requests"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(p * len(s) + 0.5)) - 1))]


def _generate(n_requests: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linli.communities.models import Building
    from linli.core.calendar import WorkCalendar
    from linli.requests import deadlines
    from linli.requests.catalog import ensure_categories
    from linli.requests.models import Category, ServiceRequest, Status
    from linli.requests.routing import route

    ensure_categories()
    rng = random.Random(7)
    cats = list(Category.objects.filter(parent__isnull=False))
    buildings = list(Building.objects.select_related("grid", "property_company", "community"))
    cal = WorkCalendar()
    now = timezone.now()
    routes: dict[tuple[int, int], Any] = {}
    batch: list[ServiceRequest] = []
    # Historical submission times: bypass auto_now_add for this bulk load only.
    field = ServiceRequest._meta.get_field("created_at")
    field.auto_now_add = False  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for i in range(n_requests):
        cat = rng.choice(cats)
        b = rng.choice(buildings)
        created = now - timedelta(days=rng.uniform(0, 730))
        key = (cat.pk, b.pk)
        if key not in routes:
            routes[key] = route(category=cat, community=b.community, building=b, grid=b.grid)
        t = routes[key]
        r = ServiceRequest(
            community_id=b.community_id,
            grid_id=b.grid_id,
            building=b,
            lat=b.lat,
            lng=b.lng,
            address=b.name,
            category=cat,
            description="楼道灯坏了，晚上很黑",
            channel=rng.choice(["app", "app", "hotline", "visit"]),
            assignee_org=t.org,
            assignee_unit=t.unit,
            status=Status.SUBMITTED,
        )
        r.response_due = created + timedelta(hours=cat.response_hours)
        r.feedback_due = cal.add_working_days(created, cat.feedback_working_days)
        if rng.random() >= 0.05 and created < now - timedelta(days=10):
            r.status = Status.CLOSED
            r.accepted_at = r.responded_at = created + timedelta(hours=rng.choice([1, 3, 8, 30]))
            r.responded_on_time = r.responded_at <= r.response_due
            r.resolved_at = r.accepted_at + timedelta(hours=rng.choice([4, 24, 72, 200]))
            r.resolved_on_time = r.resolved_at <= r.feedback_due
            r.cycle_seconds = int((r.resolved_at - created).total_seconds())
            r.closed_at = r.resolved_at
            r.rating = rng.choice([5, 5, 4, 4, 3, 2, 1, None])
        deadlines.refresh(r, now=now)
        r.created_at = created
        batch.append(r)
        if len(batch) == 20_000:
            ServiceRequest.objects.bulk_create(batch)
            batch.clear()
            print(f"  {i + 1} requests ({time.perf_counter() - t0:.0f}s)", flush=True)
    if batch:
        ServiceRequest.objects.bulk_create(batch)
    field.auto_now_add = True
    with connection.cursor() as cur:
        cur.execute("ANALYZE requests_servicerequest")


def _inprocess(argv: list[str]) -> dict[str, float]:
    from django.test import Client
    from django.utils import timezone

    from linli.accounts.models import User
    from linli.communities.models import OrgUnit
    from linli.requests.selectors import request_metrics
    from linli.requests.services import sweep_deadlines

    secretary = User.objects.get(username="secretary")
    main = OrgUnit.objects.get(code="demo-c1")
    client = Client()
    client.force_login(secretary)
    out: dict[str, float] = {}
    times = []
    for _ in range(40):
        t = time.perf_counter()
        r = client.get("/requests/desk/", HTTP_HOST="127.0.0.1")
        assert r.status_code == 200, r.status_code
        times.append((time.perf_counter() - t) * 1000)
    out["queue_p50_ms"], out["queue_p95_ms"] = statistics.median(times), _pct(times, 0.95)
    times = []
    now = timezone.now()
    for _ in range(40):
        t = time.perf_counter()
        request_metrics(viewer=secretary, community=main, start=now - timedelta(days=90), end=now)
        times.append((time.perf_counter() - t) * 1000)
    out["metrics_p50_ms"], out["metrics_p95_ms"] = statistics.median(times), _pct(times, 0.95)
    from linli.requests.models import OPEN_STATUSES, ServiceRequest

    n_open = ServiceRequest.objects.filter(status__in=list(OPEN_STATUSES)).count()
    t = time.perf_counter()
    res = sweep_deadlines(now=now + timedelta(days=1))
    dt = time.perf_counter() - t
    out["open_items"] = n_open
    out["sweep_s"] = dt
    out["sweep_s_per_100k_open"] = dt / max(1, n_open) * 100_000
    out["sweep_escalated"] = res.escalated
    return out


def _http(argv: list[str], url: str) -> dict[str, float]:
    from linli.accounts.models import User
    from linli.communities.models import Resident

    clients, posts = _opt(argv, "clients", 20), _opt(argv, "posts", 2000)
    residents = list(
        Resident.objects.filter(user__isnull=False).select_related("user", "household")[:clients]
    )
    # API clients authenticate with bearer tokens, as the residents' app would.
    from linli.accounts.services import api_token_issue

    tokens = []
    for r in residents:
        _token, key = api_token_issue(user=User.objects.get(pk=r.user_id), name="bench")
        tokens.append((key, r.household.building_id))
    import socket

    with socket.socket() as sock:  # a free port: other benches may run at the same time
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
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "error",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)

        def run(fn: Any) -> tuple[float, float, float]:
            lat: list[float] = []
            t0 = time.perf_counter()
            with ThreadPoolExecutor(clients) as ex:
                lat = list(ex.map(fn, range(posts)))
            wall = time.perf_counter() - t0
            return posts / wall, statistics.median(lat), _pct(lat, 0.95)

        def trivial(i: int) -> float:
            t = time.perf_counter()
            urllib.request.urlopen(base + "/healthz", timeout=30).read()
            return (time.perf_counter() - t) * 1000

        def submit(i: int) -> float:
            key, building = tokens[i % len(tokens)]
            body = json.dumps(
                {
                    "category": "fac-light",
                    "building_id": building,
                    "description": f"楼道灯坏了，压测第 {i} 条",
                }
            ).encode()
            req = urllib.request.Request(
                base + "/api/v1/requests/",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    assert resp.status == 201
            except urllib.error.HTTPError as exc:
                raise RuntimeError(f"{exc.code} {exc.read()[:300]!r}") from exc
            return (time.perf_counter() - t) * 1000

        triv = run(trivial)
        sub = run(submit)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    return {
        "trivial_rps": triv[0],
        "trivial_p50_ms": triv[1],
        "trivial_p95_ms": triv[2],
        "submit_rps": sub[0],
        "submit_p50_ms": sub[1],
        "submit_p95_ms": sub[2],
        "ratio_rps": sub[0] / triv[0],
    }


def main(argv: list[str]) -> int:
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    url = setup(fresh="--reuse" not in argv)
    from linli.requests.models import ServiceRequest

    if not ServiceRequest.objects.exists():
        from linli.core import demo

        households, n_requests = (
            _opt(argv, "households", 100_000),
            _opt(argv, "requests", 1_000_000),
        )
        t = time.perf_counter()
        demo.load(households=households)
        print(f"street of {households} households in {time.perf_counter() - t:.0f}s", flush=True)
        t = time.perf_counter()
        _generate(n_requests)
        print(f"{n_requests} requests in {time.perf_counter() - t:.0f}s", flush=True)
    figures: dict[str, float] = {}
    if "--no-inprocess" not in argv:
        figures = _inprocess(argv)
        print(figures, flush=True)
    if "--no-http" not in argv:
        figures |= _http(argv, url)
    for k, v in figures.items():
        print(f"  {k:<24} {v:,.2f}" if isinstance(v, float) else f"  {k:<24} {v}")
    return 0
