"""The community fund's quarterly disclosure 财务公示 at scale.

``.venv/bin/python -m bench projects_disclosure [--movements=10000] [--projects=12]``
(database ``linli_bench_projects_disclosure``, rebuilt each run; set
BENCH_DATABASE_URL to use another, e.g. ``sqlite:////tmp/x.sqlite3``).

1. A community with a fund and ``projects`` filed micro-projects (one budget line each).
2. ``movements`` movements posted through the fund services (the product's path:
   permission, idempotency key, ledger transaction, audit): four in five are income
   (donations, charity sales, grants, partner contributions; half the donors
   consenting to be named), one in five an expense against a budget line.
3. The disclosure for the current quarter (as if it had ended): the summary data, the
   A4 PDF for the notice board (target < 2 s, data included), and the Excel workbook
   with every movement. It must reconcile with the ledger to the fen.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_projects_disclosure"
TARGET_PDF_S = 2.0


def _opt(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def build(n_projects: int) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from linli.accounts.models import Membership, Role, User
    from linli.communities.models import Building, Household, Resident
    from linli.core import ratelimit
    from linli.core.demo import _unit
    from linli.projects import services
    from linli.projects.models import MicroProject

    with transaction.atomic(), ratelimit.suspended():
        city = _unit("city", "杭州市", "fd-city", None)
        district = _unit("district", "拱墅区", "fd-d", city)
        street = _unit("street", "和睦街道", "fd-s", district)
        c = _unit("community", "阳光社区", "fd-c", street)
        g = _unit("grid", "第1网格", "fd-g", c)
        pw = make_password("bench")
        sec = User.objects.create(username="fd-secretary", password=pw)
        worker = User.objects.create(username="fd-worker", password=pw)
        Membership.objects.create(user=sec, role=Role.SECRETARY, unit=c)
        Membership.objects.create(user=worker, role=Role.COMMUNITY_WORKER, unit=c)
        proposer = User.objects.create(username="fd-resident", password=pw)
        Membership.objects.create(user=proposer, role=Role.RESIDENT, unit=c)
        b = Building.objects.create(community=c, grid=g, name="1幢")
        h = Household.objects.create(
            community=c, building=b, unit="1", room="101", area_m2="80.00", tenure="owner"
        )
        Resident.objects.create(
            community=c, grid=g, household=h, name="居民", birth_year=1960, user=proposer
        )
        lines = []
        for j in range(n_projects):
            mp = services.micro_propose(
                actor=proposer,
                community=c,
                title=f"微更新项目{j + 1}",
                problem="p",
                plan="q",
                place="x",
                lines=[("材料", "50000")],
            )
            MicroProject.objects.filter(pk=mp.pk).update(
                status="filed", submitted_at=timezone.now(), review_due=timezone.now()
            )
            lines.append(mp.lines.get().pk)
    return {"community": c.pk, "sec": sec.pk, "worker": worker.pk, "lines": lines}


def post_movements(data: dict[str, Any], n: int) -> float:
    from linli.accounts.models import User
    from linli.communities.models import OrgUnit
    from linli.core import ratelimit
    from linli.projects.models import BudgetLine
    from linli.projects.services import fund

    sec = User.objects.get(pk=data["sec"])
    worker = User.objects.get(pk=data["worker"])
    c = OrgUnit.objects.get(pk=data["community"])
    lines = list(BudgetLine.objects.filter(pk__in=data["lines"]).order_by("pk"))
    sources = ["donation", "charity_sale", "grant", "partner"]
    t0 = time.perf_counter()
    with ratelimit.suspended():
        for i in range(n):
            if i % 5 == 4:
                fund.fund_expense(
                    actor=worker, line=lines[i % len(lines)], amount_yuan="4", memo=f"支出{i}"
                )
            else:
                fund.fund_income(
                    actor=sec,
                    community=c,
                    source=sources[i % 4],
                    amount_yuan=f"{10 + i % 90}.50",
                    memo=f"收入{i}",
                    donor_name=f"捐赠人{i}",
                    donor_consent=i % 2 == 0,
                )
    return time.perf_counter() - t0


def measure(community_id: int) -> dict[str, Any]:
    """Time the disclosure as the three views build it (a fresh query each)."""
    from django.utils import timezone
    from django.utils.translation import override

    from linli.communities.models import OrgUnit
    from linli.core.exports import xlsx_response
    from linli.projects.services import fund
    from linli.projects.views_fund import disclosure_sheets, render_pdf

    c = OrgUnit.objects.get(pk=community_id)
    now = timezone.localtime()
    q = (now.month - 1) // 3 + 1
    later = timezone.now() + timedelta(days=200)
    out: dict[str, Any] = {}
    with override("zh-hans"):
        t0 = time.perf_counter()
        d = fund.disclosure(community=c, year=now.year, quarter=q, now=later)
        out["data_s"] = time.perf_counter() - t0
        for run in ("pdf_cold_s", "pdf_s"):  # the first render loads WeasyPrint and fonts
            t0 = time.perf_counter()
            d = fund.disclosure(community=c, year=now.year, quarter=q, now=later)
            pdf = render_pdf(d)
            out[run] = time.perf_counter() - t0
        out["pdf_kb"] = len(pdf) // 1024
        t0 = time.perf_counter()
        d = fund.disclosure(community=c, year=now.year, quarter=q, now=later, with_movements=True)
        out["rows_s"] = time.perf_counter() - t0  # what every disclosure cost before
        xlsx = xlsx_response(disclosure_sheets(d), "bench.xlsx").content
        out["xlsx_s"] = time.perf_counter() - t0
        out["xlsx_kb"] = len(xlsx) // 1024
    out["count"] = d.movement_count
    out["rows"] = len(d.movements)
    out["reconciles"] = d.reconciles
    out["closing"] = d.closing
    return out


def report(m: dict[str, Any]) -> bool:
    print(
        f"disclosure of {m['count']} movements: data (SQL totals) {m['data_s']:.2f}s "
        f"(loading every movement instead: {m['rows_s']:.2f}s); "
        f"A4 PDF (data + render) {m['pdf_s']:.2f}s, first render in the process "
        f"{m['pdf_cold_s']:.2f}s ({m['pdf_kb']} KB, target < {TARGET_PDF_S} s); "
        f"Excel with every movement {m['xlsx_s']:.2f}s ({m['xlsx_kb']} KB, {m['rows']} rows); "
        f"reconciles with the ledger: {m['reconciles']} (closing {m['closing'] / 100:.2f} yuan)",
        flush=True,
    )
    # The target is for a serving process (WeasyPrint and its fonts already loaded).
    return bool(m["reconciles"]) and m["pdf_s"] < TARGET_PDF_S


def main(argv: list[str]) -> int:
    n_moves = _opt(argv, "movements", 10_000)
    n_projects = _opt(argv, "projects", 12)
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    from bench._django import setup

    url = setup(fresh=True)
    print(f"database {url.split('@')[-1]}", flush=True)
    data = build(n_projects)
    took = post_movements(data, n_moves)
    print(
        f"posted {n_moves} fund movements through the services in {took:.1f}s "
        f"({n_moves / took:.0f}/s)",
        flush=True,
    )
    return 0 if report(measure(data["community"])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
