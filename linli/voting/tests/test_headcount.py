"""Property tests: the owners' roll (:func:`group_units`) against the interpretation's
wording (:func:`reference_headcount`), and the invariants of the roll itself."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linli.communities.ownership import UnitOwners
from linli.voting.owners import group_units, reference_headcount

PEOPLE = [f"r{i}" for i in range(1, 6)] + ["o1", "o2"]
DEVELOPERS = ["d1", "d2"]


@st.composite
def a_unit(draw: st.DrawFn, hid: int) -> UnitOwners:
    kind = draw(st.sampled_from(["person", "co", "held", "developer_own", "none"]))
    area = Decimal(draw(st.integers(min_value=1, max_value=30_000))) / 100
    if kind == "none":
        return UnitOwners(hid, area, (), "", False, (), draw(st.booleans()))
    if kind in ("held", "developer_own"):
        d = draw(st.sampled_from(DEVELOPERS))
        return UnitOwners(hid, area, (d,), "", kind == "held", (), True)
    n = 1 if kind == "person" else draw(st.integers(min_value=2, max_value=3))
    owners = tuple(
        sorted(draw(st.lists(st.sampled_from(PEOPLE), min_size=n, max_size=n, unique=True)))
    )
    rep = draw(st.sampled_from(["", *owners])) if n > 1 else ""
    rids = tuple(int(o[1:]) for o in owners if o.startswith("r"))
    return UnitOwners(hid, area, owners, rep, False, rids, draw(st.booleans()))


@st.composite
def estates(draw: st.DrawFn) -> list[UnitOwners]:
    n = draw(st.integers(min_value=0, max_value=25))
    return [draw(a_unit(hid)) for hid in range(1, n + 1)]


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(estates())
@example(  # issue 11, case 1: X owns 3 units, 9 single owners → 10
    [UnitOwners(h, Decimal(100), ("r1",), "", False, (1,), True) for h in (1, 2, 3)]
    + [UnitOwners(h, Decimal(100), (f"o{h}",), "", False, (), True) for h in range(4, 13)]
)
@example(  # case 4: 4 unsold developer units + 8 single owners → 9
    [UnitOwners(h, Decimal(50), ("d1",), "", True, (), True) for h in (1, 2, 3, 4)]
    + [UnitOwners(h, Decimal(100), (f"o{h}",), "", False, (), True) for h in range(5, 13)]
)
def test_headcount_matches_the_interpretation(units: list[UnitOwners]) -> None:
    roll = group_units(units)
    assert len(roll) == reference_headcount(units)


@FAST
@given(estates())
def test_every_counted_unit_is_in_exactly_one_entry_and_area_adds_up(
    units: list[UnitOwners],
) -> None:
    roll = group_units(units)
    placed = [h for e in roll for h in e.units]
    counted = [u for u in units if u.owners or u.owner_occupied]
    assert sorted(placed) == sorted(u.household_id for u in counted)
    assert sum((e.area for e in roll), Decimal(0)) == sum((u.area_m2 for u in counted), Decimal(0))
    by_id = {u.household_id: u for u in units}
    for e in roll:
        assert e.area == sum((by_id[h].area_m2 for h in e.units), Decimal(0))
        owner_sets = {by_id[h].owners for h in e.units}
        assert len(owner_sets) == 1  # one buyer per entry
        if len(e.units) > 1:
            assert e.developer_held or (next(iter(owner_sets)) != ())


@FAST
@given(estates())
def test_units_of_one_owner_are_one_entry_and_casters_are_owners(units: list[UnitOwners]) -> None:
    roll = group_units(units)
    entry_of = {h: e.key for e in roll for h in e.units}
    for a in units:
        for b in units:
            if a.owners and a.owners == b.owners and a.developer_held == b.developer_held:
                assert entry_of[a.household_id] == entry_of[b.household_id]
    for e in roll:
        if not e.legacy:
            owners = {
                o for h in e.units for o in next(u for u in units if u.household_id == h).owners
            }
            assert {f"r{c}" for c in e.casters} <= owners


def test_empty_estate_has_no_owners() -> None:
    assert group_units([]) == [] and reference_headcount([]) == 0
