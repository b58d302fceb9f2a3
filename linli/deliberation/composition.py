"""Council composition rules (SPEC §2), as a pure function over member facts so they can
be checked on every membership change and tested exhaustively.

Counts are compared as exact integers (``a * 100 >= p * n``), never floats, so 20 %
of 10 members is exactly 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class MemberFacts:
    birth_year: int | None  # None for a unit representative without resident record
    is_tenant: bool
    is_resident_rep: bool


@dataclass(frozen=True)
class Thresholds:
    young_age_below: int = 35
    min_young: int = 2
    elderly_age_from: int = 60
    min_elderly: int = 2
    min_tenants: int = 1
    min_tenant_percent: int = 20
    min_resident_rep_percent: int = 50


@dataclass(frozen=True)
class Violation:
    rule: str
    actual: str
    required: str

    def __str__(self) -> str:
        return _("不符合组成规则「%(rule)s」：变更后为%(actual)s，要求%(required)s。") % {
            "rule": self.rule,
            "actual": self.actual,
            "required": self.required,
        }


def _pct(part: int, whole: int) -> str:
    return f"{(part * 1000 // whole) / 10:.1f}%" if whole else "0%"


def check_composition(
    kind: str, members: list[MemberFacts], t: Thresholds, year: int
) -> list[Violation]:
    """Violations of the rules for a council of ``kind`` with exactly ``members``.

    ``kind`` "council" (居民议事会): young, elderly, tenant count and tenant share.
    ``kind`` "committee" (共建共治共享委员会): resident representatives' share.
    ``kind`` "supervision": no composition rule beyond having members.
    """
    n = len(members)
    out: list[Violation] = []
    if n == 0:
        return [Violation(_("成员不能为空"), _("0名"), _("至少1名"))]
    if kind == "council":
        young = sum(
            1
            for m in members
            if m.birth_year is not None and year - m.birth_year < t.young_age_below
        )
        elderly = sum(
            1
            for m in members
            if m.birth_year is not None and year - m.birth_year >= t.elderly_age_from
        )
        tenants = sum(1 for m in members if m.is_tenant)
        if young < t.min_young:
            out.append(
                Violation(
                    _("%(age)s岁以下成员不少于%(n)s名")
                    % {"age": t.young_age_below, "n": t.min_young},
                    _("%(k)s名") % {"k": young},
                    _("至少%(n)s名") % {"n": t.min_young},
                )
            )
        if elderly < t.min_elderly:
            out.append(
                Violation(
                    _("%(age)s岁及以上成员不少于%(n)s名")
                    % {"age": t.elderly_age_from, "n": t.min_elderly},
                    _("%(k)s名") % {"k": elderly},
                    _("至少%(n)s名") % {"n": t.min_elderly},
                )
            )
        if tenants < t.min_tenants:
            out.append(
                Violation(
                    _("租户成员不少于%(n)s名") % {"n": t.min_tenants},
                    _("%(k)s名") % {"k": tenants},
                    _("至少%(n)s名") % {"n": t.min_tenants},
                )
            )
        if tenants * 100 < t.min_tenant_percent * n:
            out.append(
                Violation(
                    _("租户占比不低于%(p)s%%") % {"p": t.min_tenant_percent},
                    _("租户%(k)s名/共%(n)s名（%(pct)s）")
                    % {"k": tenants, "n": n, "pct": _pct(tenants, n)},
                    _("不低于%(p)s%%") % {"p": t.min_tenant_percent},
                )
            )
    elif kind == "committee":
        reps = sum(1 for m in members if m.is_resident_rep)
        if reps * 100 < t.min_resident_rep_percent * n:
            out.append(
                Violation(
                    _("居民代表占比不低于%(p)s%%") % {"p": t.min_resident_rep_percent},
                    _("居民代表%(k)s名/共%(n)s名（%(pct)s）")
                    % {"k": reps, "n": n, "pct": _pct(reps, n)},
                    _("不低于%(p)s%%") % {"p": t.min_resident_rep_percent},
                )
            )
    return out
