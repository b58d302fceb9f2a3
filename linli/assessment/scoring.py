"""From figures to indicator values, the composite score with its confidence interval,
and rankings with a minimum sample (SPEC §8).

Values are fractions in [0, 1]; scores are on a 0–100 scale with two decimals.

* An indicator with a zero denominator has no value ("无数据"), never 0 and never a
  division error. The composite then re-spreads the weights of its group over the
  indicators that have data and says which were missing.
* The satisfaction value is ``resident_share`` residents' evaluation (request ratings
  and the monthly survey) plus the rest expert/third-party scores; without expert
  scores it is the residents' evaluation alone (said on the page).
* Confidence interval: each proportion's variance p(1−p)/n, weighted by its share of
  the composite (a normal approximation, 95 %); expert scores are taken as exact.
  It is what keeps a community with 3 ratings from topping a list: it is not ranked
  below ``min_sample`` ratings, and its interval is shown.
* Ranking: standard competition ranking ("1, 2, 2, 4") by score among the ranked;
  top 20 % = rank ≤ ceil(0.2·N), bottom 10 % = rank > N − ceil(0.1·N) — so ties at the
  boundary are flagged together."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from linli.assessment.indicators import BY_KEY, FIGURES, OUTCOME, PROCESS, REQUEST_RATES

Z95 = 1.96
TOP_SHARE = Decimal("0.2")
BOTTOM_SHARE = Decimal("0.1")


def ratio(num: int, den: int) -> float | None:
    return num / den if den > 0 else None


def wilson(num: int, den: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of num/den (None without data)."""
    if den <= 0:
        return None
    p = num / den
    d = 1 + z * z / den
    centre = (p + z * z / (2 * den)) / d
    half = z * math.sqrt(p * (1 - p) / den + z * z / (4 * den * den)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def add_figures(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Pool the figures of several months (or communities)."""
    out = dict.fromkeys(FIGURES, 0)
    for r in rows:
        for k in FIGURES:
            out[k] += int(r.get(k, 0) or 0)
    return out


def d2(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Weights:
    """The numbers of a WeightSet (kept apart so scoring runs without the ORM)."""

    satisfaction: int = 40
    participation: int = 30
    conflict: int = 30
    awareness: int = 40
    normativity: int = 30
    openness: int = 30
    outcome_share: int = 70
    resident_share: int = 60
    min_sample: int = 30

    @classmethod
    def of(cls, ws: Any) -> Weights:
        return cls(
            ws.w_satisfaction,
            ws.w_participation,
            ws.w_conflict,
            ws.w_awareness,
            ws.w_normativity,
            ws.w_openness,
            ws.outcome_share,
            ws.resident_share,
            ws.min_sample,
        )

    def of_key(self, key: str) -> int:
        return int(getattr(self, key))


@dataclass
class IndicatorValue:
    key: str
    num: int
    den: int
    value: float | None  # None: no data
    low: float | None = None
    high: float | None = None

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass
class Score:
    values: dict[str, IndicatorValue]
    score: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    sample: int
    missing: list[str] = field(default_factory=list)
    expert_missing: bool = False

    def ranked(self, min_sample: int) -> bool:
        return self.score is not None and self.sample >= min_sample


def indicator_values(f: Mapping[str, int], w: Weights) -> dict[str, IndicatorValue]:
    out: dict[str, IndicatorValue] = {}
    for d in (*OUTCOME, *PROCESS, *REQUEST_RATES):
        num, den = int(f.get(d.num_key, 0)), int(f.get(d.den_key, 0))
        ci = wilson(num, den)
        out[d.key] = IndicatorValue(
            d.key, num, den, ratio(num, den), ci[0] if ci else None, ci[1] if ci else None
        )
    # Satisfaction: residents' part and expert part, combined by ``resident_share``.
    sat = out["satisfaction"]
    expert_n, expert_sum = int(f.get("expert_n", 0)), int(f.get("expert_sum", 0))
    if expert_n and sat.value is not None:
        r = w.resident_share / 100
        e = expert_sum / (100 * expert_n)
        sat.value = r * sat.value + (1 - r) * e
        sat.low = r * (sat.low or 0) + (1 - r) * e
        sat.high = r * (sat.high or 0) + (1 - r) * e
    return out


def compute(f: Mapping[str, int], w: Weights) -> Score:
    """The composite score of one set of figures under ``w``."""
    values = indicator_values(f, w)
    missing = [k for k, v in values.items() if v.value is None and BY_KEY[k].group != "requests"]
    total = 0.0
    var = 0.0
    weight_used = 0.0
    for group, share in ((OUTCOME, w.outcome_share), (PROCESS, 100 - w.outcome_share)):
        present = [d for d in group if values[d.key].value is not None]
        gw = sum(w.of_key(d.key) for d in present)
        if not present or gw == 0 or share == 0:
            continue
        for d in present:
            v = values[d.key]
            eff = share / 100 * w.of_key(d.key) / gw
            total += eff * float(v.value or 0)
            var += _variance(v, d.key, f, w) * eff * eff
        weight_used += share / 100
    sample = int(f.get("sat_n", 0))
    if weight_used == 0:
        return Score(values, None, None, None, sample, missing, not f.get("expert_n"))
    # If a whole group had no data, the other group stands for the whole score.
    score = total / weight_used
    half = Z95 * math.sqrt(var) / weight_used
    return Score(
        values,
        d2(score * 100),
        d2(max(0.0, score - half) * 100),
        d2(min(1.0, score + half) * 100),
        sample,
        missing,
        not f.get("expert_n"),
    )


def _variance(v: IndicatorValue, key: str, f: Mapping[str, int], w: Weights) -> float:
    p = float(v.value or 0)
    if key == "satisfaction":
        n = int(f.get("sat_n", 0))
        if n <= 0:
            return 0.0
        # Only the residents' part is sampled; expert scores are taken as given.
        share = w.resident_share / 100 if f.get("expert_n") else 1.0
        pr = int(f.get("sat_good", 0)) / n
        return share * share * pr * (1 - pr) / n
    return p * (1 - p) / v.den if v.den > 0 else 0.0


@dataclass
class Ranked:
    key: Any  # whatever identifies the row (a community id, a company …)
    score: Score
    rank: int | None = None
    flag: str = ""  # "top", "bottom" or ""
    reason: str = ""  # why it is not ranked


def rank(rows: Sequence[tuple[Any, Score]], min_sample: int) -> list[Ranked]:
    """Competition ranking among the rows with a score and at least ``min_sample``
    ratings; the others follow, unranked, with the reason."""
    ranked = [(k, s) for k, s in rows if s.ranked(min_sample)]
    others = [(k, s) for k, s in rows if not s.ranked(min_sample)]
    ranked.sort(key=lambda ks: (-(ks[1].score or 0), str(ks[0])))
    out: list[Ranked] = []
    n = len(ranked)
    top_n = math.ceil(TOP_SHARE * n) if n else 0
    bottom_n = math.ceil(BOTTOM_SHARE * n) if n else 0
    prev: Decimal | None = None
    current = 0
    for i, (k, s) in enumerate(ranked, start=1):
        if s.score != prev:
            current = i
            prev = s.score
        flag = ""
        if current <= top_n:
            flag = "top"
        elif current > n - bottom_n:
            flag = "bottom"
        out.append(Ranked(k, s, current, flag))
    for k, s in others:
        out.append(Ranked(k, s, None, "", "no_data" if s.score is None else "small_sample"))
    return out
