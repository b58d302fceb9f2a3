"""Scores against a direct computation by hand: pooled rates, zero denominators shown as
"no data" with the weights re-spread, the residents' 60 % of satisfaction, the
confidence interval, and rankings with minimum samples, ties and the 20 %/10 % flags."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from linli.assessment.indicators import FIGURES
from linli.assessment.scoring import Weights, add_figures, compute, rank, wilson


def figs(**kw: int) -> dict[str, int]:
    f = dict.fromkeys(FIGURES, 0)
    f.update(kw)
    return f


FULL = figs(
    sat_good=80,
    sat_n=100,
    participants=150,
    adults=1000,
    conflict_settled=9,
    conflict_n=10,
    aware_read=600,
    aware_audience=1000,
    topics_normative=3,
    topics_done=4,
    disclosed_on_time=5,
    disclosures_due=5,
)


def test_composite_equals_hand_computation() -> None:
    s = compute(FULL, Weights())
    outcome = 0.4 * 0.8 + 0.3 * 0.15 + 0.3 * 0.9
    process = 0.4 * 0.6 + 0.3 * 0.75 + 0.3 * 1.0
    expected = 100 * (0.7 * outcome + 0.3 * process)
    assert s.score == Decimal(f"{expected:.2f}")
    assert s.sample == 100
    assert s.missing == []
    assert s.ci_low is not None and s.ci_high is not None
    assert s.ci_low < s.score < s.ci_high


def test_zero_denominator_is_no_data_and_weights_are_respread() -> None:
    f = dict(FULL, conflict_settled=0, conflict_n=0)
    s = compute(f, Weights())
    assert s.values["conflict"].value is None
    assert s.values["conflict"].percent == "—"
    assert s.missing == ["conflict"]
    # The outcome group's 40/30 left: satisfaction 4/7, participation 3/7.
    outcome = (0.4 * 0.8 + 0.3 * 0.15) / 0.7
    process = 0.4 * 0.6 + 0.3 * 0.75 + 0.3 * 1.0
    assert s.score == Decimal(f"{100 * (0.7 * outcome + 0.3 * process):.2f}")


def test_no_data_at_all_gives_no_score() -> None:
    s = compute(figs(), Weights())
    assert s.score is None and s.ci_low is None
    assert not s.ranked(1)


def test_expert_scores_weigh_forty_percent_of_satisfaction() -> None:
    f = dict(FULL, expert_n=2, expert_sum=140)  # mean 70
    s = compute(f, Weights())
    assert s.values["satisfaction"].value == pytest.approx(0.6 * 0.8 + 0.4 * 0.7)
    assert not s.expert_missing
    assert compute(FULL, Weights()).expert_missing


def test_pooling_adds_numerators_and_denominators() -> None:
    a = figs(sat_good=9, sat_n=10)
    b = figs(sat_good=1, sat_n=90)
    pooled = add_figures([a, b])
    assert pooled["sat_good"] == 10 and pooled["sat_n"] == 100
    assert compute(pooled, Weights()).values["satisfaction"].value == pytest.approx(0.1)


def test_wilson_interval() -> None:
    lo, hi = wilson(8, 10) or (0, 0)
    # Reference values of the Wilson interval for 8/10 at 95 %.
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) is None


def test_interval_narrows_with_more_ratings() -> None:
    small = compute(dict(FULL, sat_good=4, sat_n=5), Weights())
    big = compute(dict(FULL, sat_good=400, sat_n=500), Weights())
    assert (small.ci_high - small.ci_low) > (big.ci_high - big.ci_low)  # type: ignore[operator]


def _score(p: float, n: int) -> object:
    return compute(figs(sat_good=round(p * n), sat_n=n), Weights(outcome_share=100))


def test_ranking_minimum_sample_ties_and_flags() -> None:
    rows = [
        ("a", _score(0.9, 50)),
        ("b", _score(0.8, 50)),
        ("c", _score(0.8, 50)),  # tie with b
        ("d", _score(0.7, 50)),
        ("e", _score(0.6, 50)),
        ("f", _score(0.5, 50)),
        ("g", _score(0.4, 50)),
        ("h", _score(0.3, 50)),
        ("i", _score(0.2, 50)),
        ("j", _score(0.1, 50)),
        ("tiny", _score(1.0, 3)),  # 3 ratings: never tops the list
        ("none", compute(figs(), Weights())),
    ]
    out = rank(rows, min_sample=30)  # type: ignore[arg-type]
    by = {r.key: r for r in out}
    assert [r.key for r in out[:4]] == ["a", "b", "c", "d"]
    assert by["b"].rank == by["c"].rank == 2 and by["d"].rank == 4
    # 10 ranked: top 20 % = ranks ≤ 2 (the tie at 2 is flagged with it), bottom 10 % = rank 10.
    assert [k for k, r in by.items() if r.flag == "top"] == ["a", "b", "c"]
    assert [k for k, r in by.items() if r.flag == "bottom"] == ["j"]
    assert by["tiny"].rank is None and by["tiny"].reason == "small_sample"
    assert by["none"].rank is None and by["none"].reason == "no_data"
    assert math.isclose(float(by["tiny"].score.score or 0), 100.0)


def test_single_ranked_row_is_top_not_bottom() -> None:
    out = rank([("a", _score(0.5, 40))], min_sample=30)  # type: ignore[list-item]
    assert out[0].rank == 1 and out[0].flag == "top"
