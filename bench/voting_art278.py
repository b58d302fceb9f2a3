"""An owners' vote under 民法典第二百七十八条 at street scale.

`python -m bench voting --households=100000 --workers=20 --dup-pct=10`

Builds one community of N owner households (one adult owner with an account each) in a
fresh PostgreSQL database (``BENCH_DATABASE_URL``, default ``linli_bench_voting``), opens
an art. 278 ballot, then 20 worker *processes* cast every vote through
``services.vote_cast``. Each worker also re-submits the votes of the next worker's
voters at the same moment, so every voter is submitted twice concurrently. Checks:
each voter has exactly one vote (zero duplicates: no voter has two rows, exactly one of
the two submissions succeeded) and zero lost votes (every accepted submission is in the
table and in the audit chain). Then it tallies with the rule (target < 1 s), closes,
and recomputes the tally from the audit chain alone.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from decimal import Decimal
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_voting"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _build(households: int) -> tuple[Any, Any, list[int]]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.core.demo import SURNAMES, _unit

    rng = random.Random(278)
    with transaction.atomic():
        city = _unit("city", "杭州市", "b-city", None)
        district = _unit("district", "拱墅区", "b-d", city)
        street = _unit("street", "和睦街道", "b-s", district)
        community = _unit("community", "阳光社区", "b-c", street)
        grid = _unit("grid", "第1网格", "b-g", community)
        per = 24
        Building.objects.bulk_create(
            [
                Building(community=community, grid=grid, name=f"{b + 1}幢")
                for b in range(-(-households // per))
            ],
            batch_size=5000,
        )
        bids = list(
            Building.objects.filter(community=community).order_by("id").values_list("id", flat=True)
        )
        Household.objects.bulk_create(
            [
                Household(
                    community=community,
                    building_id=bids[i // per],
                    unit=str((i % per) // 12 + 1),
                    room=f"{(i % 12) // 2 + 1}0{i % 2 + 1}",
                    area_m2=Decimal(rng.randint(4500, 14000)) / 100,
                    tenure="owner",
                )
                for i in range(households)
            ],
            batch_size=5000,
        )
        hids = list(
            Household.objects.filter(community=community)
            .order_by("id")
            .values_list("id", flat=True)
        )
        users = User.objects.bulk_create(
            [User(username=f"o{i}", password="!") for i in range(households)], batch_size=5000
        )
        Resident.objects.bulk_create(
            [
                Resident(
                    community=community,
                    grid=grid,
                    household_id=hid,
                    user_id=u.pk,
                    name=rng.choice(SURNAMES) + "业主",
                    birth_year=rng.randint(1945, 1995),
                )
                for hid, u in zip(hids, users, strict=True)
            ],
            batch_size=5000,
        )
        staff = User.objects.create(username="b-secretary", password=make_password("x"))
        Membership.objects.create(user=staff, role=Role.SECRETARY, unit=community)
    return community, staff, [u.pk for u in users]


def _worker(args: tuple[int, int, list[int], list[int]]) -> tuple[list[int], list[int], int]:
    """Cast own voters and, interleaved, the next worker's voters (duplicates)."""
    ballot_id, seed, own, dup = args
    from django.db import connections

    from linli.accounts.models import User
    from linli.core.errors import Conflict
    from linli.voting.models import Ballot
    from linli.voting.services import vote_cast

    connections.close_all()
    rng = random.Random(seed)
    ballot = Ballot.objects.get(pk=ballot_id)
    ids = own + dup
    by_id = {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("resident__household")}
    ok: list[int] = []
    refused: list[int] = []
    other_errors = 0
    # Interleave: own[i], dup[i], own[i+1] … so a voter's two submissions race.
    order: list[int] = []
    for i in range(max(len(own), len(dup))):
        if i < len(own):
            order.append(own[i])
        if i < len(dup):
            order.append(dup[i])
    for uid in order:
        choice = 0 if rng.random() < 0.72 else rng.choice([1, 2])
        try:
            vote_cast(actor=by_id[uid], ballot=ballot, choices=[choice])
            ok.append(uid)
        except Conflict:
            refused.append(uid)
        except Exception as exc:  # reported, counted as a failure
            other_errors += 1
            if other_errors < 5:
                print("worker error:", type(exc).__name__, exc, flush=True)
    connections.close_all()
    return ok, refused, other_errors


def main(argv: list[str]) -> int:
    households = _opt(argv, "households", 100_000)
    workers = _opt(argv, "workers", 20)
    turnout_pct = _opt(argv, "turnout", 100)
    # Share of each worker's voters that the next worker also submits at the same time.
    dup_pct = _opt(argv, "dup-pct", 10)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    t0 = time.perf_counter()
    setup(fresh=True)
    from datetime import timedelta

    from django.db import connection, connections
    from django.utils import timezone

    from linli.core.audit import verify_all
    from linli.voting.models import Vote
    from linli.voting.selectors import ballot_result, tally_verify
    from linli.voting.services import ballot_close, ballot_create, ballot_open

    community, staff, user_ids = _build(households)
    print(
        f"backend={connection.vendor} households={households} "
        f"built in {time.perf_counter() - t0:.1f}s"
    )

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
    t = time.perf_counter()
    ballot = ballot_open(actor=staff, ballot=ballot)
    print(
        f"roll snapshot: {ballot.eligible_count} owners, {ballot.eligible_area}㎡ "
        f"in {time.perf_counter() - t:.2f}s"
    )

    voters = user_ids[: households * turnout_pct // 100]
    slices = [voters[i::workers] for i in range(workers)]
    jobs = [
        (ballot.pk, i, slices[i], slices[(i + 1) % workers][: len(slices[i]) * dup_pct // 100])
        for i in range(workers)
    ]
    connections.close_all()  # children open their own connections
    t = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        results = pool.map(_worker, jobs)
    cast_s = time.perf_counter() - t
    accepted = [uid for ok, _r, _e in results for uid in ok]
    refused = sum(len(r) for _o, r, _e in results)
    errors = sum(e for _o, _r, e in results)
    submissions = len(accepted) + refused + errors
    print(
        f"cast: {len(accepted)} votes accepted, {refused} duplicate submissions refused, "
        f"{errors} other errors, {submissions} submissions by {workers} workers in {cast_s:.1f}s "
        f"= {len(accepted) / cast_s:.0f} votes/s ({submissions / cast_s:.0f} submissions/s)"
    )

    from django.db.models import Count

    rows = Vote.objects.filter(ballot=ballot).count()
    dup_rows = (
        Vote.objects.filter(ballot=ballot)
        .values("voter")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    accepted_twice = len(accepted) - len(set(accepted))
    lost = len(set(voters) - set(accepted))
    print(
        f"check: rows={rows} voters={len(voters)} duplicate rows={dup_rows} "
        f"voters accepted twice={accepted_twice} voters without a vote={lost}"
    )

    t = time.perf_counter()
    res = ballot_result(viewer=staff, ballot=ballot)
    tally_s = time.perf_counter() - t
    print(
        f"tally with art. 278 rule: {tally_s * 1000:.0f} ms (target < 1000 ms); "
        f"valid={res.valid} passed={res.passed}"
    )
    print(res.explanation)

    from linli.voting.models import Ballot

    Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    ballot.refresh_from_db()
    ballot = ballot_close(actor=staff, ballot=ballot)
    t = time.perf_counter()
    v = tally_verify(viewer=staff, ballot=ballot)
    verify_s = time.perf_counter() - t
    print(
        f"recount from audit chain: {v.events} events in {verify_s:.2f}s, "
        f"matches={v.ok} {v.differences}"
    )
    t = time.perf_counter()
    chain = verify_all()
    print(
        f"audit hash chain: {chain.events} events, {chain.checkpoints} checkpoints, "
        f"{chain.unsealed} unsealed, verified in {time.perf_counter() - t:.1f}s, ok={chain.ok}"
    )

    good = (
        rows == len(voters)
        and dup_rows == 0
        and accepted_twice == 0
        and lost == 0
        and errors == 0
        and v.ok
        and chain.ok
    )
    return 0 if good else 1
