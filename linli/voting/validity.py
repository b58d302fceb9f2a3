"""Validity and passing rules (SPEC §3), computed with exact fractions.

Pure functions over totals, so the same code judges the live tally and the tally
replayed from the audit chain, and property tests can compare it with a reference.

Reading of the rules (the seeds state participation thresholds; where a rule names no
passing threshold, the decision passes with 过半数 — strictly more than half — of the
participating weight):

* ``participation_20``: participants ≥ 20 % of eligible voters (杭州线上参与率规则).
* ``members_two_thirds``: participants ≥ 2/3 of the council/committee members.
* ``households_75``: participating households ≥ 75 % of households.
* ``art278`` (民法典第二百七十八条): participating area ≥ 2/3 of the total area AND
  participating owners ≥ 2/3 of all owners; ordinary matters pass with > 1/2 of the
  participating area AND > 1/2 of the participating owners, special matters (raising
  the maintenance fund, rebuilding, changing the use of / running a business on common
  parts) with ≥ 3/4 of both.

"以上"/"不低于" include the bound (≥); "过半数" is strict (>).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

ONE_FIFTH = Fraction(1, 5)
HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)
THREE_QUARTERS = Fraction(3, 4)

RULES = ("participation_20", "members_two_thirds", "households_75", "art278")
MATTER_CLASSES = ("ordinary", "special")


def frac(value: Decimal | int | Fraction | str) -> Fraction:
    """Exact conversion; Decimal('123.45') -> 2469/20. Floats are refused on purpose."""
    if isinstance(value, float):  # pragma: no cover - guarded against misuse
        raise TypeError("votes are never weighed with floats")
    return Fraction(value)


@dataclass(frozen=True)
class Totals:
    """Denominators and numerators of one decision (one option)."""

    eligible_count: int
    eligible_area: Fraction
    participants: int
    participating_area: Fraction
    yes_count: int
    yes_area: Fraction


@dataclass(frozen=True)
class Check:
    """One comparison ``numerator / denominator (>= or >) threshold``."""

    label: str
    numerator: Fraction
    denominator: Fraction
    threshold: Fraction
    inclusive: bool  # True: 以上 (≥); False: 过半数 (>)
    is_area: bool

    @property
    def ok(self) -> bool:
        if self.denominator <= 0:
            return False
        bound = self.threshold * self.denominator
        return self.numerator >= bound if self.inclusive else self.numerator > bound


@dataclass(frozen=True)
class Evaluation:
    valid: bool
    passed: bool
    participation_checks: tuple[Check, ...]
    pass_checks: tuple[Check, ...]


def meets(
    numerator: Fraction | int, denominator: Fraction | int, threshold: Fraction, *, inclusive: bool
) -> bool:
    return Check("", frac(numerator), frac(denominator), threshold, inclusive, False).ok


def _heads(label: str, num: int, den: int, thr: Fraction, inclusive: bool) -> Check:
    return Check(label, frac(num), frac(den), thr, inclusive, False)


def _area(label: str, num: Fraction, den: Fraction, thr: Fraction, inclusive: bool) -> Check:
    return Check(label, num, den, thr, inclusive, True)


def evaluate(*, rule: str, matter_class: str, weighting: str, totals: Totals) -> Evaluation:
    """Judge participation (``valid``) and the decision (``passed`` = valid and the
    pass checks hold) for one option's totals."""
    t = totals
    part: tuple[Check, ...]
    if rule == "participation_20":
        part = (_heads(_("参与人数"), t.participants, t.eligible_count, ONE_FIFTH, True),)
    elif rule == "members_two_thirds":
        part = (_heads(_("参加成员"), t.participants, t.eligible_count, TWO_THIRDS, True),)
    elif rule == "households_75":
        part = (_heads(_("参与户数"), t.participants, t.eligible_count, THREE_QUARTERS, True),)
    elif rule == "art278":
        part = (
            _area(
                _("参与表决的专有部分面积"), t.participating_area, t.eligible_area, TWO_THIRDS, True
            ),
            _heads(_("参与表决的业主人数"), t.participants, t.eligible_count, TWO_THIRDS, True),
        )
    else:
        raise ValueError(f"unknown validity rule {rule!r}")

    passing: tuple[Check, ...]
    if rule == "art278":
        special = matter_class == "special"
        thr = THREE_QUARTERS if special else HALF
        inc = special  # 四分之三以上 includes the bound; 过半数 is strict
        passing = (
            _area(_("同意的专有部分面积"), t.yes_area, t.participating_area, thr, inc),
            _heads(_("同意的业主人数"), t.yes_count, t.participants, thr, inc),
        )
    elif weighting == "area":
        passing = (_area(_("同意的面积"), t.yes_area, t.participating_area, HALF, False),)
    else:
        passing = (_heads(_("同意票数"), t.yes_count, t.participants, HALF, False),)

    valid = all(c.ok for c in part)
    passed = valid and all(c.ok for c in passing)
    return Evaluation(valid, passed, part, passing)


def fmt_fraction(x: Fraction) -> str:
    """Human form of a threshold: 1/2, 2/3, 3/4, 20%."""
    if x == ONE_FIFTH:
        return "20%"
    if x == THREE_QUARTERS:
        return "3/4"
    return f"{x.numerator}/{x.denominator}"


def fmt_number(x: Fraction, *, is_area: bool) -> str:
    if is_area:
        # Areas are stored with two decimals, so this is exact.
        return f"{Decimal(x.numerator) / Decimal(x.denominator):.2f}㎡"
    return str(int(x)) if x.denominator == 1 else str(x)


def explain_check(c: Check) -> str:
    ratio = c.numerator / c.denominator if c.denominator > 0 else Fraction(0)
    pct = (
        f"{(Decimal(ratio.numerator) * 100 / Decimal(ratio.denominator)):.2f}%"
        if c.denominator > 0
        else "—"
    )
    op = "≥" if c.inclusive else ">"
    word = _("以上") if c.inclusive else _("过半数")
    verdict = _("满足") if c.ok else _("不满足")
    return _(
        "%(label)s %(num)s / %(den)s = %(pct)s，要求%(op)s %(thr)s（%(word)s）：%(verdict)s"
    ) % {
        "label": c.label,
        "num": fmt_number(c.numerator, is_area=c.is_area),
        "den": fmt_number(c.denominator, is_area=c.is_area),
        "pct": pct,
        "op": op,
        "thr": fmt_fraction(c.threshold),
        "word": word,
        "verdict": verdict,
    }
