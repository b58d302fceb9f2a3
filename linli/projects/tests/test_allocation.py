"""Greedy and Equal Shares on small hand-computed instances, and properties on random
ones (no database)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pabutools.analysis.justifiedrepresentation import is_EJR_one_approval
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project

from linli.projects.allocation import Item, compare, equal_shares, greedy, pabulib


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
