"""Results from the running tallies against a direct count of the answers; groups
under 5 answers hidden (questions, cross-tab groups, export demographics)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from linli.surveys import results
from linli.surveys.models import Tally
from linli.surveys.tests.conftest import GOOD, crowd, make_survey, paper

pytestmark = pytest.mark.django_db


def _answers(i: int) -> dict[str, Any]:
    return {
        "q1": "1" if i % 3 else "2",
        "q2": str(1 + i % 5),
        "q3": [str(1 + i % 3), str(1 + (i + 1) % 3)],
        "q4": {"1": str(1 + i % 3), "2": str(1 + (i * 2) % 3)},
        "q5": "电梯 维修 太慢" if i % 2 else "绿化 很好",
        "q6": str(2 + i % 4),
    }


def test_tallies_match_direct_counts(world: Any) -> None:
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 12)):
        paper(world, s, r, _answers(i))
    ref = results.reference_counts(s)
    tallied: dict[tuple[int, int, int], int] = {}
    for t in Tally.objects.filter(survey=s):
        key = (t.question_id, t.row, t.option)
        if t.option >= 0 or t.option == -1:
            tallied[key] = tallied.get(key, 0) + t.n
    number_qs = {q.pk for q in s.questions.filter(kind__in=["number", "text"])}
    assert {k: v for k, v in tallied.items() if k[0] not in number_qs or k[2] == -1} == {
        k: v for k, v in ref.items() if k[0] not in number_qs or k[2] == -1
    }
    res = {
        r.question.code: r
        for r in results.question_results(s, list(s.questions.order_by("position")))
    }
    q2 = res["q2"]
    expected = [sum(1 for i in range(12) if i % 3 and 1 + i % 5 == v) for v in range(1, 6)]
    assert [b.count for b in q2.bars] == expected
    assert q2.mean == round(
        sum(v * n for v, n in zip(range(1, 6), expected, strict=True)) / sum(expected), 2
    )
    assert res["q6"].mean == round(
        sum(2 + i % 4 for i in range(12) if i % 3) / sum(1 for i in range(12) if i % 3), 2
    )
    assert res["q4"].grid[0] == [sum(1 for i in range(12) if 1 + i % 3 == v) for v in (1, 2, 3)]
    assert dict(res["q5"].keywords)["电梯"] == 6


def test_small_groups_hidden(world: Any) -> None:
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 6, birth_year=1980)):
        paper(world, s, r, _answers(i))
    for i, r in enumerate(crowd(world, 2, building=world.building2, birth_year=1950)):
        paper(world, s, r, _answers(i))
    res = {
        r.question.code: r
        for r in results.question_results(s, list(s.questions.order_by("position")))
    }
    assert not res["q1"].hidden
    # q6 is asked only when q1 = 1: 5 of the 8 (i % 3 != 0) — shown; q3 too.
    q = s.questions.get(code="q1")
    tab = results.crosstab(s, q, by="building")
    hidden = [row for row in tab.rows if row[2] is None]
    shown = [row for row in tab.rows if row[2] is not None]
    assert [r[0] for r in hidden] == ["2幢"] and [r[0] for r in shown] == ["1幢"]
    ages = results.crosstab(s, q, by="age_band")
    assert {r[0]: r[2] is None for r in ages.rows} == {"35-49": False, "75+": True}


def test_too_few_answers_hide_question(world: Any) -> None:
    s = make_survey(world)
    paper(world, s, world.residents["resident"], GOOD)
    res = results.question_results(s, list(s.questions.all()))
    assert all(r.hidden for r in res)
    assert results.satisfaction_rate(community_id=world.community.pk, survey=s) is None


def test_export_multi_choice_as_columns_and_blanks_small_groups(world: Any) -> None:
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 5)):
        paper(world, s, r, _answers(i))
    paper(world, s, crowd(world, 1, building=world.building2)[0], _answers(7))
    rows = list(results.export_rows(s, list(s.questions.order_by("position"))))
    head = rows[0]
    assert "q3: 助餐" in head and "q3: 探访" in head and "q4: 卫生" in head
    col = head.index("q3: 助餐")
    assert {r[col] for r in rows[1:] if r[head.index("q1: 您家有老人吗？")] == "有"} <= {0, 1}
    buildings = [r[3] for r in rows[1:]]
    assert buildings.count("1幢") == 5 and buildings.count("") == 1  # 2幢 has one answer


def test_csv_view(world: Any, client: Any) -> None:
    s = make_survey(world)
    for i, r in enumerate(crowd(world, 5)):
        paper(world, s, r, _answers(i))
    client.force_login(world.users["worker"])
    resp = client.get(f"/surveys/{s.pk}/export.csv")
    assert resp.status_code == 200
    text = resp.content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 6
    resp = client.get(f"/surveys/{s.pk}/export.xlsx")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["答卷"]
    sheet = list(book.active.iter_rows(values_only=True))
    assert len(sheet) == 6 and "q3: 助餐" in sheet[0]
    # 0/1 where q3 was asked; blank where q1's jump skipped it.
    assert {row[sheet[0].index("q3: 助餐")] for row in sheet[1:]} <= {0, 1, None}
    assert 1 in {row[sheet[0].index("q3: 助餐")] for row in sheet[1:]}
    client.force_login(world.users["resident"])
    assert client.get(f"/surveys/{s.pk}/export.csv").status_code == 404


def test_satisfaction_rate(world: Any) -> None:
    from linli.surveys import services

    s = services.survey_from_template(
        actor=world.users["worker"], community=world.community, template="satisfaction"
    )
    services.survey_open(actor=world.users["worker"], survey=s)
    for i, r in enumerate(crowd(world, 10)):
        paper(
            world,
            s,
            r,
            {"overall": str(5 if i < 7 else 2), "aspects": {str(k): "4" for k in range(1, 6)}},
        )
    services.survey_close(actor=world.users["worker"], survey=s)
    assert results.satisfaction_rate(community_id=world.community.pk) == 70.0
