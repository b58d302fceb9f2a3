"""Survey at scale: 30 questions, 100 000 responses on PostgreSQL.

``BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_bench_surveys
.venv/bin/python -m bench survey_results [--responses=100000] [--workers=20]``
(the database is rebuilt each run).

1. Submit: ``--workers`` processes submit ``--submit`` responses (default all) through
   ``linli.surveys.services.survey_answer`` — the product's write path (audience check,
   skip logic and answer checks, participation INSERT … ON CONFLICT, the response and
   its answers, the tally and keyword upserts, the audit event). Each response is a
   paper questionnaire entered by staff for a different resident (代录: the same
   service, so 100 000 residents need no 100 000 logins). Reports responses/s.
   When ``--submit`` is smaller than ``--responses`` (a slow shared machine), the rest
   are loaded in bulk by SQL (responses, participations, answers for every question)
   and the tallies and keyword counts are rebuilt from all the answers by SQL —
   the same rows the service keeps running — and checked against a direct count.
2. Results page: ``GET /surveys/<id>/results/?xq=…&by=building`` as staff — every
   question's chart data and table plus one cross-tab — 40 times; p50/p95 (target
   p95 < 500 ms).
3. Excel export: a survey this large is exported in the background — ``POST
   /surveys/<id>/exports/`` (the bench's in-process task backend makes the file during
   the request), then the download; timed from the request to the last byte (target
   < 30 s). Then the same for CSV (no target; same rows).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_surveys"
BUILDINGS = 20
WORDS = ["电梯", "维修", "停车", "绿化", "垃圾分类", "噪音", "物业", "老人", "活动", "照明"]


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _questions() -> list[Any]:
    from linli.surveys.logic import QuestionSpec

    qs: list[QuestionSpec] = []
    for i in range(10):
        jumps = [{"op": "eq", "value": 4, "to": f"r{i}"}] if i in (2, 6) else []
        qs.append(
            QuestionSpec(
                f"s{i}", "single", f"单选题{i}", options=["甲", "乙", "丙", "丁"], jumps=jumps
            )
        )
        if i < 8:
            qs.append(QuestionSpec(f"r{i}", "rating", f"评分题{i}"))
    for i in range(3):
        qs.append(
            QuestionSpec(
                f"m{i}", "multiple", f"多选题{i}", options=["A", "B", "C", "D", "E"], max_choices=3
            )
        )
        qs.append(
            QuestionSpec(
                f"x{i}",
                "matrix",
                f"矩阵题{i}",
                rows=["卫生", "治安", "物业", "服务"],
                options=["1", "2", "3", "4", "5"],
            )
        )
    for i in range(2):
        qs.append(
            QuestionSpec(f"k{i}", "ranking", f"排序题{i}", options=["电梯", "车位", "绿化", "照明"])
        )
        qs.append(
            QuestionSpec(
                f"n{i}", "number", f"数字题{i}", min_value=0, max_value=100, required=False
            )
        )
    qs.append(QuestionSpec("t0", "text", "意见建议", required=False, max_length=200))
    qs.append(QuestionSpec("d0", "date", "方便的日期", required=False))
    assert len(qs) == 30, len(qs)
    return qs


def _answers(rng: random.Random) -> dict[str, Any]:
    a: dict[str, Any] = {}
    for i in range(10):
        a[f"s{i}"] = rng.randint(1, 4)
        if i < 8:
            a[f"r{i}"] = rng.randint(1, 5)
    for i in range(3):
        a[f"m{i}"] = rng.sample([1, 2, 3, 4, 5], rng.randint(1, 3))
        a[f"x{i}"] = {str(r): rng.randint(1, 5) for r in range(1, 5)}
    for i in range(2):
        order = rng.sample([1, 2, 3, 4], 4)
        a[f"k{i}"] = {str(o): r for r, o in enumerate(order, start=1)}
        if rng.random() < 0.7:
            a[f"n{i}"] = rng.randint(0, 100)
    if rng.random() < 0.4:
        a["t0"] = "".join(rng.sample(WORDS, 3)) + "希望改善"
    if rng.random() < 0.3:
        a["d0"] = f"2026-12-{rng.randint(1, 28):02d}"
    return a


def _build(n: int) -> dict[str, int]:
    """A community with 20 buildings, ``n`` residents (one household each), staff and
    the open survey. Set-up data goes in with bulk inserts."""
    from decimal import Decimal

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.communities.services import orgunit_create
    from linli.surveys import services

    city = orgunit_create(kind="city", name="基准市", code="b-city")
    district = orgunit_create(kind="district", name="基准区", code="b-d", parent=city)
    street = orgunit_create(kind="street", name="基准街道", code="b-s", parent=district)
    community = orgunit_create(kind="community", name="基准社区", code="b-c", parent=street)
    grid = orgunit_create(kind="grid", name="网格", code="b-g", parent=community)
    buildings = Building.objects.bulk_create(
        [Building(community=community, grid=grid, name=f"{i + 1}幢") for i in range(BUILDINGS)]
    )
    households = Household.objects.bulk_create(
        [
            Household(
                community=community,
                building=buildings[i % BUILDINGS],
                unit=str(1 + (i // BUILDINGS) % 4),
                room=str(100000 + i),
                area_m2=Decimal("80.00"),
                tenure="owner",
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    rng = random.Random(7)
    Resident.objects.bulk_create(
        [
            Resident(
                community=community,
                grid=grid,
                household=h,
                name=f"居民{i}",
                birth_year=rng.randint(1935, 2008),
            )
            for i, h in enumerate(households)
        ],
        batch_size=5000,
    )
    staff = User.objects.create(username="bench-worker", display_name="工作人员")
    Membership.objects.create(user=staff, role=Role.COMMUNITY_WORKER, unit=community)
    survey = services.survey_create(
        actor=staff,
        community=community,
        settings=services.Settings(title="三十题基准问卷", anonymous=True),
        questions=_questions(),
    )
    services.survey_open(actor=staff, survey=survey)
    return {"survey": survey.pk, "staff": staff.pk, "community": community.pk}


def _tally_sums(survey: Any) -> dict[tuple[int, int, int], int]:
    from django.db.models import Sum

    from linli.surveys.models import Tally

    rows = (
        Tally.objects.filter(community_id=survey.community_id, survey=survey)
        .values("question_id", "row", "option")
        .annotate(n=Sum("n"))
    )
    return {(r["question_id"], r["row"], r["option"]): r["n"] for r in rows if r["n"]}


def _worker(args: tuple[int, int, list[int]]) -> tuple[int, int, float]:
    """One process: submit answers for its residents; returns (ok, refused, seconds)."""
    survey_id, staff_id, resident_ids = args
    from django.db import connection

    connection.close()  # never share the parent's connection after fork
    from linli.accounts.models import User
    from linli.communities.models import Resident
    from linli.core.errors import DomainError
    from linli.surveys.models import Survey
    from linli.surveys.services import survey_answer

    staff = User.objects.get(pk=staff_id)
    survey = Survey.objects.get(pk=survey_id)
    rng = random.Random(resident_ids[0] if resident_ids else 0)
    ok = refused = 0
    t0 = time.perf_counter()
    for start in range(0, len(resident_ids), 500):
        chunk = list(Resident.objects.filter(pk__in=resident_ids[start : start + 500]))
        for r in chunk:
            try:
                survey_answer(
                    actor=staff, survey=survey, answers=_answers(rng), resident=r, channel="paper"
                )
                ok += 1
            except DomainError:
                refused += 1
    connection.close()
    return ok, refused, time.perf_counter() - t0


PHRASES = [
    "电梯维修太慢希望改善",
    "停车太难希望增加车位",
    "绿化很好继续保持",
    "垃圾分类点太远",
    "晚上噪音太大",
    "希望多组织老人活动",
    "楼道照明经常坏",
    "物业服务态度很好",
]


def _bulk(survey_id: int, community_id: int) -> int:
    """Responses for every resident who has none yet, written by SQL; then tallies and
    keyword counts rebuilt from all answers. Returns how many responses were added."""
    from django.db import connection, transaction

    from linli.surveys.services.answers import _keywords

    c, s = community_id, survey_id
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """CREATE TEMP TABLE bulk_r ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, r.id AS resident_id, h.building_id,
              CASE WHEN 2026 - r.birth_year < 18 THEN '<18'
                   WHEN 2026 - r.birth_year < 35 THEN '18-34'
                   WHEN 2026 - r.birth_year < 50 THEN '35-49'
                   WHEN 2026 - r.birth_year < 60 THEN '50-59'
                   WHEN 2026 - r.birth_year < 75 THEN '60-74' ELSE '75+' END AS band
            FROM communities_resident r JOIN communities_household h ON h.id = r.household_id
            WHERE r.community_id = %s AND NOT EXISTS (
              SELECT 1 FROM surveys_participation p
              WHERE p.community_id = %s AND p.survey_id = %s AND p.resident_id = r.id)""",
            [c, c, s],
        )
        cur.execute("SELECT count(*) FROM bulk_r")
        added = int(cur.fetchone()[0])
        cur.execute(
            """INSERT INTO surveys_response (id, community_id, survey_id, submitted_on, channel,
              building_id, age_band)
            SELECT id, %s, %s, CURRENT_DATE, 'paper', building_id, band FROM bulk_r""",
            [c, s],
        )
        cur.execute(
            """INSERT INTO surveys_participation (community_id, survey_id, resident_id, visitor,
              anonymous, response_id, channel, entered_by_id, answered_on)
            SELECT %s, %s, resident_id, '', true, NULL, 'paper', NULL, CURRENT_DATE FROM bulk_r""",
            [c, s],
        )
        # Answers go to a scratch table first and then into surveys_answer in one
        # statement ordered by respondent, so each response's answers lie together
        # as the service writes them (one INSERT per response), in an order that has
        # nothing to do with the response keys (random UUIDs), as in real use.
        cur.execute(
            """CREATE TEMP TABLE bulk_a (community_id bigint, survey_id bigint,
              response_id uuid, question_id bigint, row smallint, option integer,
              number double precision, text text, date date) ON COMMIT DROP"""
        )
        sel = f"SELECT {c}, {s}, b.id, q.id, "
        ins = (
            "INSERT INTO bulk_a (community_id, survey_id, response_id, question_id, row,"
            " option, number, text, date) "
        )
        q = "FROM bulk_r b CROSS JOIN surveys_question q WHERE q.survey_id = %s AND q.kind = %s"
        cur.execute(
            ins + sel + "0, 1 + floor(random() * 4)::int, NULL, '', NULL " + q,
            [s, "single"],
        )
        cur.execute(
            ins + sel + "0, 1 + floor(random() * 5)::int, NULL, '', NULL " + q,
            [s, "rating"],
        )
        cur.execute(
            ins
            + sel
            + "0, o, NULL, '', NULL "
            + q.replace("WHERE", "CROSS JOIN generate_series(1, 3) o WHERE")
            + " AND random() < 0.4",
            [s, "multiple"],
        )
        cur.execute(
            ins
            + sel
            + "rw, 1 + floor(random() * 5)::int, NULL, '', NULL "
            + q.replace("WHERE", "CROSS JOIN generate_series(1, 4) rw WHERE"),
            [s, "matrix"],
        )
        cur.execute(
            ins
            + sel
            + "1 + ((o + (hashtext(b.id::text) & 3)) %% 4), o, NULL, '', NULL "
            + q.replace("WHERE", "CROSS JOIN generate_series(1, 4) o WHERE"),
            [s, "ranking"],
        )
        cur.execute(
            ins + sel + "0, NULL, floor(random() * 100), '', NULL " + q + " AND random() < 0.7",
            [s, "number"],
        )
        cur.execute(
            ins
            + sel
            + "0, NULL, NULL, (%s::text[])[1 + floor(random() * %s)::int], NULL "
            + q
            + " AND random() < 0.4",
            [PHRASES, len(PHRASES), s, "text"],
        )
        cur.execute(
            ins
            + sel
            + "0, NULL, NULL, '', DATE '2026-12-01' + floor(random() * 28)::int "
            + q
            + " AND random() < 0.3",
            [s, "date"],
        )
        cols = "community_id, survey_id, response_id, question_id, row, option, number, text, date"
        picked = ", ".join("a." + x for x in cols.split(", "))
        cur.execute(
            f"INSERT INTO surveys_answer ({cols}) SELECT {picked}"  # noqa: S608
            " FROM bulk_a a JOIN bulk_r b ON b.id = a.response_id"
            " ORDER BY b.resident_id, a.question_id, a.row, a.option"
        )
        # Tallies from every answer (also those the service wrote: the rebuild must
        # give the same numbers it kept).
        cur.execute("DELETE FROM surveys_tally WHERE community_id = %s AND survey_id = %s", [c, s])
        cur.execute(
            """INSERT INTO surveys_tally (community_id, survey_id, question_id, row, option,
              building_id_key, age_band, n, total)
            SELECT a.community_id, a.survey_id, a.question_id, 0, -1, coalesce(r.building_id, 0),
              r.age_band, count(DISTINCT a.response_id), coalesce(sum(a.number), 0)
            FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id
            WHERE a.community_id = %s AND a.survey_id = %s
            GROUP BY 1, 2, 3, 6, 7
            UNION ALL
            SELECT a.community_id, a.survey_id, a.question_id, a.row, a.option,
              coalesce(r.building_id, 0), r.age_band, count(*), 0
            FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id
            WHERE a.community_id = %s AND a.survey_id = %s AND a.option IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6, 7""",
            [c, s, c, s],
        )
        cur.execute(
            "DELETE FROM surveys_wordcount WHERE community_id = %s AND survey_id = %s", [c, s]
        )
        cur.execute(
            """SELECT question_id, text, count(*) FROM surveys_answer
            WHERE community_id = %s AND survey_id = %s AND text <> '' GROUP BY 1, 2""",
            [c, s],
        )
        words: dict[tuple[int, str], int] = {}
        for qid, text, n in cur.fetchall():
            for w in _keywords(text):
                words[(qid, w)] = words.get((qid, w), 0) + n
        for (qid, w), n in words.items():
            cur.execute(
                "INSERT INTO surveys_wordcount (community_id, survey_id, question_id, word, n)"
                " VALUES (%s, %s, %s, %s, %s)",
                [c, s, qid, w, n],
            )
        # Fresh planner statistics, as autovacuum would gather after such a load.
        for table in ("surveys_response", "surveys_answer", "surveys_participation"):
            cur.execute(f"ANALYZE {table}")
    return added


def main(argv: list[str]) -> int:
    n = _opt(argv, "responses", 100_000)
    workers = _opt(argv, "workers", 20)
    submit = min(_opt(argv, "submit", n), n)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    if "--measure-only" in argv:
        # Measure the results page and the export on the database a previous run
        # filled (e.g. after an interrupted run), without rebuilding it.
        setup(fresh=False)
        return _measure(_existing())
    url = setup(fresh=True)
    print(f"database {url.rsplit('@', 1)[-1]}; {n} responses, {workers} workers", flush=True)
    t = time.perf_counter()
    ids = _build(n)
    print(
        f"set-up ({n} residents, survey of 30 questions): {time.perf_counter() - t:.1f}s",
        flush=True,
    )

    from django.db import connection

    from linli.communities.models import Resident

    residents = list(
        Resident.objects.filter(community_id=ids["community"])
        .order_by("pk")
        .values_list("pk", flat=True)
    )[:submit]
    # Load jieba's dictionary once, before forking, so every worker shares it.
    import jieba

    jieba.initialize()
    connection.close()
    slices = [(ids["survey"], ids["staff"], residents[i::workers]) for i in range(workers)]
    ctx = mp.get_context("fork")
    t0 = time.perf_counter()
    with ctx.Pool(workers) as pool:
        done = pool.map(_worker, slices)
    wall = time.perf_counter() - t0
    ok = sum(d[0] for d in done)
    refused = sum(d[1] for d in done)
    print(
        f"submit: {ok} responses in {wall:.1f}s = {ok / wall:.0f} responses/s ({refused} refused)",
        flush=True,
    )

    from linli.surveys.models import Survey

    survey = Survey.objects.get(pk=ids["survey"])
    if submit < n:
        from linli.surveys import results

        before = {k: v for k, v in _tally_sums(survey).items()}
        ref = results.reference_counts(survey)
        assert before == ref, "running tallies differ from a direct count"
        t3 = time.perf_counter()
        added = _bulk(survey.pk, survey.community_id)
        took = time.perf_counter() - t3
        print(
            f"bulk-loaded {added} more responses by SQL, tallies rebuilt: {took:.1f}s", flush=True
        )
    return _measure(ids)


def _existing() -> dict[str, int]:
    from linli.accounts.models import User
    from linli.surveys.models import Survey

    survey = Survey.objects.get(title="三十题基准问卷")
    staff = User.objects.get(username="bench-worker")
    return {"survey": survey.pk, "staff": staff.pk, "community": survey.community_id}


def _measure(ids: dict[str, int]) -> int:
    from django.test import Client

    from linli.accounts.models import User
    from linli.surveys.models import Answer, AnswerExport, Response, Survey, Tally

    survey = Survey.objects.get(pk=ids["survey"])
    cid = survey.community_id
    print(
        f"rows: responses {Response.objects.filter(community_id=cid, survey=survey).count()}, "
        f"answers {Answer.objects.filter(community_id=cid, survey=survey).count()}, "
        f"tallies {Tally.objects.filter(community_id=cid, survey=survey).count()}",
        flush=True,
    )
    client = Client()
    client.force_login(User.objects.get(pk=ids["staff"]))
    url_results = f"/surveys/{survey.pk}/results/?xq=x0&by=building"
    first = client.get(url_results, HTTP_HOST="127.0.0.1")
    assert first.status_code == 200, first.status_code
    times = []
    for i in range(40):
        by = "building" if i % 2 else "age_band"
        t1 = time.perf_counter()
        r = client.get(f"/surveys/{survey.pk}/results/?xq=s{i % 10}&by={by}", HTTP_HOST="127.0.0.1")
        times.append((time.perf_counter() - t1) * 1000)
        assert r.status_code == 200
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"results page (30 charts + tables, 1 cross-tab): p50 {statistics.median(times):.0f} ms, "
        f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms (target p95 < 500 ms)",
        flush=True,
    )
    # A survey this large is exported in the background: staff ask on the exports
    # page, the task makes the file (in-process task backend here: during the POST),
    # then they download it. Timed from the request to the last byte.
    export_s = 0.0
    for fmt in ("xlsx", "csv"):
        t2 = time.perf_counter()
        direct = client.get(f"/surveys/{survey.pk}/export.{fmt}", HTTP_HOST="127.0.0.1")
        assert direct.status_code == 302, direct.status_code  # to the exports page
        r = client.post(f"/surveys/{survey.pk}/exports/", {"fmt": fmt}, HTTP_HOST="127.0.0.1")
        assert r.status_code == 302, r.status_code
        done = AnswerExport.objects.filter(survey=survey, fmt=fmt).order_by("-pk").first()
        assert done is not None and done.status == "ready", done and done.status
        got = client.get(f"/surveys/{survey.pk}/exports/{done.pk}/", HTTP_HOST="127.0.0.1")
        stream: Any = got.streaming_content  # type: ignore[attr-defined]
        size = sum(len(bytes(chunk)) for chunk in stream)
        took = time.perf_counter() - t2
        print(
            f"{'Excel' if fmt == 'xlsx' else 'CSV'} export (background task, then download): "
            f"{size / 1e6:.1f} MB, {done.rows} rows, {took:.1f}s (file made in "
            f"{done.seconds:.1f}s){' (target < 30 s)' if fmt == 'xlsx' else ''}; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        export_s = took if fmt == "xlsx" else export_s
        done.file.delete(save=False)  # 10 MB under media/
    return 0 if p95 < 500 and export_s < 30 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
