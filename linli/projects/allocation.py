"""Participatory-budgeting allocation with pabutools (pure: no database).

Two methods, both with approval ballots (a knapsack ballot is an approval ballot whose
ticked projects fit the budget):

* ``greedy`` — what Decidim and CONSUL do: projects in order of votes, each funded if it
  still fits the remaining budget (pabutools' greedy utilitarian rule with cost
  satisfaction: a project's welfare per yuan is then exactly its number of votes).
* ``mes`` — the Method of Equal Shares with cost utilities (equalshares.net): the budget
  is split equally among the voters and a project is bought by its supporters' shares;
  completed as equalshares.net recommends — first by raising every voter's share
  (``exhaustion_by_budget_increase``) while the outcome stays within the real budget,
  then greedily by votes with what is left.

Ties are broken by lower cost, then by the earlier proposal (lower id) — published on
the results page. Costs are integer fen, so every sum is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pabutools.analysis.mesanalytics import calculate_effective_support
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.election.pabulib import election_as_pabulib_string
from pabutools.rules import (
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule

GREEDY = "greedy"
MES = "mes"
METHODS = (GREEDY, MES)


@dataclass(frozen=True)
class Item:
    id: int
    cost: int  # fen
    group: str = ""  # building / district, for the comparison


@dataclass
class Explanation:
    id: int
    cost: int
    votes: int
    funded: bool
    # "funded", "no_votes", "over_budget" (costs more than the whole budget),
    # "did_not_fit" (greedy: not enough left), "not_enough_support" (MES: supporters'
    # shares could not pay for it), "completion" (MES: funded in the greedy completion).
    reason: str
    rank: int | None = None  # order in which it was funded
    effective_support: int | None = None  # MES: % of the support needed to win


@dataclass
class Outcome:
    method: str
    budget: int
    funded: list[int]
    spent: int
    projects: dict[int, Explanation] = field(default_factory=dict)
    # MES only: the per-voter budget multiplier reached by the completion (1.0 = none).
    share_factor: float = 1.0


def _tie_key(_inst: Any, _prof: Any, p: Project) -> tuple[int, int]:
    return (int(p.cost), int(p.name))


TIES = TieBreakingRule(_tie_key)


def _election(
    items: Sequence[Item], ballots: Iterable[Iterable[int]], budget: int
) -> tuple[Instance, ApprovalProfile, dict[int, Project]]:
    by_id = {it.id: Project(str(it.id), it.cost) for it in items}
    instance = Instance(by_id.values(), budget_limit=budget)
    profile = ApprovalProfile(
        [ApprovalBallot([by_id[i] for i in b if i in by_id]) for b in ballots],
        instance=instance,
    )
    return instance, profile, by_id


def votes_of(items: Sequence[Item], ballots: Sequence[Iterable[int]]) -> dict[int, int]:
    votes = {it.id: 0 for it in items}
    for b in ballots:
        for i in set(b):
            if i in votes:
                votes[i] += 1
    return votes


def greedy(items: Sequence[Item], ballots: Sequence[Iterable[int]], budget: int) -> Outcome:
    instance, profile, by_id = _election(items, ballots, budget)
    chosen = list(
        greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=TIES)
    )
    return _explain(GREEDY, items, ballots, budget, chosen, completion_from=None)


def equal_shares(
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    *,
    effective_support: bool = True,
) -> Outcome:
    instance, profile, by_id = _election(items, ballots, budget)
    if profile.num_ballots() == 0:
        return _explain(MES, items, ballots, budget, [], completion_from=None)
    params: dict[str, Any] = {"sat_class": Cost_Sat, "tie_breaking": TIES}
    # Raise the voters' shares (1 % of the budget at a time) while the outcome still
    # fits the real budget; pabutools stops at the last feasible outcome.
    mes_part = list(
        exhaustion_by_budget_increase(
            instance, profile, method_of_equal_shares, rule_params=dict(params)
        )
    )
    # What the raised shares did not spend is handed out greedily by votes.
    chosen = list(
        greedy_utilitarian_welfare(
            instance,
            profile,
            sat_class=Cost_Sat,
            tie_breaking=TIES,
            initial_budget_allocation=mes_part,
        )
    )
    out = _explain(MES, items, ballots, budget, chosen, completion_from=len(mes_part))
    if effective_support:
        # Effective support (pabutools' analytics): the share of the support a project
        # would need to be bought under Equal Shares at the real budget, in %. Only
        # for projects that fit the budget and have votes (others cannot take part).
        plain = Instance(instance, budget_limit=budget)
        picked = set(mes_part)
        for p in plain:
            if p.cost > budget or out.projects[int(p.name)].votes == 0:
                continue
            value = calculate_effective_support(plain, profile, p, p in picked, dict(params))
            out.projects[int(p.name)].effective_support = int(value)
    return out


def _explain(
    method: str,
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    chosen: Sequence[Project],
    *,
    completion_from: int | None,
) -> Outcome:
    votes = votes_of(items, ballots)
    # Greedy rules also "fund" projects nobody approved when money is left: a project
    # without a single vote is never funded (they come last, so dropping them changes
    # nothing else).
    chosen = [p for p in chosen if votes.get(int(p.name), 0) > 0]
    order = {int(p.name): n for n, p in enumerate(chosen, start=1)}
    spent = sum(int(p.cost) for p in chosen)
    out = Outcome(method=method, budget=budget, funded=[int(p.name) for p in chosen], spent=spent)
    for it in items:
        rank = order.get(it.id)
        if rank is not None:
            reason = (
                "completion" if completion_from is not None and rank > completion_from else "funded"
            )
        elif it.cost > budget:
            reason = "over_budget"
        elif votes[it.id] == 0:
            reason = "no_votes"
        elif method == MES and it.cost <= budget - spent:
            reason = "not_enough_support"
        else:
            reason = "did_not_fit"
        out.projects[it.id] = Explanation(
            id=it.id,
            cost=it.cost,
            votes=votes[it.id],
            funded=rank is not None,
            reason=reason,
            rank=rank,
        )
    return out


def allocate(
    method: str, items: Sequence[Item], ballots: Sequence[Iterable[int]], budget: int, **kw: Any
) -> Outcome:
    if method == GREEDY:
        return greedy(items, ballots, budget)
    if method == MES:
        return equal_shares(items, ballots, budget, **kw)
    raise ValueError(method)


@dataclass
class Comparison:
    """Both methods on the same ballots: how many voters got at least one funded
    project they approved, and the share of the budget per group (building)."""

    voters: int
    satisfied: dict[str, int]
    by_group: dict[str, dict[str, int]]


def compare(
    items: Sequence[Item], ballots: Sequence[Iterable[int]], outcomes: Sequence[Outcome]
) -> Comparison:
    sets = [set(b) for b in ballots]
    group_of = {it.id: it.group for it in items}
    cost_of = {it.id: it.cost for it in items}
    satisfied: dict[str, int] = {}
    by_group: dict[str, dict[str, int]] = {}
    for o in outcomes:
        funded = set(o.funded)
        satisfied[o.method] = sum(1 for b in sets if b & funded)
        spend: dict[str, int] = {}
        for i in o.funded:
            spend[group_of[i]] = spend.get(group_of[i], 0) + cost_of[i]
        by_group[o.method] = spend
    return Comparison(voters=len(sets), satisfied=satisfied, by_group=by_group)


def pabulib(
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    *,
    meta: dict[str, str],
    max_length: int | None = None,
) -> str:
    """The anonymised ballots in the pabulib ``.pb`` format (voter ids are 1..n in a
    shuffled order chosen by the caller; costs in fen)."""
    instance, profile, _by_id = _election(items, ballots, budget)
    instance.meta = dict(meta)
    instance.project_meta = {p: {"project_id": p.name, "cost": str(p.cost)} for p in instance}
    if max_length:
        profile.legal_max_length = max_length
    return election_as_pabulib_string(instance, profile)
