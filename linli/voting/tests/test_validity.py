"""Validity rules against a direct reference computation (integer cross-multiplication
on exact fractions), including the exact boundaries 2/3, 1/2, 3/4 and 20 %."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linli.voting.validity import Totals, evaluate


def reference(rule: str, mc: str, weighting: str, t: Totals) -> tuple[bool, bool]:
    """SPEC §3 restated as cross-multiplied comparisons (no division at all)."""
    e, p, y = t.eligible_count, t.participants, t.yes_count
    ea, pa, ya = t.eligible_area, t.participating_area, t.yes_area
    if rule == "participation_20":
        valid = e > 0 and 5 * p >= e
    elif rule == "members_two_thirds":
        valid = e > 0 and 3 * p >= 2 * e
    elif rule == "households_75":
        valid = e > 0 and 4 * p >= 3 * e
    else:
        valid = e > 0 and ea > 0 and 3 * pa >= 2 * ea and 3 * p >= 2 * e
    if rule == "art278":
        if mc == "special":
            ok = pa > 0 and p > 0 and 4 * ya >= 3 * pa and 4 * y >= 3 * p
        else:
            ok = pa > 0 and p > 0 and 2 * ya > pa and 2 * y > p
    elif weighting == "area":
        ok = pa > 0 and 2 * ya > pa
    else:
        ok = p > 0 and 2 * y > p
    return valid, valid and ok


@st.composite
def totals(draw: st.DrawFn) -> Totals:
    e = draw(st.integers(min_value=0, max_value=400))
    p = draw(st.integers(min_value=0, max_value=e))
    y = draw(st.integers(min_value=0, max_value=p))
    # Areas in cents, as stored (DecimalField with 2 places).
    cents = st.integers(min_value=0, max_value=5_000_000)
    ea_c = draw(cents)
    pa_c = draw(st.integers(min_value=0, max_value=ea_c))
    ya_c = draw(st.integers(min_value=0, max_value=pa_c))
    return Totals(e, Fraction(ea_c, 100), p, Fraction(pa_c, 100), y, Fraction(ya_c, 100))


@st.composite
def boundary_totals(draw: st.DrawFn) -> Totals:
    """Totals sitting exactly on (or one unit beside) a threshold."""
    k = draw(st.integers(min_value=1, max_value=200))
    num, den = draw(st.sampled_from([(2, 3), (1, 2), (3, 4), (1, 5)]))
    e = den * k
    p_exact = num * k
    p = p_exact + draw(st.sampled_from([-1, 0, 0, 1]))
    p = max(0, min(e, p))
    y_num, y_den = draw(st.sampled_from([(1, 2), (3, 4)]))
    y = min(p, (p * y_num) // y_den + draw(st.sampled_from([-1, 0, 0, 1])))
    y = max(0, y)
    unit = Fraction(draw(st.integers(min_value=1, max_value=20000)), 100)
    return Totals(e, e * unit, p, p * unit, y, y * unit)


RULES = st.sampled_from(["participation_20", "members_two_thirds", "households_75", "art278"])
CLASSES = st.sampled_from(["ordinary", "special"])
WEIGHTS = st.sampled_from(["head", "area"])
# The generation is cheap; on a loaded shared machine the first draws can still be slow
# enough for Hypothesis' too_slow health check, which says nothing about the rules.
LOADED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LOADED
@given(RULES, CLASSES, WEIGHTS, totals())
@example("art278", "ordinary", "area", Totals(3, Fraction(300), 2, Fraction(200), 1, Fraction(100)))
@example("art278", "special", "area", Totals(4, Fraction(400), 4, Fraction(400), 3, Fraction(300)))
def test_rules_match_reference(rule: str, mc: str, w: str, t: Totals) -> None:
    ev = evaluate(rule=rule, matter_class=mc, weighting=w, totals=t)
    assert (ev.valid, ev.passed) == reference(rule, mc, w, t)


@LOADED
@given(RULES, CLASSES, WEIGHTS, boundary_totals())
def test_rules_match_reference_on_boundaries(rule: str, mc: str, w: str, t: Totals) -> None:
    ev = evaluate(rule=rule, matter_class=mc, weighting=w, totals=t)
    assert (ev.valid, ev.passed) == reference(rule, mc, w, t)


def t_(e: int, ea: str, p: int, pa: str, y: int, ya: str) -> Totals:
    return Totals(e, Fraction(ea), p, Fraction(pa), y, Fraction(ya))


def test_exactly_two_thirds_takes_part_is_valid() -> None:
    ev = evaluate(
        rule="art278",
        matter_class="ordinary",
        weighting="area",
        totals=t_(3, "300", 2, "200", 2, "200"),
    )
    assert ev.valid and ev.passed


def test_just_below_two_thirds_of_area_is_invalid_even_with_two_thirds_of_owners() -> None:
    ev = evaluate(
        rule="art278",
        matter_class="ordinary",
        weighting="area",
        totals=t_(3, "300.00", 2, "199.99", 2, "199.99"),
    )
    assert not ev.valid and not ev.passed


def test_exactly_half_does_not_pass_ordinary_matter() -> None:
    ev = evaluate(
        rule="art278",
        matter_class="ordinary",
        weighting="area",
        totals=t_(4, "400", 4, "400", 2, "200"),
    )
    assert ev.valid and not ev.passed


def test_half_of_owners_but_more_area_does_not_pass() -> None:
    # Area AND headcount: 60 % of the area from only half the owners is not enough.
    ev = evaluate(
        rule="art278",
        matter_class="ordinary",
        weighting="area",
        totals=t_(4, "400", 4, "400", 2, "240"),
    )
    assert ev.valid and not ev.passed


def test_exactly_three_quarters_passes_special_matter() -> None:
    ev = evaluate(
        rule="art278",
        matter_class="special",
        weighting="area",
        totals=t_(4, "400", 4, "400", 3, "300"),
    )
    assert ev.passed


def test_just_below_three_quarters_of_area_fails_special_matter() -> None:
    ev = evaluate(
        rule="art278",
        matter_class="special",
        weighting="area",
        totals=t_(4, "400", 4, "400", 3, "299.99"),
    )
    assert ev.valid and not ev.passed


def test_exactly_twenty_percent_is_valid_and_below_is_not() -> None:
    ok = evaluate(
        rule="participation_20",
        matter_class="",
        weighting="head",
        totals=t_(10, "0", 2, "0", 2, "0"),
    )
    low = evaluate(
        rule="participation_20",
        matter_class="",
        weighting="head",
        totals=t_(11, "0", 2, "0", 2, "0"),
    )
    assert ok.valid and not low.valid


def test_exactly_75_percent_of_households() -> None:
    assert evaluate(
        rule="households_75", matter_class="", weighting="head", totals=t_(8, "0", 6, "0", 4, "0")
    ).passed
    assert not evaluate(
        rule="households_75", matter_class="", weighting="head", totals=t_(8, "0", 5, "0", 5, "0")
    ).valid


def test_nobody_eligible_is_never_valid() -> None:
    for rule in ["participation_20", "members_two_thirds", "households_75", "art278"]:
        ev = evaluate(
            rule=rule, matter_class="ordinary", weighting="head", totals=t_(0, "0", 0, "0", 0, "0")
        )
        assert not ev.valid and not ev.passed
