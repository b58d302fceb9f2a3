"""Assessment at district scale (issue "Assessment", SPEC §8), on PostgreSQL.

``BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_bench_assessment
.venv/bin/python -m bench assessment_district [--streets=20] [--communities=10]
[--requests=2000000] [--votes=200000] [--answers=100000] [--months=24]``
(the database is rebuilt each run; ``--reuse`` measures a database left by a run).

Builds one district of ``streets × communities`` communities (3 grids, 20 buildings and
300 adult residents each) with ``months`` of generated activity, written by SQL
(``INSERT … SELECT generate_series``: the rows the services would leave, not the
services themselves — their write speed has its own benches):

* requests spread over the months and buildings, with response/resolution times,
  ratings (60 %), disputes, and the timeline rows of their closing (rated ones closed
  by the resident, the rest by the auto-close);
* votes: ballots per community, a roll entry and a vote per voter;
* survey answers: a monthly satisfaction survey per community with its participations
  and the tallies the surveys app keeps.
Ledger entries are not generated: no assessment indicator reads the ledger.

Then measures:
1. the first build of the request day rows (``requests.stats.refresh``) — in
   production the deadline sweep keeps them current; reported, not part of 2;
2. the monthly snapshot task for the whole district (target < 5 min), then the
   backfill of the other months (for the trend lines);
3. dashboard pages from the snapshots (district, street, community, grid, building,
   public card), 20 requests each: p50/p95 (target p95 < 300 ms);
4. the street's A4 PDF report (target < 5 s) and Excel workbook.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_assessment"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _insert_select(
    model: Any, source: str, exprs: dict[str, str], params: list[Any] | None = None
) -> int:
    """``INSERT INTO <model> (...) SELECT ... FROM <source>``: every NOT NULL column
    without an expression gets the field's default."""
    from django.db import connection

    cols: list[str] = []
    vals: list[str] = []
    defaults: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        name = f.attname
        if name in exprs or f.name in exprs:
            cols.append(f.column)
            vals.append(exprs.get(name, exprs.get(f.name, "")))
            continue
        if f.null:
            continue
        default = f.get_default()
        if default is None and f.get_internal_type() in ("DateTimeField",):
            vals.append("now()")
        elif isinstance(default, (dict, list)):
            vals.append("%s::jsonb")
            defaults.append(json.dumps(default))
        else:
            vals.append("%s")
            defaults.append(default)
        cols.append(f.column)
    # Expressions may carry their own %s; defaults are appended in column order.
    ordered: list[Any] = []
    d = iter(defaults)
    p = iter(params or [])
    for v in vals:
        n = v.count("%s")
        src = d if v in ("%s", "%s::jsonb") else p
        ordered.extend(next(src) for _ in range(n))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "  # noqa: S608 - bench
        f"SELECT {', '.join(vals)} FROM {source}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, ordered)
        return int(cur.rowcount)


def _build(
    streets: int, per_street: int, n_requests: int, n_votes: int, n_answers: int, months: int
) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, OrgUnit, Resident
    from linli.core.demo import _unit
    from linli.requests.catalog import ensure_categories
    from linli.requests.models import Category, RequestEvent, ServiceRequest
    from linli.surveys.models import Participation, Question, Survey, Tally
    from linli.voting.models import Ballot, BallotVoter, Vote

    ensure_categories()
    t0 = time.perf_counter()
    city = _unit("city", "基准市", "b-city", None)
    district = _unit("district", "基准区", "b-d", city)
    comms: list[OrgUnit] = []
    with transaction.atomic():
        for s in range(streets):
            st = _unit("street", f"街道{s + 1}", f"b-s{s}", district)
            for c in range(per_street):
                comm = _unit("community", f"社区{s + 1}-{c + 1}", f"b-c{s}-{c}", st)
                comms.append(comm)
                grids = [_unit("grid", f"网格{g + 1}", f"b-g{s}-{c}-{g}", comm) for g in range(3)]
                bs = Building.objects.bulk_create(
                    [
                        Building(
                            community=comm,
                            grid=grids[i % 3],
                            name=f"{i + 1}幢",
                            lat=30.3 + (i // 5) * 0.0008,
                            lng=120.1 + (i % 5) * 0.0009,
                        )
                        for i in range(20)
                    ]
                )
                hh = Household.objects.bulk_create(
                    [
                        Household(
                            community=comm,
                            building=bs[i % 20],
                            room=f"{100 + i}",
                            area_m2=80,
                            tenure="owner",
                        )
                        for i in range(150)
                    ]
                )
                Resident.objects.bulk_create(
                    [
                        Resident(
                            community=comm,
                            grid_id=hh[i % 150].building.grid_id,
                            household=hh[i % 150],
                            name=f"居民{i}",
                            birth_year=1950 + i % 50,
                        )
                        for i in range(300)
                    ]
                )
        officer = User.objects.create(
            username="b-admin", password=make_password("x"), is_superuser=True
        )
        Membership.objects.create(user=officer, role=Role.PLATFORM_ADMIN, unit=city)
    print(f"  roster: {len(comms)} communities in {time.perf_counter() - t0:.1f}s", flush=True)
    leaves = list(Category.objects.filter(parent__isnull=False).values_list("pk", "parent__code"))
    cat_ids = [pk for pk, _p in leaves]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_map; DROP TABLE IF EXISTS bench_res")
        cur.execute(
            "CREATE TABLE bench_map AS SELECT row_number() OVER (ORDER BY b.id) - 1 AS idx, "
            "b.community_id, b.grid_id, b.id AS building_id FROM communities_building b "
            "JOIN communities_orgunit c ON c.id = b.community_id WHERE c.code LIKE 'b-c%%'"
        )
        cur.execute(
            "CREATE TABLE bench_res AS SELECT community_id, id AS resident_id, "
            "row_number() OVER (PARTITION BY community_id ORDER BY id) - 1 AS k "
            "FROM communities_resident"
        )
        cur.execute("CREATE INDEX ON bench_map (idx); CREATE INDEX ON bench_res (community_id, k)")
        cur.execute("SELECT count(*) FROM bench_map")
        n_map = cur.fetchone()[0]
    now = timezone.now()
    first = (now.date().replace(day=1) - timedelta(days=months * 31)).replace(day=1)
    span = int(
        (
            timezone.datetime.combine(now.date().replace(day=1), timezone.datetime.min.time())
            - timezone.datetime.combine(first, timezone.datetime.min.time())
        ).total_seconds()
    )
    start_sql = f"TIMESTAMPTZ '{first.isoformat()} 00:00:00+08'"
    t1 = time.perf_counter()
    created = f"({start_sql} + ((g::bigint * 7919) %% {span}) * interval '1 second')"
    n = _insert_select(
        ServiceRequest,
        f"generate_series(1, {n_requests}) AS g JOIN bench_map m ON m.idx = g %% {n_map} "
        f"JOIN bench_res r ON r.community_id = m.community_id AND r.k = (g / 7) %% 300",
        {
            "created_at": created,
            "updated_at": "now()",
            "community_id": "m.community_id",
            "grid_id": "m.grid_id",
            "building_id": "m.building_id",
            "category_id": f"(ARRAY{cat_ids})[1 + (g / 3) %% {len(cat_ids)}]",
            "description": "'基准诉求'",
            "channel": "'app'",
            "status": "CASE WHEN g %% 20 = 0 THEN 'in_progress' ELSE 'closed' END",
            "reporter_resident_id": "r.resident_id",
            "responded_at": f"{created} + interval '3 hours'",
            "responded_on_time": "(g %% 10) < 8",
            "resolved_at": f"CASE WHEN g %% 20 = 0 THEN NULL ELSE {created} + ((g %% 200) + 4) * interval '1 hour' END",  # noqa: E501
            "resolved_on_time": "CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 7) < 6 END",
            "cycle_seconds": "CASE WHEN g %% 20 = 0 THEN NULL ELSE ((g %% 200) + 4) * 3600 END",
            "closed_at": f"CASE WHEN g %% 20 = 0 THEN NULL ELSE {created} + ((g %% 200) + 28) * interval '1 hour' END",  # noqa: E501
            "rating": "CASE WHEN g %% 20 <> 0 AND g %% 5 < 3 THEN 1 + (g * 31) %% 5 ELSE NULL END",
            "token": "gen_random_uuid()",
            "due_state": "'none'",
        },
    )
    print(f"  requests: {n} in {time.perf_counter() - t1:.1f}s", flush=True)
    t1 = time.perf_counter()
    n_ev = _insert_select(
        RequestEvent,
        "requests_servicerequest s WHERE s.status = 'closed'",
        {
            "request_id": "s.id",
            "community_id": "s.community_id",
            "at": "s.closed_at",
            "actor_id": f"CASE WHEN s.rating IS NULL THEN NULL ELSE {officer.pk} END",
            "kind": "'transition'",
            "from_status": "'resolved'",
            "to_status": "'closed'",
        },
    )
    print(f"  request events: {n_ev} in {time.perf_counter() - t1:.1f}s", flush=True)
    # Votes: 4 ballots a community over the period, each voter once.
    t1 = time.perf_counter()
    per_ballot = max(1, n_votes // (len(comms) * 4))
    _insert_select(
        Ballot,
        "communities_orgunit c CROSS JOIN generate_series(0, 3) AS q WHERE c.code LIKE 'b-c%%'",
        {
            "community_id": "c.id",
            "title": "'基准表决'",
            "kind": "'single'",
            "options": '\'["同意", "反对"]\'::jsonb',
            "opens_at": f"{start_sql} + q * interval '150 days'",
            "closes_at": f"{start_sql} + q * interval '150 days' + interval '7 days'",
            "status": "'closed'",
            "eligibility": "'all_residents'",
            "validity_rule": "'simple'",
            "created_by_id": str(officer.pk),
        },
    )
    _insert_select(
        BallotVoter,
        "voting_ballot b JOIN bench_res r ON r.community_id = b.community_id "
        f"AND r.k < {min(300, per_ballot)}",
        {"ballot_id": "b.id", "community_id": "b.community_id", "resident_id": "r.resident_id"},
    )
    nv = _insert_select(
        Vote,
        "voting_ballotvoter v JOIN voting_ballot b ON b.id = v.ballot_id",
        {
            "created_at": "b.opens_at + (v.id %% 6) * interval '1 day'",
            "updated_at": "now()",
            "ballot_id": "v.ballot_id",
            "community_id": "v.community_id",
            "voter_id": "v.id",
            "choices": "'[0]'::jsonb",
            "channel": "'online'",
            "cast_by_id": "v.resident_id",
            "receipt_nonce": "md5(v.id::text)",
            "receipt_hash": "md5(v.id::text || 'r')",
        },
    )
    print(f"  votes: {nv} in {time.perf_counter() - t1:.1f}s", flush=True)
    # Survey answers: a monthly satisfaction survey per community.
    t1 = time.perf_counter()
    _insert_select(
        Survey,
        f"communities_orgunit c CROSS JOIN generate_series(0, {months - 1}) AS mo WHERE c.code LIKE 'b-c%%'",  # noqa: E501
        {
            "created_at": "now()",
            "updated_at": "now()",
            "community_id": "c.id",
            "title": "'月度满意度'",
            "kind": "'satisfaction'",
            "status": "'closed'",
            "opens_at": f"{start_sql} + mo * interval '1 month'",
            "closes_at": f"{start_sql} + mo * interval '1 month' + interval '20 days'",
        },
    )
    _insert_select(
        Question,
        "surveys_survey s",
        {
            "community_id": "s.community_id",
            "survey_id": "s.id",
            "position": "1",
            "code": "'q1'",
            "kind": "'rating'",
            "text": "'总体满意度'",
        },
    )
    per_survey = max(1, n_answers // (len(comms) * months))
    na = _insert_select(
        Participation,
        f"surveys_survey s JOIN bench_res r ON r.community_id = s.community_id AND r.k < {min(300, per_survey)}",  # noqa: E501
        {
            "community_id": "s.community_id",
            "survey_id": "s.id",
            "resident_id": "r.resident_id",
            "anonymous": "true",
            "channel": "'online'",
            "answered_on": "(s.opens_at + interval '2 days')::date",
        },
    )
    for option, share in ((-1, 1.0), (5, 0.45), (4, 0.3), (3, 0.15), (2, 0.1)):
        _insert_select(
            Tally,
            "surveys_question q",
            {
                "community_id": "q.community_id",
                "survey_id": "q.survey_id",
                "question_id": "q.id",
                "option": str(option),
                "n": str(int(per_survey * share)),
            },
        )
    print(f"  survey participations: {na} in {time.perf_counter() - t1:.1f}s", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"communities": len(comms), "district": district.pk, "admin": officer.pk, "first": first}


def _time(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("BENCH_DATABASE_URL", os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL)
    from bench._django import setup

    reuse = "--reuse" in argv
    url = setup(fresh=not reuse)
    print(f"  database: {url.rsplit('@', 1)[-1]}", flush=True)
    from django.test import Client

    from linli.accounts.models import User
    from linli.assessment import services
    from linli.assessment.models import Snapshot
    from linli.assessment.periods import last_complete_month
    from linli.communities.models import Building, OrgUnit
    from linli.core import ratelimit
    from linli.requests import stats

    months = _opt(argv, "months", 24)
    if not reuse:
        _build(
            _opt(argv, "streets", 20),
            _opt(argv, "communities", 10),
            _opt(argv, "requests", 2_000_000),
            _opt(argv, "votes", 200_000),
            _opt(argv, "answers", 100_000),
            months,
        )
        ids = list(
            OrgUnit.objects.filter(kind="community", code__startswith="b-c").values_list(
                "pk", flat=True
            )
        )
        t = _time(lambda: stats.refresh(community_ids=ids))
        print(
            f"1. request day rows, first build: {t:.1f}s (kept current by the sweep afterwards)",
            flush=True,
        )
    last = last_complete_month()
    if reuse:  # a database from before the monthly sums: build them for every month
        district_ids = list(OrgUnit.objects.filter(code="b-d").values_list("pk", flat=True))
        months_done = sorted(set(Snapshot.objects.values_list("month", flat=True)))
        t = _time(
            lambda: [services.rollup(month=m, district_ids=district_ids) for m in months_done]
        )
        print(f"   monthly sums for {len(months_done)} months: {t:.1f}s", flush=True)
    Snapshot.objects.filter(month=last.start).delete()
    with ratelimit.suspended():
        t = _time(lambda: services.snapshot_month(month=last.start, notify=False))
    n = Snapshot.objects.filter(month=last.start).count()
    print(
        f"2. monthly snapshot, whole district ({n} communities): {t:.1f}s (target < 300 s)",
        flush=True,
    )
    p = last.previous()
    t = 0.0
    for _i in range(min(months, 24) - 1):
        t += _time(lambda p=p: services.snapshot_month(month=p.start, notify=False))
        p = p.previous()
    print(f"   backfill of {min(months, 24) - 1} earlier months: {t:.1f}s", flush=True)
    admin = User.objects.get(username="b-admin")
    c = Client(HTTP_HOST="127.0.0.1")
    c.force_login(admin)
    district = OrgUnit.objects.get(code="b-d")
    street = OrgUnit.objects.get(code="b-s0")
    comm = OrgUnit.objects.get(code="b-c0-0")
    grid = OrgUnit.objects.filter(parent=comm).order_by("pk").first()
    building = Building.objects.filter(community=comm).order_by("pk").first()
    assert grid is not None and building is not None
    pages = {
        "district board": f"/assessment/u/{district.pk}/",
        "district board, year": f"/assessment/u/{district.pk}/?period={last.year - 1}",
        "street board": f"/assessment/u/{street.pk}/",
        "community board": f"/assessment/u/{comm.pk}/",
        "grid board": f"/assessment/u/{grid.pk}/",
        "building page": f"/assessment/b/{building.pk}/",
        "public card": f"/assessment/public/{comm.pk}/",
    }
    print("3. dashboard pages from snapshots (20 requests each):", flush=True)
    worst = 0.0
    for name, path in pages.items():
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        times = []
        for _i in range(20):
            t0 = time.perf_counter()
            c.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[int(0.95 * len(times)) - 1]
        worst = max(worst, p95)
        print(
            f"   {name:24s} p50 {statistics.median(times):6.0f} ms  p95 {p95:6.0f} ms", flush=True
        )
    print(f"   worst p95 {worst:.0f} ms (target < 300 ms)", flush=True)
    t0 = time.perf_counter()
    r = c.get(f"/assessment/u/{street.pk}/export.pdf")
    t_pdf = time.perf_counter() - t0
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    print(
        f"4. street PDF report: {t_pdf:.2f}s, {len(r.content) // 1024} KB (target < 5 s)",
        flush=True,
    )
    t0 = time.perf_counter()
    r = c.get(f"/assessment/u/{street.pk}/export.xlsx")
    print(f"   street Excel workbook: {time.perf_counter() - t0:.2f}s", flush=True)
    t0 = time.perf_counter()
    r = c.get(f"/assessment/u/{district.pk}/export.pdf")
    print(f"   district PDF report: {time.perf_counter() - t0:.2f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
