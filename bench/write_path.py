"""CPU per operation of three hot writes, each next to a counterpart in the same run.

`python -m bench write_path [--seconds=20] [--clients=20] [--scenario=all|submit|ledger|vote]`

Database ``linli_bench_write`` (``BENCH_DATABASE_URL`` overrides it), rebuilt each run,
plus ``linli_bench_pgbench`` for the pgbench counterparts (also rebuilt). Scenarios:

* ``submit`` — POST ``/api/v1/requests/`` with a bearer token (``api_token_issue``) through
  gunicorn (``--gunicorn-workers``, default 4 sync workers, config.settings.bench) from
  ``--clients`` client threads, vs ``GET /healthz`` on the same server in the same run.
* ``ledger`` — ``linli.ledger.services.award`` (time-bank earn) and ``hours_transfer``
  (family transfer), alternately, from ``--clients`` worker processes (set-up from
  bench/ledger_mixed.py, each worker on its own households) vs ``pgbench -b tpcb-like``
  (scale 1, ``-c clients``).
* ``vote`` — ``linli.voting.services.vote_cast`` from ``--clients`` worker processes (set-up
  from bench/voting_art278.py, ``--voters`` owners) vs a pgbench custom script doing one
  single-row INSERT into a scratch table.

Every window runs ``--seconds``. Reported per window: operations, ops/s, p50/p95 latency,
SQL statements per operation, and CPU per operation:

* app — CPU (utime+stime) of the processes that execute the operation: the gunicorn
  master+workers (from /proc/<pid>/stat); the worker processes (getrusage in each worker,
  window only); for pgbench, the pgbench client itself (getrusage of children). The HTTP
  load generator (client threads in this process) is not app CPU; it is reported as
  ``client``.
* PG — CPU of PostgreSQL processes over the window. A sampler thread reads
  /proc/<pid>/stat of every process whose comm starts with ``postgres`` every 0.1 s;
  the figure counts the backends connected to the bench databases (found by the process
  title, which names the database) plus the server's background processes (walwriter,
  checkpointer, …), so other people's sessions on the shared server are left out. A
  backend that exits in the window counts with its last sample (≤ 0.1 s missed each;
  connections are persistent here so exits are rare). As a cross-check ``pg_all`` is the
  whole cluster, exactly: live postgres processes plus the postmaster's cutime+cstime
  (reaped backends).
* ratio — (app + PG CPU per op of our write) ÷ (app + PG CPU per op of the counterpart).

``machine`` (busy CPU from /proc/stat) and ``other`` (= machine − app − pg_all − client)
show how much else was running on the 2 cores: the figures are noisy when others work.

Statements per op: for the service scenarios, each worker runs a few warm-up operations
and then captures the SQL of 5 operations with ``CaptureQueriesContext`` before the timed
window (so capture costs nothing in it); for the API, 10 in-process requests through
``django.test.Client`` with the same token. Counted are statements Django executes,
SAVEPOINT/RELEASE included, the BEGIN/COMMIT the driver sends excluded. For pgbench the
SQL commands of the script, BEGIN/END excluded (also given with them).

Results: a table on stdout and JSON in bench/results/write_path-<timestamp>.json.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_write"
PGBENCH_DB = "linli_bench_pgbench"
HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
SCENARIOS = ("submit", "ledger", "vote")


# --------------------------------------------------------------------------- options


def _opt(argv: list[str], name: str, default: Any) -> Any:
    for i, a in enumerate(argv):
        if a.startswith(f"--{name}="):
            return type(default)(a.split("=", 1)[1])
        if a == f"--{name}" and i + 1 < len(argv):
            return type(default)(argv[i + 1])
    return default


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(p * len(s) + 0.5)) - 1))]


# --------------------------------------------------------------------------- /proc


def _stat(pid: int | str) -> tuple[str, int, int, int, int] | None:
    """(comm, ppid, utime+stime, cutime+cstime, starttime) in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return (
        comm,
        int(rest[1]),
        int(rest[11]) + int(rest[12]),
        int(rest[13]) + int(rest[14]),
        int(rest[19]),
    )


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _machine_busy() -> float:
    """Busy CPU-seconds of the whole machine since boot (all cores)."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / TICK


_BACKEND = re.compile(r"^postgres: (?:[^:]+: )?(\S+) (\S+) (\S+\(\d+\)|\[local\])")


class PgSampler:
    """Follows every postgres process; cpu(db_names) gives the CPU seconds since
    ``start()`` of the backends of those databases plus background processes."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.kind: dict[tuple[int, int], str] = {}  # (pid, starttime) -> db name or "bg"
        self.base: dict[tuple[int, int], int] = {}
        self.last: dict[tuple[int, int], int] = {}
        self.stop_ev = threading.Event()
        self.thread: threading.Thread | None = None
        self.all0 = 0

    def _scan(self) -> tuple[dict[tuple[int, int], int], int]:
        """Live postgres processes → ticks, and the exact cluster-wide total."""
        seen: dict[tuple[int, int], int] = {}
        procs: dict[int, tuple[str, int, int, int, int]] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            st = _stat(name)
            if st and st[0].startswith("postgres"):
                procs[int(name)] = st
        total = 0
        for pid, (_c, ppid, ticks, cticks, start) in procs.items():
            key = (pid, start)
            seen[key] = ticks
            total += ticks
            if ppid not in procs:  # the postmaster: reaped backends' CPU is in its cutime
                total += cticks
            if key not in self.kind:
                m = _BACKEND.match(_cmdline(pid))
                self.kind[key] = m.group(2) if m else "bg"
        return seen, total

    def _loop(self) -> None:
        while not self.stop_ev.wait(self.interval):
            seen, _t = self._scan()
            with self.lock:
                for key, ticks in seen.items():
                    self.last[key] = ticks

    def start(self) -> None:
        seen, self.all0 = self._scan()
        with self.lock:
            self.base = dict(seen)
            self.last = dict(seen)
        self.stop_ev.clear()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self, dbs: set[str]) -> dict[str, float]:
        self.stop_ev.set()
        assert self.thread is not None
        self.thread.join()
        time.sleep(0.25)  # let the postmaster reap backends that just disconnected
        seen, all1 = self._scan()
        with self.lock:
            self.last.update(seen)
            ours = bg = 0
            for key, ticks in self.last.items():
                kind = self.kind.get(key, "bg")
                d = ticks - self.base.get(key, 0)
                if kind == "bg":
                    bg += d
                elif kind in dbs:
                    ours += d
        return {
            "pg": (ours + bg) / TICK,
            "pg_backends": ours / TICK,
            "pg_background": bg / TICK,
            "pg_all": (all1 - self.all0) / TICK,
        }


def _tree_ticks(root: int) -> int:
    """utime+stime of ``root`` and all its descendants (live ones)."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(name)
            if st:
                parents.setdefault(st[1], []).append(int(name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        st = _stat(pid)
        if st:
            total += st[2]
        todo.extend(parents.get(pid, []))
    return total


class Window:
    """Measures one timed window: PG CPU (sampler), machine CPU, this process's CPU."""

    def __init__(self, sampler: PgSampler, dbs: set[str]) -> None:
        self.sampler, self.dbs = sampler, dbs

    def __enter__(self) -> Window:
        self.ru0 = resource.getrusage(resource.RUSAGE_SELF)
        self.ruc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.m0 = _machine_busy()
        self.sampler.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.t0
        self.pg = self.sampler.stop(self.dbs)
        self.machine = _machine_busy() - self.m0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        ruc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.self_cpu = (ru1.ru_utime + ru1.ru_stime) - (self.ru0.ru_utime + self.ru0.ru_stime)
        self.children_cpu = (ruc1.ru_utime + ruc1.ru_stime) - (
            self.ruc0.ru_utime + self.ruc0.ru_stime
        )


def _row(
    name: str,
    *,
    w: Window,
    ops: int,
    lat_ms: list[float],
    app: float,
    client: float,
    statements: float,
    **extra: Any,
) -> dict[str, Any]:
    ops = max(ops, 1)
    r: dict[str, Any] = {
        "name": name,
        "ops": ops,
        "seconds": round(w.wall, 2),
        "ops_per_s": ops / w.wall,
        "p50_ms": _pct(lat_ms, 0.50),
        "p95_ms": _pct(lat_ms, 0.95),
        "statements_per_op": statements,
        "cpu_s": {
            "app": app,
            "pg": w.pg["pg"],
            "pg_backends": w.pg["pg_backends"],
            "pg_background": w.pg["pg_background"],
            "pg_all": w.pg["pg_all"],
            "client": client,
            "machine": w.machine,
            "other": w.machine - app - w.pg["pg_all"] - client,
        },
        "cpu_ms_per_op": {
            "app": app / ops * 1000,
            "pg": w.pg["pg"] / ops * 1000,
            "total": (app + w.pg["pg"]) / ops * 1000,
        },
    }
    r.update(extra)
    print(
        f"  {name}: {ops} ops in {w.wall:.1f}s = {r['ops_per_s']:.0f}/s, "
        f"p50 {r['p50_ms']:.1f} ms p95 {r['p95_ms']:.1f} ms, {statements:.1f} stmts/op, "
        f"CPU/op app {r['cpu_ms_per_op']['app']:.2f} ms + PG {r['cpu_ms_per_op']['pg']:.2f} ms; "
        f"machine busy {w.machine / w.wall:.2f} cores, other {r['cpu_s']['other']:.1f}s",
        flush=True,
    )
    return r


# --------------------------------------------------------------------------- pgbench


def _pgbench_bin() -> str:
    found = shutil.which("pgbench")
    return found or "/usr/lib/postgresql/15/bin/pgbench"


def _pg_conn_args(url: str) -> list[str]:
    from urllib.parse import urlparse

    u = urlparse(url)
    return [
        "-h",
        u.hostname or "127.0.0.1",
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "postgres",
    ]


def _pgbench_prepare(url: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PGBENCH_DB}"')
    subprocess.run(
        [_pgbench_bin(), "-i", "-q", "-s", "1", *_pg_conn_args(url), PGBENCH_DB],
        check=True,
        capture_output=True,
    )
    with psycopg.connect(url.rsplit("/", 1)[0] + "/" + PGBENCH_DB, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE scratch_insert (id bigserial PRIMARY KEY, a integer NOT NULL, "
            "b text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("VACUUM ANALYZE")


INSERT_SCRIPT = "\\set a random(1, 1000000)\nINSERT INTO scratch_insert (a, b) VALUES (:a, 'x');\n"


def _script_statements(text: str) -> tuple[int, int]:
    """(SQL commands excluding BEGIN/END, all SQL commands) of a pgbench script."""
    sql = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and not ln.strip().startswith(("\\", "--"))
    ]
    tx = {"begin;", "end;", "commit;"}
    return sum(1 for s in sql if s.lower() not in tx), len(sql)


def _pgbench_run(
    name: str, url: str, sampler: PgSampler, seconds: int, clients: int, builtin: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="write_path_pgbench_") as tmp:
        args = [_pgbench_bin(), *_pg_conn_args(url)]
        if builtin:
            script = subprocess.run(
                [_pgbench_bin(), f"--show-script={builtin}"], capture_output=True, text=True
            )
            text = script.stderr + script.stdout
            # The first line names the script; the rest is the script itself.
            text = "\n".join(text.splitlines()[1:])
            args += ["-b", builtin]
        else:
            text = INSERT_SCRIPT
            path = Path(tmp) / "insert.sql"
            path.write_text(text)
            args += ["-f", str(path)]
        stmts, stmts_all = _script_statements(text)
        args += [
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, os.cpu_count() or 2)),
            "-T",
            str(seconds),
            "-l",
            f"--log-prefix={tmp}/log",
            PGBENCH_DB,
        ]
        with Window(sampler, {PGBENCH_DB}) as w:
            proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {proc.stderr[-2000:]}")
        lat: list[float] = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    lat.append(int(parts[2]) / 1000)
    m = re.search(r"number of transactions actually processed: (\d+)", proc.stdout)
    ops = int(m.group(1)) if m else len(lat)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", proc.stdout)
    return _row(
        name,
        w=w,
        ops=ops,
        lat_ms=lat,
        app=w.children_cpu,  # the pgbench client (the only child that ended in the window)
        client=w.self_cpu,
        statements=stmts,
        statements_with_tx_control=stmts_all,
        pgbench_tps=float(tps.group(1)) if tps else None,
        pgbench_args=" ".join(a for a in args[1:] if not a.startswith("--log-prefix")),
    )


# --------------------------------------------------------------------------- worker windows


def _worker(
    make_op: Callable[[int, dict[str, Any]], Callable[[int], str | None]],
    idx: int,
    seconds: float,
    data: dict[str, Any],
    ready: Any,
    go: Any,
    done: Any,
    out: Any,
) -> None:
    """Warm up, capture SQL of a few ops, then run ops for ``seconds`` between barriers.
    ``op(n)`` returns a label for the statement count, or None when it has nothing
    left to do."""
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from linli.core.errors import DomainError

    connections.close_all()
    result: dict[str, Any] = {"ok": 0, "refused": 0, "errors": 0, "lat": [], "stmts": {}}
    try:
        op = make_op(idx, data)
        n = 0
        for _ in range(3):
            op(n)
            n += 1
        for _ in range(6):
            with CaptureQueriesContext(connection) as cq:
                label = op(n)
            n += 1
            if label:
                result["stmts"].setdefault(label, []).append(len(cq.captured_queries))
    except Exception as exc:  # reported; the worker still joins the barriers
        print(f"worker {idx} set-up failed: {type(exc).__name__}: {exc}", flush=True)
        op = None
    ready.wait()
    go.wait()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t_end = time.perf_counter() + seconds
    lat = result["lat"]
    while op is not None and time.perf_counter() < t_end:
        t = time.perf_counter()
        try:
            if op(n) is None:
                break
            result["ok"] += 1
        except DomainError:
            result["refused"] += 1
        except Exception as exc:
            result["errors"] += 1
            if result["errors"] <= 3:
                print(f"worker {idx} error: {type(exc).__name__}: {exc}", flush=True)
        lat.append((time.perf_counter() - t) * 1000)
        n += 1
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    out.put(result)
    done.wait()
    connections.close_all()


def _run_workers(
    name: str,
    make_op: Callable[[int, dict[str, Any]], Callable[[int], str | None]],
    data: dict[str, Any],
    sampler: PgSampler,
    dbs: set[str],
    seconds: int,
    workers: int,
) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    ready, go, done = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Barrier(workers + 1)
    q = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(make_op, i, seconds, data, ready, go, done, q))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    ready.wait()
    with Window(sampler, dbs) as w:
        go.wait()
        results = [q.get() for _p in procs]
    done.wait()
    for p in procs:
        p.join()
    stmts: dict[str, list[int]] = {}
    for r in results:
        for label, counts in r["stmts"].items():
            stmts.setdefault(label, []).extend(counts)
    per_label = {k: sum(v) / len(v) for k, v in stmts.items()}
    samples = [c for v in stmts.values() for c in v]
    ok = sum(r["ok"] for r in results)
    refused = sum(r["refused"] for r in results)
    errors = sum(r["errors"] for r in results)
    return _row(
        name,
        w=w,
        ops=ok + refused,
        lat_ms=[x for r in results for x in r["lat"]],
        app=sum(r["cpu"] for r in results),
        client=w.self_cpu,
        statements=sum(samples) / len(samples) if samples else float("nan"),
        statements_by_op=per_label,
        accepted=ok,
        refused=refused,
        errors=errors,
        workers=workers,
    )


# --------------------------------------------------------------------------- ledger


def _ledger_op(idx: int, data: dict[str, Any]) -> Callable[[int], str | None]:
    from linli.accounts.models import User
    from linli.communities.models import Resident
    from linli.ledger import services
    from linli.ledger.models import EarnKind

    admin = User.objects.get(pk=data["admin"])
    houses = [h for h in data["households"][idx :: data["workers"]] if len(h) >= 2]
    ids = [rid for h in houses for rid in h[:2]]
    res = {r.pk: r for r in Resident.objects.filter(pk__in=ids)}

    def op(n: int) -> str:
        a, b = houses[(n // 2) % len(houses)][:2]
        key = f"wp{idx}:{n}"
        if n % 2 == 0:  # earn: an hour of time-bank service, issuer → resident
            services.award(
                actor=admin,
                resident=res[a],
                kind=EarnKind.TIMEBANK_SERVICE,
                amount=60,
                idempotency_key=key,
            )
            return "earn"
        services.hours_transfer(  # half of it to a family member
            actor=admin, sender=res[a], receiver=res[b], minutes=30, idempotency_key=key
        )
        return "transfer"

    return op


def _ledger(argv: list[str], sampler: PgSampler, url: str, seconds: int, clients: int) -> list:
    from bench.ledger_mixed import _build

    t = time.perf_counter()
    data = _build(_opt(argv, "ledger-residents", 4000), 5)
    data["workers"] = clients
    print(f"ledger: built {len(data['households'])} households in {time.perf_counter() - t:.1f}s")
    ours = _run_workers(
        "ledger earn/transfer", _ledger_op, data, sampler, {_dbname(url)}, seconds, clients
    )
    _vacuum(url)
    other = _pgbench_run("pgbench tpcb-like", url, sampler, seconds, clients, "tpcb-like")
    return [ours, other]


# --------------------------------------------------------------------------- voting


def _vote_op(idx: int, data: dict[str, Any]) -> Callable[[int], str | None]:
    from linli.accounts.models import User
    from linli.voting.models import Ballot
    from linli.voting.services import vote_cast

    ballot = Ballot.objects.get(pk=data["ballot"])
    mine = data["voters"][idx :: data["workers"]]
    users = {
        u.pk: u for u in User.objects.filter(pk__in=mine).select_related("resident__household")
    }

    def op(n: int) -> str | None:
        if n >= len(mine):
            return None
        vote_cast(actor=users[mine[n]], ballot=ballot, choices=[n % 3])
        return "vote"

    return op


def _vote(argv: list[str], sampler: PgSampler, url: str, seconds: int, clients: int) -> list:
    from datetime import timedelta

    from django.utils import timezone

    from bench.voting_art278 import _build
    from linli.voting.services import ballot_create, ballot_open

    t = time.perf_counter()
    voters = _opt(argv, "voters", 12000)
    community, staff, user_ids = _build(voters)
    now = timezone.now()
    ballot = ballot_create(
        actor=staff,
        community=community,
        title="关于续聘物业服务企业的业主共同决定",
        kind="yes_no_abstain",
        options=[],
        eligibility="owners",
        validity_rule="art278",
        matter_class="ordinary",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1),
    )
    ballot = ballot_open(actor=staff, ballot=ballot)
    print(f"vote: {voters} owners and an open ballot in {time.perf_counter() - t:.1f}s")
    data = {"ballot": ballot.pk, "voters": user_ids, "workers": clients}
    ours = _run_workers("vote_cast", _vote_op, data, sampler, {_dbname(url)}, seconds, clients)
    if ours["ops"] >= voters - 9 * clients:
        print("  note: workers ran out of voters before the window ended; raise --voters")
    _vacuum(url)
    other = _pgbench_run("pgbench single INSERT", url, sampler, seconds, clients, None)
    return [ours, other]


# --------------------------------------------------------------------------- API submit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _submit(argv: list[str], sampler: PgSampler, url: str, seconds: int, clients: int) -> list:
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.accounts.services import api_token_issue
    from linli.communities.models import Resident
    from linli.core import demo
    from linli.requests.catalog import ensure_categories

    t = time.perf_counter()
    demo.load(seed=2026, households=_opt(argv, "households", 1900))
    ensure_categories()
    residents = list(
        Resident.objects.filter(user__isnull=False).select_related("household", "user")[:clients]
    )
    tokens = []
    for r in residents:
        assert r.user is not None
        _tok, key = api_token_issue(user=r.user, name="bench")
        tokens.append((key, r.household.building_id))
    print(f"submit: demo street and {len(tokens)} tokens in {time.perf_counter() - t:.1f}s")

    def body(i: int) -> tuple[bytes, str]:
        key, building = tokens[i % len(tokens)]
        payload = {
            "category": "fac-light",
            "building_id": building,
            "description": f"楼道灯坏了，晚上很黑，压测第 {i} 条",
        }
        return json.dumps(payload).encode(), key

    # Statements per request, in-process through the same URL, view and token.
    dj = Client()
    counts: dict[str, list[int]] = {"submit": [], "healthz": []}
    for i in range(13):
        data, key = body(10**6 + i)
        with CaptureQueriesContext(connection) as cq:
            resp = dj.post(
                "/api/v1/requests/",
                data=data,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
                HTTP_HOST="127.0.0.1",
            )
        assert resp.status_code == 201, (resp.status_code, resp.content[:300])
        if i >= 3:
            counts["submit"].append(len(cq.captured_queries))
        with CaptureQueriesContext(connection) as cq:
            resp = dj.get("/healthz", HTTP_HOST="127.0.0.1")
        assert resp.status_code == 200
        if i >= 3:
            counts["healthz"].append(len(cq.captured_queries))
    connections.close_all()

    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.bench", DATABASE_URL=url)
    g_workers = _opt(argv, "gunicorn-workers", 4)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(g_workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "error",
        ],
        env=env,
        cwd=str(HERE.parent),
    )
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not come up")

        def healthz(i: int) -> None:
            urllib.request.urlopen(base + "/healthz", timeout=30).read()

        def submit(i: int) -> None:
            data, key = body(i)
            req = urllib.request.Request(
                base + "/api/v1/requests/",
                data=data,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    resp.read()
                    if resp.status != 201:
                        raise RuntimeError(f"status {resp.status}")
            except urllib.error.HTTPError as exc:
                raise RuntimeError(f"{exc.code} {exc.read()[:300]!r}") from exc

        def load(fn: Callable[[int], None], secs: float) -> tuple[list[float], int]:
            lat: list[list[float]] = [[] for _ in range(clients)]
            errors = [0]
            t_end = time.perf_counter() + secs

            def client(c: int) -> None:
                i = c
                while time.perf_counter() < t_end:
                    t0 = time.perf_counter()
                    try:
                        fn(i)
                        lat[c].append((time.perf_counter() - t0) * 1000)
                    except Exception as exc:
                        errors[0] += 1
                        if errors[0] <= 3:
                            print(f"  client error: {exc}", flush=True)
                    i += clients

            with ThreadPoolExecutor(clients) as ex:
                list(ex.map(client, range(clients)))
            return [x for per in lat for x in per], errors[0]

        # Warm every gunicorn worker (app import, DB connection, caches) on both paths.
        load(healthz, 1.0)
        load(submit, 2.0)
        for name, fn, label in (
            ("API submit (gunicorn)", submit, "submit"),
            ("GET /healthz (gunicorn)", healthz, "healthz"),
        ):
            a0 = _tree_ticks(proc.pid)
            with Window(sampler, {_dbname(url)}) as w:
                lat, errors = load(fn, seconds)
            app = (_tree_ticks(proc.pid) - a0) / TICK
            rows.append(
                _row(
                    name,
                    w=w,
                    ops=len(lat),
                    lat_ms=lat,
                    app=app,
                    client=w.self_cpu,
                    statements=sum(counts[label]) / len(counts[label]),
                    errors=errors,
                    clients=clients,
                    gunicorn_workers=g_workers,
                )
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return rows


# --------------------------------------------------------------------------- main


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _code_version() -> str:
    """The commit measured, with '+dirty' when linli/ or config/ have local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "linli", "config"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("BENCH_CODE_VERSION", "unknown (not a git checkout)")
    return head + ("+dirty" if dirty else "")


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE between our window and the counterpart's (outside both windows)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _print_table(pairs: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    head = (
        f"{'scenario':<26}{'ops':>7}{'ops/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'stmt/op':>8}"
        f"{'app ms/op':>10}{'PG ms/op':>9}{'tot ms/op':>10}{'ratio':>7}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for _key, ours, other in pairs:
        ratio = ours["cpu_ms_per_op"]["total"] / other["cpu_ms_per_op"]["total"]
        ours["ratio_vs_counterpart"] = ratio
        for r, rat in ((ours, f"{ratio:7.1f}"), (other, f"{'':>7}")):
            c = r["cpu_ms_per_op"]
            print(
                f"{r['name']:<26}{r['ops']:>7}{r['ops_per_s']:>8.0f}{r['p50_ms']:>8.1f}"
                f"{r['p95_ms']:>8.1f}{r['statements_per_op']:>8.1f}{c['app']:>10.3f}"
                f"{c['pg']:>9.3f}{c['total']:>10.3f}{rat}"
            )
    print(
        "\nCPU ms/op = CPU-milliseconds per operation; ratio = (app+PG per op of our write) ÷ "
        "(app+PG per op of the counterpart below it). pgbench 'app' is the pgbench client."
    )


def main(argv: list[str]) -> int:
    seconds = _opt(argv, "seconds", 20)
    clients = _opt(argv, "clients", 20)
    which = _opt(argv, "scenario", "all")
    chosen = SCENARIOS if which == "all" else tuple(s for s in which.split(",") if s)
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        print("unknown scenario", unknown, "— choose from", ", ".join(SCENARIOS), "or all")
        return 2
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    t0 = time.perf_counter()
    url = setup(fresh=True)
    print(f"database {_dbname(url)} rebuilt and migrated in {time.perf_counter() - t0:.1f}s")
    if "ledger" in chosen or "vote" in chosen:
        _pgbench_prepare(url)
    sampler = PgSampler()
    runners = {"submit": _submit, "ledger": _ledger, "vote": _vote}
    pairs: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for key in chosen:
        print(f"\n[{key}] {seconds}s windows, {clients} clients", flush=True)
        ours, other = runners[key](argv, sampler, url, seconds, clients)
        pairs.append((key, ours, other))
    _print_table(pairs)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"write_path-{stamp}.json"
    doc = {
        "bench": "write_path",
        "at": datetime.now().isoformat(timespec="seconds"),
        "seconds": seconds,
        "clients": clients,
        "cpus": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
        "code": _code_version(),
        "database": _dbname(url),
        "pgbench_database": PGBENCH_DB,
        "scenarios": {key: {"ours": ours, "counterpart": other} for key, ours, other in pairs},
    }
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"results: {out.relative_to(HERE.parent)}")
    bad = sum(
        (r.get("errors") or 0) + (1 if r["ops"] <= 1 else 0) for _k, a, b in pairs for r in (a, b)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main(sys.argv[1:]))
