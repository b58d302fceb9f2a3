"""What would it take to bring a vote within 50× of a single-row INSERT?

``.venv/bin/python -m bench vote_floor [--votes=1500]`` (database ``linli_bench_floor``,
rebuilt each run). One connection, one process, votes one after another, so CPU per
operation is measured exactly: the app process's own CPU (``time.process_time``) plus
the CPU of *its* PostgreSQL backend (``/proc/<pg_backend_pid()>/stat``), whatever else
the machine is doing. Three ways of recording the same vote:

1. ``service`` — ``linli.voting.services.vote_cast`` as the product runs it (scope load,
   one eligibility SELECT, INSERT … ON CONFLICT, audit INSERT, FOR KEY SHARE recheck,
   BEGIN/COMMIT).
2. ``sql function`` — the same checks and writes in one PL/pgSQL function (created here
   for the experiment, not part of the product): eligibility, the vote INSERT … ON
   CONFLICT, the audit INSERT (hash computed by the app as today) and the ballot
   recheck, one round trip plus COMMIT.
3. ``single INSERT`` — one row into a scratch table, autocommit: the counterpart.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
URL = "postgres://postgres@127.0.0.1:5432/linli_bench_floor"

FUNCTION = """
CREATE OR REPLACE FUNCTION bench_vote_cast(
    p_ballot bigint, p_community bigint, p_household bigint, p_user bigint,
    p_choices jsonb, p_nonce text, p_rhash text, p_key text,
    p_at timestamptz, p_payload jsonb, p_hash text
) RETURNS bigint AS $$
DECLARE
    v_voter bigint; v_area numeric; v_id bigint; v_status text;
BEGIN
    SELECT bv.id, bv.area_m2 INTO v_voter, v_area FROM voting_ballotvoter bv
     WHERE bv.ballot_id = p_ballot AND bv.community_id = p_community
       AND bv.household_id = p_household;
    IF v_voter IS NULL THEN RAISE EXCEPTION 'not eligible'; END IF;
    INSERT INTO voting_vote (ballot_id, community_id, voter_id, choices, channel,
        cast_by_id, area_m2, receipt_nonce, receipt_hash, idempotency_key,
        created_at, updated_at, note)
    VALUES (p_ballot, p_community, v_voter, p_choices, 'online', p_user, v_area,
        p_nonce, p_rhash, p_key, p_at, p_at, '')
    ON CONFLICT DO NOTHING RETURNING id INTO v_id;
    IF v_id IS NULL THEN RAISE EXCEPTION 'already voted'; END IF;
    INSERT INTO core_auditevent (occurred_at, actor_id, action, target_type, target_id,
        community_id, payload, hash)
    VALUES (p_at, p_user, 'voting.vote_cast', 'voting.ballot', p_ballot::text,
        p_community, p_payload, p_hash);
    SELECT status INTO v_status FROM voting_ballot
     WHERE id = p_ballot AND community_id = p_community FOR KEY SHARE;
    IF v_status <> 'open' THEN RAISE EXCEPTION 'closed'; END IF;
    RETURN v_id;
END $$ LANGUAGE plpgsql;
"""


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _backend_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _measure(name: str, run: Callable[[int], Any], n: int) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = int(cur.fetchone()[0])
    hz = os.sysconf("SC_CLK_TCK")
    for i in range(min(50, n // 10)):  # warm caches and plans
        run(i)
    start = max(50, n // 10) if n > 100 else n // 2
    app0, pg0, t0 = time.process_time(), _backend_ticks(pid), time.perf_counter()
    for i in range(start, n):
        run(i)
    ops = n - start
    app = (time.process_time() - app0) / ops * 1000
    pg = (_backend_ticks(pid) - pg0) / hz / ops * 1000
    wall = (time.perf_counter() - t0) / ops * 1000
    print(
        f"  {name:<16} {ops:>6} ops  app {app:6.3f} ms  PG {pg:6.3f} ms  "
        f"total {app + pg:6.3f} ms/op  (wall {wall:.2f} ms)"
    )
    return {"name": name, "ops": ops, "app_ms": app, "pg_ms": pg, "total_ms": app + pg}


def main(argv: list[str]) -> int:
    os.environ["BENCH_DATABASE_URL"] = os.environ.get("BENCH_FLOOR_URL", URL)
    from bench._django import setup

    setup(fresh=True)
    from django.db import connection
    from django.utils import timezone

    from bench.voting_art278 import _build
    from linli.accounts.models import User
    from linli.core import audit
    from linli.voting.models import Ballot
    from linli.voting.services import ballot_create, ballot_open, vote_cast

    n = _opt(argv, "votes", 1500)
    community, staff, user_ids = _build(3 * n + 300)
    now = timezone.now()

    def new_ballot() -> Ballot:
        b = ballot_create(
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
        return ballot_open(actor=staff, ballot=b)

    users = list(
        User.objects.filter(pk__in=user_ids).select_related("resident__household").order_by("pk")
    )
    ballot = new_ballot()
    print(f"\nvote floor: {len(users)} owners, {n} votes each way, one connection")

    def service(i: int) -> None:
        vote_cast(actor=users[i], ballot=ballot, choices=[i % 3])

    ballot2 = new_ballot()
    with connection.cursor() as cur:
        cur.execute(FUNCTION)

    def sql_function(i: int) -> None:
        u = users[n + i]
        at = timezone.now()
        nonce = secrets.token_hex(16)
        rhash = hashlib.sha256(nonce.encode()).hexdigest()
        payload = {"voter": f"v{u.pk}", "choices": [i % 3], "channel": "online"}
        digest = audit.compute_hash(
            occurred_at=at,
            actor_id=u.pk,
            action="voting.vote_cast",
            target_type="voting.ballot",
            target_id=str(ballot2.pk),
            community_id=community.pk,
            payload=payload,
        )
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT bench_vote_cast(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    ballot2.pk,
                    community.pk,
                    u.resident.household_id,
                    u.pk,
                    json.dumps([i % 3]),
                    nonce,
                    rhash,
                    "",
                    at,
                    json.dumps(payload, ensure_ascii=False),
                    digest,
                ],
            )

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_scratch")
        cur.execute("CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, v int, at timestamptz)")

    def single_insert(i: int) -> None:
        with connection.cursor() as cur:
            cur.execute("INSERT INTO bench_scratch (v, at) VALUES (%s, now())", [i])

    rows = [
        _measure("vote_cast service", service, n),
        _measure("vote as SQL fn", sql_function, n),
        _measure("single INSERT", single_insert, n),
    ]
    base = rows[2]["total_ms"]
    for r in rows[:2]:
        print(f"  {r['name']:<16} = {r['total_ms'] / base:5.1f}× the single INSERT")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"vote_floor-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(rows, indent=1) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main(sys.argv[1:]))
