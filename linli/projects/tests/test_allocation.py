"""Greedy and Equal Shares on small hand-computed instances, and properties on random
ones (no database)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pabutools.analysis.justifiedrepresentation import is_EJR_one_approval
from pabutools.analysis.mesanalytics import calculate_effective_support
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import (
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from linli.projects.allocation import (
    GREEDY,
    MES,
    TIES,
    Item,
    Outcome,
    _election,
    _explain,
    compare,
    equal_shares,
    greedy,
    pabulib,
)


def test_greedy_and_mes_differ() -> None:
    """6 voters approve A and B (50 each), 4 voters approve C (50); budget 100.
    Greedy funds the two most-voted, A and B: the 4 get nothing. Equal Shares gives
    the 6 a share of 60 (enough for A) and the 4 a share of 40; raising the shares to
    12.5 each lets the 4 buy C: {A, C}."""
    items = [Item(1, 50, "1幢"), Item(2, 50, "1幢"), Item(3, 50, "2幢")]
    ballots = [[1, 2]] * 6 + [[3]] * 4
    g = greedy(items, ballots, 100)
    m = equal_shares(items, ballots, 100)
    assert g.funded == [1, 2] and g.spent == 100
    assert sorted(m.funded) == [1, 3] and m.spent == 100
    assert m.projects[2].reason == "not_enough_support" or m.projects[2].reason == "did_not_fit"
    assert g.projects[3].reason == "did_not_fit"
    comp = compare(items, ballots, [g, m])
    assert comp.satisfied == {"greedy": 6, "mes": 10}
    assert comp.by_group == {"greedy": {"1幢": 100}, "mes": {"1幢": 50, "2幢": 50}}


def test_ties_broken_by_lower_cost_then_earlier_id() -> None:
    items = [Item(1, 60), Item(2, 40), Item(3, 40)]
    ballots = [[1, 2, 3]] * 3
    g = greedy(items, ballots, 80)
    # All three tied on 3 votes: 2 (40, lower id than 3) first, then 3; 1 no longer fits.
    assert g.funded == [2, 3]
    assert g.projects[1].reason == "did_not_fit"


def test_project_costing_more_than_budget_is_never_funded() -> None:
    items = [Item(1, 150), Item(2, 30)]
    ballots = [[1]] * 9 + [[2]]
    for out in (greedy(items, ballots, 100), equal_shares(items, ballots, 100)):
        assert out.funded == [2]
        assert out.projects[1].reason == "over_budget" and out.projects[1].votes == 9


def test_no_ballots_funds_nothing() -> None:
    items = [Item(1, 10)]
    assert greedy(items, [], 100).funded == []
    assert equal_shares(items, [], 100).funded == []


def test_mes_explanation_has_effective_support() -> None:
    items = [Item(1, 50), Item(2, 50), Item(3, 50)]
    out = equal_shares(items, [[1, 2]] * 6 + [[3]] * 4, 100)
    assert out.projects[1].effective_support is not None
    assert out.projects[1].effective_support >= 100  # funded: at least what it needed


def test_pabulib_export_round_trips() -> None:
    from pabutools.election.pabulib import parse_pabulib_from_string

    items = [Item(1, 50), Item(2, 70)]
    text = pabulib(
        items,
        [[1], [1, 2], [2]],
        100,
        meta={
            "description": "t",
            "country": "China",
            "unit": "u",
            "instance": "i",
            "rule": "greedy",
        },
        max_length=2,
    )
    instance, profile = parse_pabulib_from_string(text)
    assert instance.budget_limit == 100 and len(instance) == 2
    assert profile.num_ballots() == 3 and "max_length;2" in text


random_instances = st.integers(min_value=1, max_value=6).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=1, max_value=60), min_size=n, max_size=n),
        st.lists(
            st.lists(st.integers(min_value=0, max_value=n - 1), min_size=1, max_size=n),
            min_size=1,
            max_size=8,
        ),
        st.integers(min_value=10, max_value=120),
    )
)


@settings(max_examples=40, deadline=None)
@given(random_instances)
def test_no_method_exceeds_budget(data: tuple[list[int], list[list[int]], int]) -> None:
    costs, raw, budget = data
    items = [Item(i + 1, c) for i, c in enumerate(costs)]
    ballots = [[i + 1 for i in set(b)] for b in raw]
    for out in (greedy(items, ballots, budget), equal_shares(items, ballots, budget)):
        assert out.spent == sum(costs[i - 1] for i in out.funded) <= budget
        assert len(set(out.funded)) == len(out.funded)


@settings(max_examples=25, deadline=None)
@given(random_instances)
def test_mes_satisfies_ejr_up_to_one(data: tuple[list[int], list[list[int]], int]) -> None:
    costs, raw, budget = data
    items = [Item(i + 1, c) for i, c in enumerate(costs)]
    ballots = [[i + 1 for i in set(b)] for b in raw]
    out = equal_shares(items, ballots, budget, effective_support=False)
    projects = {it.id: Project(str(it.id), it.cost) for it in items}
    instance = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile(
        [ApprovalBallot([projects[i] for i in b]) for b in ballots], instance=instance
    )
    chosen = [projects[i] for i in out.funded]
    assert is_EJR_one_approval(instance, profile, Cost_Sat, chosen)


# --- Equal Shares and greedy against pabutools itself --------------------------------
# allocation.py computes Equal Shares on budget classes (identical ballots merged,
# voters grouped by what they hold) instead of calling pabutools once per 1 % step of
# the completion. The reference below is the pabutools pipeline it replaced; every
# outcome, order, reason and effective support must be the same.


def reference_equal_shares(items: list[Item], ballots: list[list[int]], budget: int) -> Outcome:
    instance, profile, _by_id = _election(items, ballots, budget)
    if profile.num_ballots() == 0:
        return _explain(MES, items, ballots, budget, [], completion_from=None)
    params: dict[str, Any] = {"sat_class": Cost_Sat, "tie_breaking": TIES}
    mes_part = list(
        exhaustion_by_budget_increase(
            instance, profile, method_of_equal_shares, rule_params=dict(params)
        )
    )
    chosen = list(
        greedy_utilitarian_welfare(
            instance,
            profile,
            sat_class=Cost_Sat,
            tie_breaking=TIES,
            initial_budget_allocation=mes_part,
        )
    )
    out = _explain(
        MES, items, ballots, budget, [int(p.name) for p in chosen], completion_from=len(mes_part)
    )
    plain = Instance(instance, budget_limit=budget)
    picked = set(mes_part)
    for p in plain:
        if p.cost > budget or out.projects[int(p.name)].votes == 0:
            continue
        value = calculate_effective_support(plain, profile, p, p in picked, dict(params))
        out.projects[int(p.name)].effective_support = int(value)
    return out


def reference_greedy(items: list[Item], ballots: list[list[int]], budget: int) -> Outcome:
    instance, profile, _by_id = _election(items, ballots, budget)
    chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=TIES)
    return _explain(
        GREEDY, items, ballots, budget, [int(p.name) for p in chosen], completion_from=None
    )


def assert_same_as_pabutools(items: list[Item], ballots: list[list[int]], budget: int) -> None:
    mine, ref = equal_shares(items, ballots, budget), reference_equal_shares(items, ballots, budget)
    assert mine.funded == ref.funded and mine.spent == ref.spent
    assert mine.projects == ref.projects  # reasons, ranks, votes, effective support
    assert greedy(items, ballots, budget) == reference_greedy(items, ballots, budget)


HAND_MADE = [
    # greedy {A,B} vs Equal Shares {A,C} (the case above)
    ([Item(1, 50), Item(2, 50), Item(3, 50)], [[1, 2]] * 6 + [[3]] * 4, 100),
    # exact ties everywhere: same cost, same supporters
    ([Item(1, 40), Item(2, 40), Item(3, 40)], [[1, 2, 3]] * 3, 80),
    # a project costing more than the budget, one nobody wants, empty ballots
    ([Item(1, 150), Item(2, 30), Item(3, 20)], [[1]] * 9 + [[2]] + [[]] * 2, 100),
    # supporters run out of money at different rounds (poor/rich split)
    (
        [Item(1, 30), Item(2, 60), Item(3, 45), Item(4, 10)],
        [[1, 2], [1, 2], [2, 3], [3], [3, 4], [1, 4], [2], [1, 2, 3, 4]],
        100,
    ),
    # the completion raises the shares several times before the greedy fill
    ([Item(1, 7), Item(2, 11), Item(3, 13), Item(4, 29)], [[1], [2], [3], [4], [1, 4]], 40),
]


def test_equal_shares_matches_pabutools_on_hand_made_profiles() -> None:
    for items, ballots, budget in HAND_MADE:
        assert_same_as_pabutools(items, ballots, budget)


@settings(max_examples=60, deadline=None)
@given(random_instances)
def test_equal_shares_matches_pabutools_on_random_profiles(
    data: tuple[list[int], list[list[int]], int],
) -> None:
    costs, raw, budget = data
    items = [Item(i + 1, c) for i, c in enumerate(costs)]
    ballots = [[i + 1 for i in set(b)] for b in raw]
    assert_same_as_pabutools(items, ballots, budget)


def test_identical_ballots_count_once_with_their_number() -> None:
    """Many voters, few distinct ballots: the same outcome as pabutools on the
    expanded profile (grouping must not change a single number)."""
    items = [Item(1, 300), Item(2, 200), Item(3, 120), Item(4, 90), Item(5, 500)]
    ballots = [[1, 2]] * 40 + [[3]] * 25 + [[3, 4]] * 17 + [[5, 1]] * 30 + [[4]] * 11 + [[2, 5]] * 9
    assert_same_as_pabutools(items, ballots, 900)
