"""Reads for the assessment pages, all from the stored monthly snapshots (never from
the live tables, so a district's board costs the same at 2 M requests as at 2 k).

:func:`board_for` builds everything one page shows for a unit and a period: the unit's
own score and indicators, its children ranked (drill-down city → district → street →
community → grid → building), the communities under it ranked with minimum samples,
the trend, category, SLA and funnel series, and the heat by building."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from linli.assessment import indicators, scoring
from linli.assessment.models import Snapshot, WeightSet
from linli.assessment.periods import Period
from linli.assessment.permissions import can_view_unit
from linli.communities.models import Building, OrgUnit
from linli.core.errors import NotFound
from linli.requests.siteplan import SitePlan, site_plan

TREND_MONTHS = 12
SLA_LABELS = ("24 小时内", "1–3 天", "3–7 天", "7–15 天", "15 天以上")
FUNNEL_LABELS = ("成年居民", "已注册账号", "本期参与", "参与两类以上")


@dataclass
class Row:
    """One line of a ranking or drill-down table."""

    pk: int
    name: str
    kind: str  # "district", "street", "community", "grid", "building"
    score: scoring.Score
    weights: str
    rank: int | None = None
    flag: str = ""
    reason: str = ""
    requests: int = 0
    late: int = 0
    rated: int = 0
    good: int = 0

    @property
    def good_percent(self) -> str:
        return f"{100 * self.good / self.rated:.0f}%" if self.rated else "—"


@dataclass
class HeatBuilding:
    pk: int
    name: str
    x: str
    y: str
    tx: str
    ty: str
    n: int
    level: int  # 0–3


@dataclass
class Board:
    unit_kind: str
    unit_pk: int
    unit_name: str
    period: Period
    crumbs: list[tuple[str, str, int, bool]]  # (name, kind, pk, viewer may open it)
    score: scoring.Score | None
    weights: list[WeightSet]
    children: list[Row]
    ranking: list[Row]
    trend: list[tuple[str, str | None]]
    categories: list[tuple[str, int]]
    sla: list[tuple[str, int]]
    funnel: list[tuple[str, int]]
    participation_by: list[tuple[str, int]]
    heat: SitePlan | None = None
    heat_buildings: list[HeatBuilding] = field(default_factory=list)
    integrity: tuple[int, int] = (0, 0)
    snapshots: int = 0
    months_missing: list[str] = field(default_factory=list)

    @property
    def integrity_percent(self) -> str:
        n, base = self.integrity
        return f"{100 * n / base:.1f}%" if base else "—"


def unit_get_for(*, viewer: Any, pk: int) -> OrgUnit:
    unit = OrgUnit.objects.filter(pk=pk).first()
    if unit is None or not can_view_unit(viewer, unit):
        raise NotFound()
    return unit


def building_get_for(*, viewer: Any, pk: int) -> Building:
    b = Building.objects.select_related("grid", "community").filter(pk=pk).first()
    if b is None or not can_view_unit(viewer, b.grid):
        raise NotFound()
    return b


def _snapshots_under(unit: OrgUnit) -> QuerySet[Snapshot]:
    qs = Snapshot.objects.filter(current=True)
    if unit.kind == OrgUnit.Kind.COMMUNITY:
        return qs.filter(community_id=unit.pk)
    if unit.kind == OrgUnit.Kind.STREET:
        return qs.filter(street_id=unit.pk)
    if unit.kind == OrgUnit.Kind.DISTRICT:
        return qs.filter(district_id=unit.pk)
    if unit.kind == OrgUnit.Kind.GRID:
        return qs.filter(community_id=unit.parent_id)
    districts = OrgUnit.objects.filter(kind=OrgUnit.Kind.DISTRICT, path__startswith=unit.path)
    return qs.filter(district__in=districts)


def _weights_label(sets: Iterable[WeightSet]) -> str:
    return "、".join(
        sorted({f"v{w.version}" + (f"（{w.district}）" if w.district_id else "") for w in sets})
    )


def _score_of(figs: list[dict[str, Any]], ws: WeightSet | None) -> scoring.Score:
    pooled = scoring.add_figures(figs)
    return scoring.compute(pooled, scoring.Weights.of(ws) if ws else scoring.Weights())


def board_for(*, viewer: Any, unit: OrgUnit, period: Period) -> Board:
    """Precondition: ``unit`` came from :func:`unit_get_for` (viewer may see it)."""
    if not can_view_unit(viewer, unit):
        raise NotFound()
    first_trend = _month_back(period.end, TREND_MONTHS)
    crumbs = [(u.name, u.kind, u.pk, can_view_unit(viewer, u)) for u in unit.ancestors()]
    if unit.kind in (OrgUnit.Kind.CITY, OrgUnit.Kind.DISTRICT, OrgUnit.Kind.STREET):
        return _aggregate_board(unit, period, first_trend, crumbs[:-1])
    rows = list(
        _snapshots_under(unit)
        .filter(month__gte=min(first_trend, period.start), month__lt=period.end)
        .select_related("weight_set", "weight_set__district")
        .only(
            "community_id",
            "street_id",
            "district_id",
            "month",
            "figures",
            "detail",
            "weight_set",
            "score",
        )
    )
    in_period = [s for s in rows if period.start <= s.month < period.end]
    weight_sets = {s.weight_set_id: s.weight_set for s in in_period}
    latest_ws = max(in_period, key=lambda s: s.month).weight_set if in_period else None
    board = Board(
        unit_kind=unit.kind,
        unit_pk=unit.pk,
        unit_name=unit.name,
        period=period,
        crumbs=crumbs[:-1],
        score=_score_of([s.figures for s in in_period], latest_ws) if in_period else None,
        weights=sorted(weight_sets.values(), key=lambda w: (w.district_id or 0, w.version)),
        children=[],
        ranking=[],
        trend=_trend(rows, first_trend, period.end, latest_ws),
        categories=_categories(in_period),
        sla=_sum_list(in_period, "sla", SLA_LABELS),
        funnel=_sum_list(in_period, "funnel", FUNNEL_LABELS),
        participation_by=_participation_by(in_period),
        snapshots=len(in_period),
    )
    have = {s.month for s in in_period}
    board.months_missing = [f"{m:%Y-%m}" for m in period.months if m not in have]
    figs_all = scoring.add_figures(s.figures for s in in_period)
    board.integrity = (figs_all["integrity_n"], figs_all["integrity_base"])
    if unit.kind == OrgUnit.Kind.COMMUNITY:
        board.children = _grid_rows(unit, in_period)
        board.heat, board.heat_buildings = _heat(unit, None, in_period)
    elif unit.kind == OrgUnit.Kind.GRID:
        board.children = _building_rows(unit, in_period)
        community = unit.parent
        assert community is not None
        board.heat, board.heat_buildings = _heat(community, unit, in_period)
        board.score = None  # grids have request figures only, shown per building
    return board


def _month_back(end: date, n: int) -> date:
    y, m = end.year, end.month - n
    while m <= 0:
        m += 12
        y -= 1
    return date(y, m, 1)


def _trend(
    rows: list[Snapshot], first: date, end: date, ws: WeightSet | None
) -> list[tuple[str, str | None]]:
    by_month: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for s in rows:
        by_month[s.month].append(s.figures)
    out = []
    m = first
    while m < end:
        figs = by_month.get(m)
        sc = _score_of(figs, ws).score if figs else None
        out.append((f"{m:%Y-%m}", None if sc is None else str(sc)))
        m = indicators.next_month(m)
    return out


def _categories(rows: list[Snapshot]) -> list[tuple[str, int]]:
    """Requests by top-level category (names from the category tree)."""
    from linli.requests.models import Category

    counts: dict[int, int] = defaultdict(int)
    for s in rows:
        for cat, n in (s.detail.get("categories") or {}).items():
            counts[int(cat)] += int(n)
    if not counts:
        return []
    cats = {c.pk: c for c in Category.objects.filter(pk__in=list(counts)).select_related("parent")}
    top: dict[str, int] = defaultdict(int)
    for cid, n in counts.items():
        c = cats.get(cid)
        name = (
            _("（已删除类别）")
            if c is None
            else _(c.parent.name if c.parent_id and c.parent else c.name)
        )
        top[str(name)] += n
    return sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))


def _sum_list(rows: list[Snapshot], key: str, labels: tuple[str, ...]) -> list[tuple[str, int]]:
    sums = [0] * len(labels)
    for s in rows:
        for i, n in enumerate(s.detail.get(key) or []):
            if i < len(sums):
                sums[i] += int(n)
    if key == "funnel" and len({s.month for s in rows}) > 1:
        # Head counts are not additive across months: show the last month's roll and
        # registrations, and the period's participants summed over months.
        last = max(s.month for s in rows)
        lasts = [s for s in rows if s.month == last]
        roll = [sum(int((s.detail.get(key) or [0, 0])[i]) for s in lasts) for i in (0, 1)]
        sums[0], sums[1] = roll
    return [(_(label), n) for label, n in zip(labels, sums, strict=True)]


PARTICIPATION_LABELS = {
    "requests": "提交诉求",
    "votes": "投票",
    "deliberation": "议事发言",
    "volunteering": "志愿服务",
    "surveys": "填答问卷",
    "budgeting": "预算投票",
}


def _participation_by(rows: list[Snapshot]) -> list[tuple[str, int]]:
    sums: dict[str, int] = defaultdict(int)
    for s in rows:
        for k, n in (s.detail.get("participation_by") or {}).items():
            sums[k] += int(n)
    return [(_(PARTICIPATION_LABELS[k]), sums.get(k, 0)) for k in PARTICIPATION_LABELS]


def _building_figures(rows: list[Snapshot]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in rows:
        for bid, vals in (s.detail.get("buildings") or {}).items():
            acc = out[int(bid)]
            for i, v in enumerate(vals[:4]):
                acc[i] += int(v)
    return out


def _grid_rows(community: OrgUnit, rows: list[Snapshot]) -> list[Row]:
    per_b = _building_figures(rows)
    grids = list(OrgUnit.objects.filter(parent=community, kind=OrgUnit.Kind.GRID).order_by("name"))
    b_grid = dict(Building.objects.filter(community=community).values_list("pk", "grid_id"))
    out = []
    empty = scoring.compute({}, scoring.Weights())
    for g in grids:
        acc = [0, 0, 0, 0]
        for bid, vals in per_b.items():
            if b_grid.get(bid) == g.pk:
                acc = [a + v for a, v in zip(acc, vals, strict=True)]
        out.append(Row(g.pk, g.name, "grid", empty, "", None, "", "", *acc))
    out.sort(key=lambda r: -r.requests)
    return out


def _building_rows(grid: OrgUnit, rows: list[Snapshot]) -> list[Row]:
    per_b = _building_figures(rows)
    empty = scoring.compute({}, scoring.Weights())
    out = [
        Row(b.pk, b.name, "building", empty, "", None, "", "", *per_b.get(b.pk, [0, 0, 0, 0]))
        for b in Building.objects.filter(grid=grid).order_by("name")
    ]
    out.sort(key=lambda r: -r.requests)
    return out


def heat_level(n: int, top: int) -> int:
    """0 (none) to 3 (among the busiest): thirds of the busiest building's count."""
    if n <= 0 or top <= 0:
        return 0
    return min(3, 1 + (3 * n - 1) // top)


def _heat(
    community: OrgUnit, grid: OrgUnit | None, rows: list[Snapshot]
) -> tuple[SitePlan | None, list[HeatBuilding]]:
    qs = Building.objects.filter(community=community).order_by("name")
    if grid is not None:
        qs = qs.filter(grid=grid)
    buildings = list(qs.only("pk", "name", "lat", "lng"))
    plan = site_plan(buildings)
    if plan is None:
        return None, []
    per_b = _building_figures(rows)
    top = max((per_b.get(b.pk, [0])[0] for b in buildings), default=0)
    heat = [
        HeatBuilding(
            b.pk,
            b.name,
            b.rect_x,
            b.rect_y,
            b.text_x,
            b.text_y,
            per_b.get(b.pk, [0])[0],
            heat_level(per_b.get(b.pk, [0])[0], top),
        )
        for b in plan.buildings
    ]
    return plan, heat


def building_board_for(*, viewer: Any, building: Building, period: Period) -> dict[str, Any]:
    """A building's requests by month over the trend window (from the snapshots)."""
    if not can_view_unit(viewer, building.grid):
        raise NotFound()
    first = _month_back(period.end, TREND_MONTHS)
    rows = Snapshot.objects.filter(
        current=True, community_id=building.community_id, month__gte=first, month__lt=period.end
    ).only("month", "detail")
    by_month = {
        s.month: (s.detail.get("buildings") or {}).get(str(building.pk), [0, 0, 0, 0]) for s in rows
    }
    series = []
    m = first
    while m < period.end:
        v = by_month.get(m, [0, 0, 0, 0])
        series.append((f"{m:%Y-%m}", int(v[0]), int(v[1]), int(v[2]), int(v[3])))
        m = indicators.next_month(m)
    in_period = [
        x for x in series if period.start.strftime("%Y-%m") <= x[0] < period.end.strftime("%Y-%m")
    ]
    return {
        "series": series,
        "total": sum(x[1] for x in in_period),
        "late": sum(x[2] for x in in_period),
        "rated": sum(x[3] for x in in_period),
        "good": sum(x[4] for x in in_period),
    }


def public_card_for(*, community: OrgUnit, period: Period) -> dict[str, Any] | None:
    """What anyone may see of a community's result (考核结果向全体居民公开): the score,
    the indicator rates and the rank within its street. No names, no free text.
    Ranked as on the street's board (the same pooled figures and rule)."""
    snaps = Snapshot.objects.filter(
        current=True, street_id=community.parent_id, month__gte=period.start, month__lt=period.end
    )
    pool = _pooled_by(snaps, "community_id")
    if community.pk not in pool:
        return None
    wsets = {
        w.pk: w for w in WeightSet.objects.filter(pk__in={ws for _f, _n, ws in pool.values() if ws})
    }
    ws = wsets.get(pool[community.pk][2] or 0)
    names = {pk: ("", "community") for pk in pool}
    ranking = _rows_from(pool, names, wsets, ws.min_sample if ws else 30)
    me = next(r for r in ranking if r.pk == community.pk)
    ranked_n = sum(1 for r in ranking if r.rank is not None)
    return {"score": me.score, "row": me, "ranked_n": ranked_n, "weights": ws}


@dataclass
class IntegrityPage:
    per_community: list[tuple[int, str, dict[str, int], int, int]]  # id, name, kinds, n, base
    items: list[indicators.IntegrityItem]
    kinds: dict[str, Any]
    n: int
    base: int

    @property
    def percent(self) -> str:
        return f"{100 * self.n / self.base:.1f}%" if self.base else "—"


def _communities_under(unit: OrgUnit) -> list[OrgUnit]:
    if unit.kind == OrgUnit.Kind.GRID:
        return [unit.parent] if unit.parent else []
    return list(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMUNITY, path__startswith=unit.path).order_by(
            "path"
        )
    )


def integrity_for(*, viewer: Any, unit: OrgUnit, period: Period) -> IntegrityPage:
    """Every change in the period that moved an item out of an indicator, per
    community, with the share of such changes (read live: the list is for checking)."""
    if not can_view_unit(viewer, unit):
        raise NotFound()
    comms = _communities_under(unit)
    ids = [c.pk for c in comms]
    start, end = (
        indicators.month_range(period.start)[0],
        indicators.month_range(period.months[-1])[1],
    )
    counts = indicators.integrity_counts(ids, start, end)
    base = indicators.integrity_base(ids, start, end)
    per = []
    for c in comms:
        kinds = {k: counts[k].get(c.pk, 0) for k in indicators.INTEGRITY_KINDS}
        per.append((c.pk, c.name, kinds, sum(kinds.values()), base.get(c.pk, 0)))
    per.sort(key=lambda r: (-(r[3] / r[4] if r[4] else 0), r[1]))
    items = indicators.integrity_items(ids, start, end, limit=300)
    return IntegrityPage(
        per, items, indicators.INTEGRITY_SHORT, sum(r[3] for r in per), sum(r[4] for r in per)
    )


# ------------------------------------------------------------ streets and above
#
# A street's, district's or city's board reads its own monthly sums (UnitMonth: a dozen
# rows) and, for its children and the ranking, the period's figures added up by the
# database per community (one grouped query over the JSON figures), never the
# thousands of snapshot rows one by one.


def _pooled_by(qs: Any, key: str) -> dict[int, tuple[dict[str, int], int, int | None]]:
    """key value → (figures added up, months, newest weight set id)."""
    from django.db.models import Count, IntegerField, Max, Sum
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    aggs = {f"f_{k}": Sum(Cast(KT(f"figures__{k}"), IntegerField())) for k in indicators.FIGURES}
    out = {}
    for r in qs.values(key).annotate(_n=Count("id"), _ws=Max("weight_set_id"), **aggs).order_by():
        figs = {k: int(r[f"f_{k}"] or 0) for k in indicators.FIGURES}
        out[r[key]] = (figs, int(r["_n"]), r["_ws"])
    return out


def _rows_from(
    pooled: dict[int, tuple[dict[str, int], int, int | None]],
    units: dict[int, tuple[str, str]],
    wsets: dict[int, WeightSet],
    min_sample: int,
) -> list[Row]:
    scored = []
    for pk in units:
        figs, _n, ws_id = pooled.get(pk, ({}, 0, None))
        ws = wsets.get(ws_id) if ws_id else None
        scored.append(
            (pk, scoring.compute(figs, scoring.Weights.of(ws) if ws else scoring.Weights()))
        )
    out = []
    for r in scoring.rank(scored, min_sample):
        name, kind = units[r.key]
        figs, _n, ws_id = pooled.get(r.key, ({}, 0, None))
        ws = wsets.get(ws_id) if ws_id else None
        out.append(
            Row(
                r.key,
                name,
                kind,
                r.score,
                _weights_label([ws] if ws else []),
                r.rank,
                r.flag,
                r.reason,
                int(figs.get("req_total", 0)),
                0,
                int(figs.get("req_rated", 0)),
                int(figs.get("req_good", 0)),
            )
        )
    return out


def _aggregate_board(
    unit: OrgUnit, period: Period, first_trend: date, crumbs: list[tuple[str, str, int, bool]]
) -> Board:
    from linli.assessment.models import UnitMonth

    months = UnitMonth.objects.filter(
        unit=unit, month__gte=min(first_trend, period.start), month__lt=period.end
    )
    rows = list(months.only("month", "figures", "detail", "weight_set_id", "communities"))
    in_period = [u for u in rows if period.start <= u.month < period.end]
    snaps = _snapshots_under(unit).filter(month__gte=period.start, month__lt=period.end)
    ranking_pool = _pooled_by(snaps, "community_id")
    ws_ids = {ws for _f, _n, ws in ranking_pool.values() if ws} | {
        u.weight_set_id for u in rows if u.weight_set_id
    }
    wsets = {w.pk: w for w in WeightSet.objects.filter(pk__in=ws_ids).select_related("district")}
    latest = max(in_period, key=lambda u: u.month) if in_period else None
    latest_ws = wsets.get(latest.weight_set_id) if latest and latest.weight_set_id else None
    used = {ws for _f, _n, ws in ranking_pool.values() if ws}
    min_sample = (
        latest_ws.min_sample
        if latest_ws
        else max((w.min_sample for w in wsets.values()), default=30)
    )
    board = Board(
        unit_kind=unit.kind,
        unit_pk=unit.pk,
        unit_name=unit.name,
        period=period,
        crumbs=crumbs,
        score=_score_of([u.figures for u in in_period], latest_ws) if in_period else None,
        weights=sorted(
            (wsets[i] for i in used if i in wsets), key=lambda w: (w.district_id or 0, w.version)
        ),
        children=[],
        ranking=[],
        trend=_trend(rows, first_trend, period.end, latest_ws),  # type: ignore[arg-type]
        categories=_categories(in_period),  # type: ignore[arg-type]
        sla=_sum_list(in_period, "sla", SLA_LABELS),  # type: ignore[arg-type]
        funnel=_sum_list(in_period, "funnel", FUNNEL_LABELS),  # type: ignore[arg-type]
        participation_by=_participation_by(in_period),  # type: ignore[arg-type]
        snapshots=sum(u.communities for u in in_period),
    )
    have = {u.month for u in in_period}
    board.months_missing = [f"{m:%Y-%m}" for m in period.months if m not in have]
    pooled = scoring.add_figures(u.figures for u in in_period)
    board.integrity = (pooled["integrity_n"], pooled["integrity_base"])
    names = dict(OrgUnit.objects.filter(pk__in=list(ranking_pool)).values_list("pk", "name"))
    board.ranking = _rows_from(
        ranking_pool,
        {pk: (names.get(pk, "?"), "community") for pk in ranking_pool},
        wsets,
        min_sample,
    )
    if unit.kind != OrgUnit.Kind.STREET:
        child_kind = "district" if unit.kind == OrgUnit.Kind.CITY else "street"
        children = dict(
            OrgUnit.objects.filter(parent=unit, kind=child_kind)
            .order_by("name")
            .values_list("pk", "name")
        )
        child_pool = _pooled_by(
            UnitMonth.objects.filter(
                unit_id__in=list(children), month__gte=period.start, month__lt=period.end
            ),
            "unit_id",
        )
        extra = {ws for _f, _n, ws in child_pool.values() if ws} - set(wsets)
        if extra:
            wsets.update({w.pk: w for w in WeightSet.objects.filter(pk__in=extra)})
        board.children = _rows_from(
            child_pool,
            {pk: (name, child_kind) for pk, name in children.items()},
            wsets,
            min_sample,
        )
    return board
