"""Scores against a direct reference computation on hand-made data, the minimum
sample, ranking with ties and the red/black rule."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from linli.propertyco import selectors, services
from linli.propertyco.models import Board, Listing, Score
from linli.propertyco.quarters import Quarter
from linli.propertyco.scoring import Row, rank_and_list
from linli.propertyco.tests.conftest import PC, inspect, make_request, seed_level
from linli.surveys.models import Answer, Question, Response, Survey

Q3 = Quarter(2026, 3)


def _r(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reference(
    *,
    ratings: list[int],
    statuses: list[str],
    on_time: list[bool | None],
    survey: list[int],
    inspections: list[tuple[int, int]],
    weights: dict[str, int],
    min_sample: int,
) -> Decimal | None:
    """The published rule, written out independently of the app's code."""
    parts: dict[str, Decimal] = {}
    if ratings:
        parts["rating"] = _r((sum(ratings) / len(ratings) - 1) / 4 * 100)
    if survey:
        parts["survey"] = _r(100 * sum(1 for x in survey if x >= 4) / len(survey))
    known = [x for x in on_time if x is not None]
    if known:
        parts["ontime"] = _r(100 * sum(1 for x in known if x) / len(known))
    if statuses:
        parts["resolution"] = _r(
            100 * sum(1 for s in statuses if s in ("resolved", "closed")) / len(statuses)
        )
    items = sum(t for _p, t in inspections)
    if items:
        parts["inspection"] = _r(100 * sum(p for p, _t in inspections) / items)
    if len(ratings) + len(survey) < min_sample or not (statuses or inspections):
        return None
    total = sum(weights[k] for k in parts)
    return _r(float(sum(Decimal(weights[k]) * v for k, v in parts.items()) / Decimal(total)))


def _survey(pc: PC, community: Any, answers: list[tuple[int, Any]], day: date) -> None:
    """A closed monthly satisfaction survey with ``answers`` on the 物业服务 row:
    (option, building or None)."""
    s = Survey.objects.create(
        community=community, title="9月满意度测评", kind="satisfaction", status="closed"
    )
    q = Question.objects.create(
        community=community,
        survey=s,
        position=2,
        code="aspects",
        kind="matrix",
        text="请为以下方面打分",
        rows=["环境卫生", "治安秩序", "物业服务", "办事效率", "邻里活动"],
        options=["非常不满意", "不满意", "一般", "满意", "非常满意"],
    )
    for option, building in answers:
        r = Response.objects.create(
            community=community, survey=s, submitted_on=day, channel="web", building=building
        )
        Answer.objects.create(
            community=community, survey=s, response=r, question=q, row=3, option=option
        )
        # Another row of the same matrix must not count.
        Answer.objects.create(
            community=community, survey=s, response=r, question=q, row=1, option=1
        )


def test_score_matches_reference(pc: PC) -> None:
    c1 = pc.w.community
    day = date(2026, 8, 3)
    ratings = [5, 4, 4, 3]
    statuses = ["closed", "closed", "resolved", "closed", "in_progress", "dispatched"]
    on_time: list[bool | None] = [True, True, False, True, None, None]
    rates = ratings + [None, None]
    for st, ot, ra in zip(statuses, on_time, rates, strict=True):
        make_request(pc, community=c1, company=pc.jia, day=day, status=st, rating=ra, on_time=ot)
    # Not counted: rejected, another quarter, another company, a department.
    make_request(pc, community=c1, company=pc.jia, day=day, status="rejected", rating=1)
    make_request(pc, community=c1, company=pc.jia, day=date(2026, 10, 2), rating=1)
    make_request(pc, community=c1, company=pc.w.department, day=day, rating=1)
    # Handled through the assignee only (no accountable unit recorded): counted.
    make_request(
        pc, community=c1, company=pc.jia, day=day, rating=2, on_time=False, assignee_only=True
    )
    ratings.append(2)
    statuses.append("closed")
    on_time.append(False)
    i1 = inspect(pc, pc.w.building, day, passed=4, total=5)
    i2 = inspect(pc, pc.w.building, date(2026, 9, 30), passed=3, total=5)
    inspect(pc, pc.w.building, date(2026, 10, 1), passed=0, total=5)  # Q4: not counted
    # Survey: answers naming 1幢 count for 甲, 2幢 for 丁; no building: dropped
    # (阳光社区 has two companies). Other rows and other quarters do not count.
    _survey(
        pc,
        c1,
        [
            (5, pc.w.building),
            (4, pc.w.building),
            (2, pc.w.building),
            (1, pc.w.building2),
            (5, None),
        ],
        date(2026, 9, 20),
    )
    _survey(pc, c1, [(1, pc.w.building)], date(2026, 10, 20))
    # 和睦社区 has one company: an answer without a building counts for it.
    _survey(pc, pc.community2, [(4, None), (5, None), (3, None)], date(2026, 7, 5))
    make_request(pc, community=pc.community2, company=pc.bing, day=day, rating=5, on_time=True)

    board = services.board_compute(
        actor=pc.user("street_officer"), street=pc.street, quarter="2026Q3"
    )
    weights = pc.criteria.weights
    jia = Score.objects.get(board=board, company=pc.jia)
    expected = reference(
        ratings=ratings,
        statuses=statuses,
        on_time=on_time,
        survey=[5, 4, 2],
        inspections=[(4, 5), (3, 5)],
        weights=weights,
        min_sample=3,
    )
    assert expected is not None
    assert jia.score == expected
    # Written out by hand too: rating (18/5−1)/4 = 65.00; survey 2/3 = 66.67;
    # on time 3/5 = 60.00; resolved 5/7 = 71.43; inspections 7/10 = 70.00;
    # (30·65 + 30·66.67 + 15·60 + 15·71.43 + 10·70) / 100 = 66.2155 → 66.22.
    assert jia.score == Decimal("66.22")
    assert (jia.rating_n, jia.survey_n, jia.request_n, jia.inspection_n) == (5, 3, 7, 2)
    assert sorted(jia.inspection_ids) == sorted([i1.pk, i2.pk])
    assert len(jia.request_ids) == 7
    # 丁: one survey answer, no request, no inspection → too few to score.
    ding = Score.objects.get(board=board, company=pc.ding)
    assert ding.score is None and ding.rank is None and ding.survey_n == 1
    # 丙: 3 survey answers (2 good) + one rating 5, one request; no inspection: the
    # inspection weight is left out and the rest scaled to 100.
    bing = Score.objects.get(board=board, company=pc.bing)
    assert bing.score == reference(
        ratings=[5],
        statuses=["closed"],
        on_time=[True],
        survey=[4, 5, 3],
        inspections=[],
        weights=weights,
        min_sample=3,
    )
    assert board.criteria.version == pc.criteria.version


def test_min_sample(pc: PC) -> None:
    make_request(pc, community=pc.w.community, company=pc.jia, day=date(2026, 8, 1), rating=5)
    make_request(pc, community=pc.w.community, company=pc.jia, day=date(2026, 8, 1), rating=5)
    board = services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter=Q3)
    jia = Score.objects.get(board=board, company=pc.jia)
    assert jia.rating_n == 2 and jia.score is None and jia.listing == ""


def _row(score: str | None) -> Row:
    r = Row(1, 1)
    r.score = Decimal(score).quantize(Decimal("0.01")) if score is not None else None
    return r


def test_ranking_ties_and_lists(pc: PC) -> None:
    rows = [_row(s) for s in ["90", "95", "95", "60", "80", "60", None, "75", "70", "88", "50"]]
    rank_and_list(rows, pc.criteria)
    got = [(str(r.score), r.rank, r.listing) for r in rows]
    assert got == [
        ("90.00", 3, ""),
        ("95.00", 1, "red"),
        ("95.00", 1, "red"),
        ("60.00", 8, ""),
        ("80.00", 5, ""),
        ("60.00", 8, ""),
        ("None", None, ""),
        ("75.00", 6, ""),
        ("70.00", 7, ""),
        ("88.00", 4, ""),
        ("50.00", 10, "black"),
    ]
    # ceil(10 × 20 %) = 2 red places (the tie fills them); ceil(10 × 10 %) = 1 black.


def test_red_needs_min_score_black_needs_low_score(pc: PC) -> None:
    rows = [_row("84"), _row("80"), _row("75")]
    rank_and_list(rows, pc.criteria)
    assert [r.listing for r in rows] == ["", "", ""]  # top < 85, bottom ≥ 70


def test_quarter_board_selector_for_the_dashboards(
    pc: PC, django_assert_max_num_queries: Any
) -> None:
    seed_level(pc, Quarter(2026, 2), {"jia": 5, "ding": 1, "bing": 4})
    board = services.board_compute(
        actor=pc.user("street_officer"), street=pc.street, quarter="2026Q2"
    )
    # Unpublished: the street's officer sees it, the public does not.
    assert selectors.quarter_board(viewer=None, unit=pc.street, quarter="2026Q2") == []
    rows = selectors.quarter_board(
        viewer=pc.user("street_officer"), unit=pc.street, quarter="2026Q2"
    )
    assert [r.published for r in rows] == [False, False, False]
    services.board_publish(actor=pc.user("street_officer"), board=board)
    with django_assert_max_num_queries(2):
        rows = selectors.quarter_board(viewer=None, unit=pc.street, quarter=Quarter(2026, 2))
    assert [(r.company, r.rank, r.list) for r in rows] == [
        ("甲物业", 1, "red"),
        ("丙物业", 2, None),
        ("丁物业", 3, "black"),
    ]
    one = selectors.quarter_board(viewer=None, unit=pc.community2, quarter="2026Q2")
    assert [(r.company, r.community) for r in one] == [("丙物业", "和睦社区")]
    assert Board.objects.count() == 1
    assert Score.objects.filter(listing=Listing.BLACK).count() == 1


def test_recompute_before_publication_replaces_rows(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), {"jia": 5, "ding": 1, "bing": 4})
    officer = pc.user("street_officer")
    b1 = services.board_compute(actor=officer, street=pc.street, quarter="2026Q2")
    services.criteria_publish(
        actor=pc.user("platform_admin"),
        weights={"rating": 100, "survey": 0, "ontime": 0, "resolution": 0, "inspection": 0},
        min_sample=3,
    )
    b2 = services.board_compute(actor=officer, street=pc.street, quarter="2026Q2")
    assert b1.pk == b2.pk and b2.criteria.version == 2
    assert Score.objects.filter(board=b2).count() == 3
    assert Score.objects.get(board=b2, company=pc.jia).score == Decimal("100.00")


@pytest.mark.parametrize("raw", ["2026Q3", "2026-q3", "2026-3"])
def test_quarter_parse(raw: str) -> None:
    q = Quarter.parse(raw)
    assert (q.first_day, q.last_day) == (date(2026, 7, 1), date(2026, 9, 30))
