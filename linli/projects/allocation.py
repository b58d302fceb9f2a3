"""Participatory-budgeting allocation with pabutools (pure: no database).

Two methods, both with approval ballots (a knapsack ballot is an approval ballot whose
ticked projects fit the budget):

* ``greedy`` — what Decidim and CONSUL do: projects in order of votes, each funded if it
  still fits the remaining budget (pabutools' greedy utilitarian rule with cost
  satisfaction: a project's welfare per yuan is then exactly its number of votes).
* ``mes`` — the Method of Equal Shares with cost utilities (equalshares.net): the budget
  is split equally among the voters and a project is bought by its supporters' shares;
  completed as equalshares.net recommends — first by raising every voter's share
  (pabutools' ``exhaustion_by_budget_increase``: 1 % of the budget at a time, last
  feasible outcome) while the outcome stays within the real budget, then greedily by
  votes with what is left.

Equal Shares is computed here rather than by calling pabutools once per 1 % step (35 s
for 2 000 ballots): identical ballots are merged (multiplicity) and voters are grouped by
the budget they hold, in exact gmpy2 fractions as pabutools uses, floats only choosing
what to look at. The tests compare every outcome, order, reason and effective support
with the pabutools pipeline on hand-made and random profiles.

Ties are broken by lower cost, then by the earlier proposal (lower id) — published on
the results page. Costs are integer fen, so every sum is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gmpy2 import mpq
from pabutools.election import ApprovalBallot, ApprovalProfile, Instance, Project
from pabutools.election.pabulib import election_as_pabulib_string
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


def _greedy_order(
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    initial: Sequence[int] = (),
) -> list[int]:
    """pabutools' ``greedy_utilitarian_welfare`` with cost satisfaction (additive,
    resolute), after ``initial``: the other projects by welfare per yuan — exactly the
    number of votes (0 for a project costing nothing, whose cost-satisfaction is 0) —
    ties by (cost, id); each one taken if it still fits."""
    votes = votes_of(items, ballots)
    taken = set(initial)
    rest = [it for it in items if it.id not in taken]
    rest.sort(key=lambda it: (-(votes[it.id] if it.cost > 0 else 0), it.cost, it.id))
    left = budget - sum(it.cost for it in items if it.id in taken)
    chosen = list(initial)
    for it in rest:
        if it.cost <= left:
            chosen.append(it.id)
            left -= it.cost
    return chosen


def greedy(items: Sequence[Item], ballots: Sequence[Iterable[int]], budget: int) -> Outcome:
    chosen = _greedy_order(items, ballots, budget)
    return _explain(GREEDY, items, ballots, budget, chosen, completion_from=None)


def _groups(ballots: Sequence[Iterable[int]], known: set[int]) -> list[tuple[frozenset[int], int]]:
    """Identical ballots counted once with their multiplicity (pabutools' multiprofile
    idea): voters with the same approval set always hold the same share, so Equal
    Shares can treat them as one weighted voter without changing any number."""
    counts: dict[frozenset[int], int] = {}
    for b in ballots:
        key = frozenset(i for i in b if i in known)
        counts[key] = counts.get(key, 0) + 1
    return list(counts.items())


@dataclass
class _Run:
    chosen: list[int]
    effective_support: int = 0


def _prepare(
    costs: dict[int, int], groups: list[tuple[frozenset[int], int]]
) -> tuple[Any, dict[int, Any]]:
    """Per group its number of voters; per project (costing something) the groups
    approving it — computed once, shared by every run of the completion."""
    mult = np.fromiter((m for _b, m in groups), dtype=np.float64, count=len(groups))
    lists: dict[int, list[int]] = {}
    for gi, (ballot, _m) in enumerate(groups):
        for p in ballot:
            if costs[p] > 0:
                lists.setdefault(p, []).append(gi)
    return mult, {p: np.array(g, dtype=np.intp) for p, g in lists.items()}


def _mes_run(
    costs: dict[int, int],
    prepared: tuple[Any, dict[int, Any]],
    share: Any,
    *,
    skipped: int | None = None,
) -> _Run:
    """One run of the Method of Equal Shares with cost utilities and every voter
    starting with ``share`` (an exact fraction), resolute, ties by (cost, id).

    The same computation as pabutools' ``method_of_equal_shares`` (``mes_inner_algo``,
    binary satisfaction = cost), in exact gmpy2 fractions, but on *budget classes*:
    voters are grouped by their current budget (a voter's budget depends only on the
    bought projects they approved, so thousands of voters share a handful of values),
    so a round costs O(projects × classes) instead of O(projects × voters).
    ``skipped`` reproduces pabutools' effective-support analytics for that project
    (it takes no part; the best cover its supporters could offer is tracked).
    Equality with pabutools is checked by the tests on random and hand-made profiles.
    """
    # Voters are grouped into budget classes: val[k] is the budget every voter of
    # class k holds; held[g] is the class of group g's voters; backers[p] the groups
    # approving p. A project's supporters per class are counted when it is looked at.
    mult, backers = prepared
    held = np.zeros(len(mult), dtype=np.intp)
    ZERO = 1  # the class of voters who have spent everything
    val: list[Any] = [share, mpq(0)]
    val_f = np.empty(64, dtype=np.float64)  # float(val[k]), only to order and to screen
    val_f[0] = float(share)
    val_f[1] = 0.0

    def counts_of(p: int) -> tuple[Any, Any]:
        idx = backers[p]
        counts = np.bincount(held[idx], weights=mult[idx], minlength=len(val))
        nz = np.flatnonzero(counts)
        return nz, counts[nz]

    def classes(p: int) -> list[tuple[Any, int]]:
        """(budget, voters) of p's supporters, lowest budget first (exact)."""
        nz, cnt = counts_of(p)
        return sorted((val[k], int(c)) for k, c in zip(nz.tolist(), cnt.tolist(), strict=True))

    def affordability(p: int, cost: int) -> Any:
        """The exact price factor ρ/cost for p, or None when its supporters cannot pay
        for it. Floats only decide what to look at; every compared number is exact."""
        nz, cnt = counts_of(p)
        vf = val_f[nz]
        avail = float(vf @ cnt)
        if avail < cost * (1 - 1e-9):
            return None
        if (
            avail <= cost * (1 + 1e-9)
            and sum(val[k] * int(c) for k, c in zip(nz.tolist(), cnt.tolist(), strict=True)) < cost
        ):
            return None
        order = np.argsort(vf, kind="stable")
        svf = vf[order]
        total = int(cnt.sum())
        if len(svf) > 1 and bool(np.any(svf[1:] == svf[:-1])):
            return exact_affordability(classes(p), cost, total)  # budgets too close
        scnt = cnt[order]
        # The poorest supporters pay all they have, the others an equal price ρ: the
        # first class (lowest budget first) that can pay ρ. While a class cannot pay,
        # ρ only grows; once one can, all richer ones can — so the index found with
        # floats is confirmed by two exact checks (it passes, the one before fails).
        before_n = np.cumsum(scnt) - scnt
        before_paid = np.cumsum(svf * scnt) - svf * scnt
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (cost - before_paid) / (total - before_n)
        can = np.flatnonzero(rho <= svf)
        j = int(can[0]) if len(can) else len(svf) - 1
        ks = nz[order[:j]].tolist()
        cs = scnt[:j].tolist()
        paid: Any = sum((val[k] * int(c) for k, c in zip(ks, cs, strict=True)), start=mpq(0))
        n_before = int(sum(cs))
        k_j = int(nz[order[j]])
        a = mpq(cost - paid, cost * (total - n_before))
        if a * cost <= val[k_j]:
            if j == 0:
                return a
            k_prev, c_prev = ks[-1], int(cs[-1])
            prev_paid = paid - val[k_prev] * c_prev
            a_prev = mpq(cost - prev_paid, cost * (total - n_before + c_prev))
            if a_prev * cost > val[k_prev]:
                return a
        return exact_affordability(classes(p), cost, total)  # floats misled: redo

    def exact_affordability(rows: list[tuple[Any, int]], cost: int, total: int) -> Any:
        paid: Any = 0
        denominator = cost * total
        a: Any = None
        for b, n in rows:
            a = mpq(cost - paid, denominator)
            if a * cost <= b:
                return a
            paid += b * n
            denominator -= n * cost
        return a

    skip_cost = costs[skipped] if skipped is not None else 0
    afford: dict[int, Any] = {
        p: mpq(1, int(mult[idx].sum()))  # cost / (cost × supporters)
        for p, idx in backers.items()
        if p != skipped
    }
    remaining = set(afford)
    chosen: list[int] = []
    eff = 0
    while True:
        best: Any = None
        tied: list[int] = []
        for p in sorted(remaining, key=lambda q: afford[q]):
            if best is not None and afford[p] > best:
                # (pabutools drops unaffordable projects first; they can never be
                # chosen, so skipping the check here changes nothing.)
                break
            a = affordability(p, costs[p])
            if a is None:
                remaining.discard(p)  # budgets only go down: never affordable again
                continue
            afford[p] = a
            if best is None or a < best:
                best, tied = a, [p]
            elif a == best:
                tied.append(p)
        if not tied:
            if skipped is not None and skipped in backers:
                cover = sum(b * n for b, n in classes(skipped))
                eff = max(eff, int(cover / skip_cost * 100))
            return _Run(chosen, eff)
        q = min(tied, key=lambda p: (costs[p], p))
        chosen.append(q)
        remaining.discard(q)
        price = best * costs[q]
        idx = backers[q]
        old = held[idx]
        moved = np.arange(len(val), dtype=np.intp)
        fresh: list[float] = []
        for k in np.unique(old).tolist():
            b = val[k]
            if not b:  # nothing left to pay with
                continue
            if b <= price:  # pays all it has: joins the class holding 0
                moved[k] = ZERO
                continue
            # A new class (equal budgets in two classes are allowed: the floats then
            # tie and the exact path orders them).
            moved[k] = len(val)
            val.append(b - price)
            fresh.append(float(b - price))
        if fresh:
            start = len(val) - len(fresh)
            if len(val) > len(val_f):
                val_f = np.concatenate([val_f, np.empty(len(val), dtype=np.float64)])
            val_f[start : len(val)] = fresh
        held[idx] = moved[old]
        if skipped is not None and skipped in backers:
            # As pabutools does: what the skipped project's supporters could still
            # pay at this round's price, after paying for the project just bought.
            price = best * skip_cost
            cover = sum(min(b, price) * n for b, n in classes(skipped))
            eff = max(eff, int(cover / skip_cost * 100))


def equal_shares(
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    *,
    effective_support: bool = True,
) -> Outcome:
    n = len(ballots)
    if n == 0:
        return _explain(MES, items, ballots, budget, [], completion_from=None)
    costs = {it.id: it.cost for it in items}
    prepared = _prepare(costs, _groups(ballots, set(costs)))
    # Completion 1: raise the voters' shares, 1 % of the budget at a time, while the
    # outcome still fits the real budget; stop at the first outcome that leaves no
    # project (of all on the ballot) affordable with what is left, or return the last
    # feasible outcome — exactly pabutools' ``exhaustion_by_budget_increase``.
    step = mpq(budget, 100)
    level: Any = mpq(budget)
    bound = budget * (n + 1)
    mes_part: list[int] = []
    steps = 0
    while level <= bound:
        run = _mes_run(costs, prepared, level / n)
        spent = sum(costs[p] for p in run.chosen)
        if spent > budget:
            break
        mes_part = run.chosen
        steps += 1
        left = budget - spent
        picked = set(run.chosen)
        if all(c > left for i, c in costs.items() if i not in picked):
            break
        level += step
    # Completion 2: what the raised shares did not spend goes greedily by votes.
    chosen = _greedy_order(items, ballots, budget, mes_part)
    out = _explain(MES, items, ballots, budget, chosen, completion_from=len(mes_part))
    out.share_factor = 1 + (steps - 1) / 100 if steps else 1.0
    if effective_support:
        # Effective support (pabutools' analytics): the share of the support a project
        # would need to be bought under Equal Shares at the real budget, in %. Only
        # for projects that fit the budget and have votes (others cannot take part).
        picked = set(mes_part)
        for it in items:
            if it.cost > budget or out.projects[it.id].votes == 0:
                continue
            value = _mes_run(costs, prepared, mpq(budget, n), skipped=it.id).effective_support
            out.projects[it.id].effective_support = max(value, 100) if it.id in picked else value
    return out


def _explain(
    method: str,
    items: Sequence[Item],
    ballots: Sequence[Iterable[int]],
    budget: int,
    chosen: Sequence[int],
    *,
    completion_from: int | None,
) -> Outcome:
    votes = votes_of(items, ballots)
    # Greedy rules also "fund" projects nobody approved when money is left: a project
    # without a single vote is never funded (they come last, so dropping them changes
    # nothing else).
    cost_of = {it.id: it.cost for it in items}
    chosen = [p for p in chosen if votes.get(p, 0) > 0]
    order = {p: n for n, p in enumerate(chosen, start=1)}
    spent = sum(cost_of[p] for p in chosen)
    out = Outcome(method=method, budget=budget, funded=list(chosen), spent=spent)
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
