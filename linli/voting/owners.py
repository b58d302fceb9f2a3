"""Owners as the law counts them (民法典第二百七十八条 with 法释〔2009〕7号 art. 8–9).

* Area (art. 8): the exclusive units' area; a roll entry's area is the sum of its units.
* Headcount (art. 9): one per exclusive unit, except that one buyer owning several
  units counts as one, and the developer's unsold or sold-but-undelivered units count
  together as one.

A "buyer" here is the set of a unit's active owners: a person's sole units form one
entry; the units the same co-owners hold together form one entry (and one vote, cast
by their representative or the first of them — the ballot's co-owner rule); a unit
co-owned by A and B and a unit A owns alone are two buyers, so two entries.

A unit with no recorded owner is on an owners' roll only when its household is
owner-occupied (``tenure = owner``): it is then its own entry and any adult member
may cast its vote — the representation before ownership was recorded (units created
by the demo, benchmarks or older imports without ownership columns).

:func:`group_units` is pure (property-tested against :func:`reference_headcount`,
which computes the number from the interpretation's wording instead).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from linli.communities.ownership import UnitOwners


@dataclass
class RollEntry:
    """One owner as counted on the roll: its units, area and who may cast its vote."""

    key: str
    units: list[int] = field(default_factory=list)
    area: Decimal = Decimal("0")
    casters: list[int] = field(default_factory=list)
    owner_count: int = 1
    representative_key: str = ""
    developer_held: bool = False
    legacy: bool = False

    @property
    def representative_resident(self) -> int | None:
        if self.representative_key.startswith("r"):
            return int(self.representative_key[1:])
        return None


def _entry_key(raw: str) -> str:
    # Fits the column whatever the number of co-owners; stable for one owner set.
    return raw if len(raw) <= 120 else "g" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def group_units(
    units: Iterable[UnitOwners], legacy_casters: Mapping[int, Iterable[int]] | None = None
) -> list[RollEntry]:
    """The owners' roll: entries in the order of their first unit.

    ``legacy_casters`` gives, for owner-occupied units without a recorded owner, the
    adult members who may cast the unit's vote."""
    entries: dict[str, RollEntry] = {}
    legacy_casters = legacy_casters or {}
    for u in sorted(units, key=lambda x: x.household_id):
        if not u.owners:
            if not u.owner_occupied:
                continue  # owner unknown (a let unit without a recorded landlord)
            key = f"h{u.household_id}"
            entries[key] = RollEntry(
                key=key,
                units=[u.household_id],
                area=u.area_m2,
                casters=sorted(set(legacy_casters.get(u.household_id, ()))),
                legacy=True,
            )
            continue
        if u.developer_held:
            key = _entry_key("+".join(u.owners) + ":held")
        else:
            key = _entry_key("+".join(u.owners))
        e = entries.get(key)
        if e is None:
            e = entries[key] = RollEntry(
                key=key,
                owner_count=1 if u.developer_held else len(u.owners),
                representative_key=u.representative,  # the first unit's
                developer_held=u.developer_held,
            )
        e.units.append(u.household_id)
        e.area += u.area_m2
        e.casters = sorted(set(e.casters) | set(u.resident_ids))
    return list(entries.values())


def reference_headcount(units: Iterable[UnitOwners]) -> int:
    """Art. 9 read literally: the number of exclusive units, minus (k − 1) for every
    buyer owning k > 1 units, minus (n − 1) for the developer's n > 0 unsold or
    undelivered units. Independent of :func:`group_units`, for the property tests."""
    counted = [u for u in units if u.owners or u.owner_occupied]
    total = len(counted)
    held = [u for u in counted if u.owners and u.developer_held]
    by_developer = Counter(frozenset(u.owners) for u in held)
    total -= sum(n - 1 for n in by_developer.values())
    buyers = Counter(frozenset(u.owners) for u in counted if u.owners and not u.developer_held)
    total -= sum(k - 1 for k in buyers.values())
    return total
