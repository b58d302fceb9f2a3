"""Mixed points / time-bank load on the double-entry ledger.

`python -m bench ledger_mixed --accounts=100000 --workers=20 --ops=50000 --communities=5`

Builds ``--communities`` communities with ``accounts/2`` residents in households of
four, each resident with a points and an hours account (``--accounts`` in all), in a
fresh PostgreSQL database (``BENCH_DATABASE_URL``, default ``linli_bench_ledger``). Then
``--workers`` processes run ``--ops`` operations through the real services:

* earn (35 %): ``services.award`` points, or hours (time bank), issuer → resident;
* spend (35 %): ``services.donate`` points to the public fund or ``hours_spend``;
* transfer (25 %): ``services.hours_transfer`` to a family member (same household);
* retry (5 %): an earlier request repeated with the same idempotency key.

Half of all operations hit 40 hot residents (10 households), so their rows are
contended. Refusals (insufficient balance) are expected and counted. Checks afterwards:
no negative resident balance; no lost update (each balance equals the sum of the
accepted operations the workers saw, and equals the sum of its entries); every
transaction balances; each community's trial balance is zero; each hot account's
statement is a consistent running balance; retries posted nothing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from collections import defaultdict
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_ledger"


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _build(n_residents: int, n_communities: int) -> dict[str, Any]:
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.core.demo import _unit
    from linli.ledger import services
    from linli.ledger.models import Account, AccountKind, Currency, EarnKind

    with transaction.atomic():
        city = _unit("city", "杭州市", "lb-city", None)
        district = _unit("district", "拱墅区", "lb-d", city)
        street = _unit("street", "和睦街道", "lb-s", district)
        pw = make_password("bench")
        admin = User.objects.create(username="bench-secretary", password=pw)
        communities = []
        per_c = n_residents // n_communities
        for ci in range(n_communities):
            c = _unit("community", f"社区{ci + 1}", f"lb-c{ci}", street)
            g = _unit("grid", "第1网格", f"lb-g{ci}", c)
            communities.append(c)
            Membership.objects.create(user=admin, role=Role.SECRETARY, unit=c)
            n_house = per_c // 4
            Building.objects.bulk_create(
                [Building(community=c, grid=g, name=f"{b + 1}幢") for b in range(-(-n_house // 24))]
            )
            bids = list(
                Building.objects.filter(community=c).order_by("id").values_list("id", flat=True)
            )
            Household.objects.bulk_create(
                [
                    Household(
                        community=c,
                        building_id=bids[h // 24],
                        unit="1",
                        room=str(h % 24 + 101),
                        area_m2=Decimal("80.00"),
                        tenure="owner",
                    )
                    for h in range(n_house)
                ],
                batch_size=5000,
            )
            hids = list(
                Household.objects.filter(community=c).order_by("id").values_list("id", flat=True)
            )
            Resident.objects.bulk_create(
                [
                    Resident(
                        community=c,
                        grid=g,
                        household_id=hids[i // 4],
                        name=f"居民{ci}-{i}",
                        birth_year=1950 + i % 50,
                    )
                    for i in range(n_house * 4)
                ],
                batch_size=5000,
            )
        for c in communities:
            for cur in Currency.values:
                for kind in (AccountKind.ISSUER, AccountKind.PUBLIC_FUND, AccountKind.ADJUSTMENT):
                    services.system_account(c.pk, cur, kind)
        rows = list(
            Resident.objects.filter(community__in=communities).values_list(
                "id", "community_id", "name"
            )
        )
        Account.objects.bulk_create(
            [
                Account(
                    community_id=cid,
                    currency=cur,
                    kind=AccountKind.RESIDENT,
                    resident_id=rid,
                    name=name,
                )
                for rid, cid, name in rows
                for cur in Currency.values
            ],
            batch_size=10000,
        )
    # Give the hot residents users (the services check who acts) and rules without caps.
    for c in communities:
        services.rule_save(actor=admin, community=c, kind=EarnKind.VOLUNTEER_SERVICE, amount=10)
        services.rule_save(actor=admin, community=c, kind=EarnKind.TIMEBANK_SERVICE, amount=0)
        services.settings_save(actor=admin, community=c, hours_cap_minutes=10**7)
    households: dict[int, list[int]] = defaultdict(list)
    for rid, hid in Resident.objects.filter(community__in=communities).values_list(
        "id", "household_id"
    ):
        households[hid].append(rid)
    hot_households = sorted(households)[:: max(1, len(households) // 10)][:10]
    return {
        "admin": admin.pk,
        "households": [households[h] for h in sorted(households)],
        "hot": [households[h] for h in hot_households],
        "communities": [c.pk for c in communities],
    }


def _worker(idx: int, n_ops: int, data: dict[str, Any], seed: int, out: Any) -> None:
    import django

    django.setup()
    from django.db import connection

    from linli.accounts.models import User
    from linli.communities.models import Resident
    from linli.core.errors import DomainError
    from linli.ledger import services
    from linli.ledger.models import EarnKind

    connection.close()
    rng = random.Random(seed)
    admin = User.objects.get(pk=data["admin"])
    cache: dict[int, Resident] = {}

    def res(rid: int) -> Resident:
        if rid not in cache:
            cache[rid] = Resident.objects.get(pk=rid)
        return cache[rid]

    deltas: dict[tuple[int, str], int] = defaultdict(int)
    done: list[tuple[str, Any]] = []  # accepted (op, args) for retries
    ok = refused = retried = 0
    latencies: list[float] = []
    for n in range(n_ops):
        house = rng.choice(data["hot"]) if rng.random() < 0.5 else rng.choice(data["households"])
        who = rng.choice(house)
        key = f"w{idx}:{n}"
        roll = rng.random()
        t0 = time.perf_counter()
        try:
            if roll < 0.05 and done:
                op, args = rng.choice(done)
                if op == "earn":
                    services.award(
                        actor=admin,
                        resident=res(args[0]),
                        kind=args[1],
                        amount=args[2],
                        idempotency_key=args[3],
                    )
                elif op == "donate":
                    services.donate(
                        actor=admin, resident=res(args[0]), points=args[1], idempotency_key=args[2]
                    )
                retried += 1
                continue
            if roll < 0.40:
                hours = rng.random() < 0.5
                kind = EarnKind.TIMEBANK_SERVICE if hours else EarnKind.VOLUNTEER_SERVICE
                amount = rng.choice([30, 60, 90, 120]) if hours else rng.randint(1, 20)
                services.award(
                    actor=admin, resident=res(who), kind=kind, amount=amount, idempotency_key=key
                )
                deltas[(who, "minutes" if hours else "points")] += amount
                done.append(("earn", (who, kind, amount, key)))
            elif roll < 0.75:
                if rng.random() < 0.5:
                    pts = rng.randint(1, 25)
                    services.donate(actor=admin, resident=res(who), points=pts, idempotency_key=key)
                    deltas[(who, "points")] -= pts
                    done.append(("donate", (who, pts, key)))
                else:
                    m = rng.choice([15, 30, 60])
                    services.hours_spend(
                        actor=admin, resident=res(who), minutes=m, idempotency_key=key
                    )
                    deltas[(who, "minutes")] -= m
            else:
                other = rng.choice([r for r in house if r != who])
                m = rng.choice([10, 20, 30, 45])
                services.hours_transfer(
                    actor=admin,
                    sender=res(who),
                    receiver=res(other),
                    minutes=m,
                    idempotency_key=key,
                )
                deltas[(who, "minutes")] -= m
                deltas[(other, "minutes")] += m
            ok += 1
        except DomainError:
            refused += 1
        finally:
            latencies.append(time.perf_counter() - t0)
    out.put(
        {"ok": ok, "refused": refused, "retried": retried, "deltas": dict(deltas), "lat": latencies}
    )
    connection.close()


def main(argv: list[str]) -> int:
    n_accounts = _opt(argv, "accounts", 100_000)
    workers = _opt(argv, "workers", 20)
    ops = _opt(argv, "ops", 50_000)
    n_comm = _opt(argv, "communities", 5)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    setup(fresh=True)
    from django.db import connection, connections

    from linli.ledger.checks import recompute
    from linli.ledger.models import Account, Entry, LedgerTransaction

    t0 = time.perf_counter()
    data = _build(n_accounts // 2, n_comm)
    print(
        f"built {Account.objects.count()} accounts in {n_comm} communities "
        f"in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    connections.close_all()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    per = ops // workers
    procs = [ctx.Process(target=_worker, args=(i, per, data, 1000 + i, q)) for i in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _p in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    ok = sum(r["ok"] for r in results)
    refused = sum(r["refused"] for r in results)
    retried = sum(r["retried"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    print(
        f"{workers} workers, {per * workers} operations in {wall:.1f}s: "
        f"{ok} posted, {refused} refused "
        f"(insufficient balance), {retried} retries"
    )
    print(
        f"throughput: {ok / wall:.0f} transactions/s posted, "
        f"{(per * workers) / wall:.0f} operations/s; "
        f"latency p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms"
    )
    # Checks.
    expected: dict[tuple[int, str], int] = defaultdict(int)
    for r in results:
        for k, v in r["deltas"].items():
            expected[k] += v
    actual = {
        (rid, cur): bal
        for rid, cur, bal in Account.objects.filter(kind="resident").values_list(
            "resident_id", "currency", "balance"
        )
    }
    lost = [(k, v, actual.get(k, 0)) for k, v in expected.items() if actual.get(k, 0) != v]
    nonzero_unexpected = [k for k, v in actual.items() if v and k not in expected]
    negatives = Account.objects.filter(allow_negative=False, balance__lt=0).count()
    n_tx = LedgerTransaction.objects.count()
    setup_tx = 0
    rep = recompute()
    print(
        f"transactions in ledger: {n_tx} (posted by workers {ok}); entries {Entry.objects.count()}"
    )
    print(f"negative resident balances: {negatives}")
    print(f"lost updates (balance != sum of accepted ops): {len(lost) + len(nonzero_unexpected)}")
    print(
        f"balances != sum of entries: {len(rep.balance_diffs)}; "
        f"statements with wrong running balance: "
        f"{len(rep.running_diffs)}; unbalanced transactions: {len(rep.unbalanced_tx)}"
    )
    print(
        "trial balance per community/currency:",
        {f"{c}:{cur}": v for (c, cur), v in sorted(rep.trial.items())},
    )
    # Statement check on the hot accounts: each entry's running balance = previous + change.
    hot_ids = [rid for house in data["hot"] for rid in house]
    broken = 0
    for acc in Account.objects.filter(resident_id__in=hot_ids):
        running = 0
        for side, amount, after in (
            Entry.objects.filter(account=acc)
            .order_by("id")
            .values_list("side", "amount", "balance_after")
        ):
            running += amount if side == "C" else -amount
            if running != after:
                broken += 1
                break
        if running != acc.balance:
            broken += 1
    print(f"hot account statements inconsistent: {broken} of {len(hot_ids) * 2}")
    good = (
        not lost
        and not nonzero_unexpected
        and negatives == 0
        and rep.ok
        and broken == 0
        and n_tx - setup_tx == ok
    )
    print("RESULT:", "PASS" if good else "FAIL")
    connection.close()
    return 0 if good else 1


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    raise SystemExit(main(sys.argv[1:]))
