"""Participatory budgeting at city scale, and the fund's quarterly disclosure.

``.venv/bin/python -m bench pb_equal_shares [--voters=20000] [--projects=60]
[--workers=20]`` (database ``linli_bench_projects``, rebuilt each
run; set BENCH_DATABASE_URL to use another).

1. A community with ``voters`` residents (one household each, with accounts), a
   programme with ``projects`` shortlisted projects and approval ballots (k = 10).
2. ``workers`` processes cast one ballot per resident through
   ``linli.projects.services.ballot_cast`` (the product's path: permission, share lock
   on the programme, one INSERT … ON CONFLICT per ballot, choices, audit event); each
   voter approves 1–8 projects with a skewed popularity (a few favourites, a long
   tail), as in real PB data. Then 200 voters try again: every retry must be refused.
   Reported: ballots/s, latency, duplicates (must be 0).
3. Allocation on the stored ballots: greedy by votes, Equal Shares with completion
   (target < 10 s), and the effective-support explanation.

The fund's quarterly disclosure at 10 000 movements is ``bench/projects_disclosure.py``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_projects"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _build(n_voters: int, n_projects: int) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.core import ratelimit
    from linli.core.demo import _unit
    from linli.projects import services
    from linli.projects.models import PBProject

    with transaction.atomic(), ratelimit.suspended():
        city = _unit("city", "杭州市", "pb-city", None)
        district = _unit("district", "拱墅区", "pb-d", city)
        street = _unit("street", "和睦街道", "pb-s", district)
        c = _unit("community", "阳光社区", "pb-c", street)
        g = _unit("grid", "第1网格", "pb-g", c)
        pw = make_password("bench")
        sec = User.objects.create(username="pb-secretary", password=pw)
        worker = User.objects.create(username="pb-worker", password=pw)
        expert = User.objects.create(username="pb-expert", password=pw)
        Membership.objects.create(user=sec, role=Role.SECRETARY, unit=c)
        Membership.objects.create(user=worker, role=Role.COMMUNITY_WORKER, unit=c)
        Building.objects.bulk_create(
            [Building(community=c, grid=g, name=f"{b + 1}幢") for b in range(-(-n_voters // 48))]
        )
        bids = list(
            Building.objects.filter(community=c).order_by("id").values_list("id", flat=True)
        )
        Household.objects.bulk_create(
            [
                Household(
                    community=c,
                    building_id=bids[h // 48],
                    unit="1",
                    room=str(h % 48 + 101),
                    area_m2=Decimal("80.00"),
                    tenure="owner",
                )
                for h in range(n_voters)
            ],
            batch_size=5000,
        )
        hids = list(
            Household.objects.filter(community=c).order_by("id").values_list("id", flat=True)
        )
        users = User.objects.bulk_create(
            [User(username=f"pb-v{i}", password="!") for i in range(n_voters)], batch_size=5000
        )
        Resident.objects.bulk_create(
            [
                Resident(
                    community=c,
                    grid=g,
                    household_id=hids[i],
                    name=f"居民{i}",
                    birth_year=1950 + i % 50,
                    user_id=users[i].pk,
                    phone=f"1{i:010d}",
                )
                for i in range(n_voters)
            ],
            batch_size=5000,
        )
        Membership.objects.bulk_create(
            [Membership(user_id=u.pk, role=Role.RESIDENT, unit=c) for u in users], batch_size=5000
        )
        now = timezone.now()
        prog = services.programme_create(
            actor=sec,
            community=c,
            title="基准测试 社区营造",
            description="bench",
            budget_yuan="2000000",
            ballot_kind="approval",
            max_choices=10,
            unit="resident",
            method="mes",
            criteria=[("需求", 1)],
            dates=services.Dates(
                now - timedelta(days=3),
                now - timedelta(days=2),
                now - timedelta(hours=1),
                now + timedelta(days=1),
            ),
        )
        services.reviewer_add(actor=sec, programme=prog, user=expert, title="规划师")
        services.programme_advance(actor=sec, programme=prog, action="open_proposals")
        prog.refresh_from_db()
        proposer = User.objects.get(pk=users[0].pk)
        rng = random.Random(7)
        for j in range(n_projects):
            services.pb_project_submit(
                actor=proposer,
                programme=prog,
                title=f"项目{j + 1}",
                description="bench",
                cost_yuan=str(rng.choice([20, 40, 60, 80, 120, 200, 300, 500]) * 1000),
                building_id=bids[j % len(bids)],
            )
        services.programme_advance(actor=sec, programme=prog, action="start_review")
        prog.refresh_from_db()
        crit = prog.criteria.get()
        for p in PBProject.objects.filter(programme=prog):
            services.score_submit(actor=expert, project=p, scores={crit.pk: 8})
        services.programme_advance(actor=sec, programme=prog, action="open_voting")
    ids = list(PBProject.objects.filter(programme=prog).order_by("pk").values_list("pk", flat=True))
    return {
        "programme": prog.pk,
        "community": c.pk,
        "users": [u.pk for u in users],
        "projects": ids,
        "sec": sec.pk,
        "worker": worker.pk,
    }


def _choices(rng: random.Random, projects: list[int]) -> list[int]:
    # Popularity skew: project i is picked with weight 1/(i+1)^0.8.
    weights = [1 / (i + 1) ** 0.8 for i in range(len(projects))]
    n = rng.randint(1, 8)
    out: set[int] = set()
    while len(out) < n:
        out.add(rng.choices(projects, weights)[0])
    return sorted(out)


def _voter(idx: int, user_ids: list[int], data: dict[str, Any], q: Any) -> None:
    from django.db import connection

    from linli.accounts.models import User
    from linli.core import ratelimit
    from linli.core.errors import DomainError
    from linli.projects import services
    from linli.projects.models import Programme

    prog = Programme.objects.get(pk=data["programme"])
    rng = random.Random(idx)
    ok = refused = 0
    lat: list[float] = []
    with ratelimit.suspended():
        for uid in user_ids:
            user = User.objects.get(pk=uid)
            t0 = time.perf_counter()
            try:
                services.ballot_cast(
                    actor=user, programme=prog, project_ids=_choices(rng, data["projects"])
                )
                ok += 1
            except DomainError:
                refused += 1
            lat.append(time.perf_counter() - t0)
    q.put({"ok": ok, "refused": refused, "lat": lat})
    connection.close()


def main(argv: list[str]) -> int:
    n_voters = _opt(argv, "voters", 20_000)
    n_projects = _opt(argv, "projects", 60)
    workers = _opt(argv, "workers", 20)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    setup(fresh=True)
    from django.db import connections

    t0 = time.perf_counter()
    data = _build(n_voters, n_projects)
    print(
        f"built {n_voters} voters, {n_projects} projects in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )

    # --- ballots through the service layer, in parallel
    connections.close_all()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    users = data["users"]
    shards = [users[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=_voter, args=(i, shards[i], data, q)) for i in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _p in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    ok = sum(r["ok"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    print(
        f"{workers} workers cast {ok} ballots in {wall:.1f}s: {ok / wall:.0f} ballots/s; "
        f"latency p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms; "
        f"refused {sum(r['refused'] for r in results)}",
        flush=True,
    )

    from django.db.models import Count

    from linli.accounts.models import User
    from linli.core import ratelimit
    from linli.core.errors import DomainError
    from linli.projects import allocation as alloc
    from linli.projects import services
    from linli.projects.models import PBBallot, Programme
    from linli.projects.services.pb import election_data

    prog = Programme.objects.get(pk=data["programme"])
    retry_refused = 0
    rng = random.Random(99)
    with ratelimit.suspended():
        for uid in rng.sample(users, min(200, len(users))):
            try:
                services.ballot_cast(
                    actor=User.objects.get(pk=uid), programme=prog, project_ids=data["projects"][:1]
                )
            except DomainError:
                retry_refused += 1
    dups = (
        PBBallot.objects.filter(programme=prog)
        .values("resident_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    total = PBBallot.objects.filter(programme=prog).count()
    print(
        f"ballots stored {total}, duplicates {dups}, second attempts refused {retry_refused}/200",
        flush=True,
    )

    # --- allocation
    t0 = time.perf_counter()
    items, ballots = election_data(prog)
    print(f"loaded {len(ballots)} ballots in {time.perf_counter() - t0:.2f}s", flush=True)
    t0 = time.perf_counter()
    g = alloc.greedy(items, ballots, prog.budget_fen)
    t_g = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = alloc.equal_shares(items, ballots, prog.budget_fen, effective_support=False)
    t_m = time.perf_counter() - t0
    t0 = time.perf_counter()
    alloc.equal_shares(items, ballots, prog.budget_fen, effective_support=True)
    t_me = time.perf_counter() - t0
    comp = alloc.compare(items, ballots, [g, m])
    print(
        f"greedy {t_g:.2f}s ({len(g.funded)} funded, {g.spent / 100:.0f} yuan); "
        f"Equal Shares with completion {t_m:.2f}s "
        f"({len(m.funded)} funded, {m.spent / 100:.0f} yuan); "
        f"with effective support for every project {t_me:.2f}s; "
        f"voters with >=1 funded: greedy {comp.satisfied['greedy']}, MES {comp.satisfied['mes']}",
        flush=True,
    )

    failed = dups != 0 or retry_refused != min(200, len(users)) or t_m >= 10
    failed = failed or m.spent > prog.budget_fen or g.spent > prog.budget_fen
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
