"""How long does generating a street take? Default 100 000 households (SPEC scale),
into a fresh PostgreSQL database. `python -m bench seed --households=20000`."""

from __future__ import annotations

import time


def main(argv: list[str]) -> int:
    households = 100_000
    for a in argv:
        if a.startswith("--households="):
            households = int(a.split("=", 1)[1])
    from bench._django import setup

    setup(fresh=True)
    from django.db import connection

    from linli.communities.models import Building, Household, OrgUnit, Resident
    from linli.core import demo

    t0 = time.perf_counter()
    demo.load(seed=2026, households=households)
    elapsed = time.perf_counter() - t0
    counts = {
        "communities": OrgUnit.objects.filter(kind="community").count(),
        "buildings": Building.objects.count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
    }
    print(f"backend={connection.vendor} households={households} seconds={elapsed:.1f} {counts}")
    hh_rate = counts["households"] / elapsed
    print(f"rate={hh_rate:.0f} households/s, {counts['residents'] / elapsed:.0f} residents/s")
    return 0 if counts["households"] == households else 1
