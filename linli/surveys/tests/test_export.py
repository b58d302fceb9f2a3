"""The answers export (Excel and CSV) against a reference written by hand: an
anonymous survey with single choice + jump (skipped questions), rating, multiple
choice, a matrix with a row left empty, ranking, number, text (with text a
spreadsheet would take for a formula) and date; small groups blanked."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from linli.core.exports import safe_cell
from linli.surveys import results, services
from linli.surveys.logic import QuestionSpec
from linli.surveys.models import Survey
from linli.surveys.services.answers import age_band
from linli.surveys.tests.conftest import crowd

pytestmark = pytest.mark.django_db

SPECS = [
    QuestionSpec(
        "s1",
        "single",
        "家里有老人吗",
        options=["有", "没有"],
        jumps=[{"op": "eq", "value": 2, "to": "k1"}],  # 没有: m1 and x1 are skipped
    ),
    QuestionSpec("m1", "multiple", "需要的帮助", options=["助餐", "探访", "就医"], max_choices=3),
    QuestionSpec(
        "x1",
        "matrix",
        "环境",
        rows=["卫生", "绿化", "治安"],
        options=["差", "中", "好"],
        required=False,
    ),
    QuestionSpec("k1", "ranking", "先办哪件", options=["电梯", "车位", "绿化"]),
    QuestionSpec("r1", "rating", "总体满意度"),
    QuestionSpec("n1", "number", "几口人", required=False, min_value=0, max_value=20),
    QuestionSpec("t1", "text", "建议", required=False, max_length=100),
    QuestionSpec("d1", "date", "哪天方便", required=False),
]

# (building: 1 or 2, birth year, answers). Building 1 has 7 respondents, building 2
# one (blanked); six are born 1980, one 1950 (their age band is blanked).
ANSWERS: list[tuple[int, int, dict[str, Any]]] = [
    (
        1,
        1980,
        {
            "s1": "1",
            "m1": ["1", "3"],
            "x1": {"1": "3", "2": "2", "3": "1"},
            "k1": {"2": "1", "1": "2", "3": "3"},
            "r1": "5",
            "n1": "3",
            "t1": '=HYPERLINK("http://x","点我")',
            "d1": "2026-12-05",
        },
    ),
    (1, 1980, {"s1": "2", "k1": ["3", "1", "2"], "r1": "2"}),  # jump: m1, x1 skipped
    (
        1,
        1980,
        {
            "s1": "1",
            "m1": ["2"],
            "x1": {"1": "1", "3": "3"},  # 绿化 left empty
            "k1": ["1", "2", "3"],
            "r1": "4",
            "t1": "电梯 <坏了> & 没人修",
        },
    ),
    (1, 1980, {"s1": "1", "m1": ["1", "2", "3"], "k1": ["2", "3", "1"], "r1": "3", "n1": "0"}),
    (1, 1980, {"s1": "2", "k1": ["1", "3", "2"], "r1": "1", "t1": "-5度太冷", "d1": "2027-01-02"}),
    (1, 1980, {"s1": "1", "m1": ["3"], "k1": ["3", "2", "1"], "r1": "5", "n1": "2.5"}),
    (1, 1950, {"s1": "1", "m1": ["1"], "x1": {"2": "3"}, "k1": ["1", "2", "3"], "r1": "4"}),
    (2, 1980, {"s1": "2", "k1": ["2", "1", "3"], "r1": "3", "t1": "+1"}),
]

HEADER = [
    "答卷编号",
    "提交日期",
    "渠道",
    "楼栋",
    "年龄段",
    "s1: 家里有老人吗",
    "m1: 助餐",
    "m1: 探访",
    "m1: 就医",
    "x1: 卫生",
    "x1: 绿化",
    "x1: 治安",
    "k1: 电梯（名次）",
    "k1: 车位（名次）",
    "k1: 绿化（名次）",
    "r1: 总体满意度",
    "n1: 几口人",
    "t1: 建议",
    "d1: 哪天方便",
]


def _reference_row(rid: str, building: str, band: str, a: dict[str, Any]) -> list[Any]:
    """What a spreadsheet shows for one response, written out from the raw answers."""
    row: list[Any] = [rid[:8], timezone.localdate().isoformat(), "纸质问卷（代录）"]
    row += [building or None, band or None]
    row.append({"1": "有", "2": "没有"}[a["s1"]] if "s1" in a else None)
    if "m1" in a:
        row += [1 if str(o) in a["m1"] else 0 for o in (1, 2, 3)]
    else:
        row += [None, None, None]
    x = a.get("x1", {})
    row += [int(x[str(r)]) if str(r) in x else None for r in (1, 2, 3)]
    k = a["k1"]
    ranks = {int(o): int(r) for o, r in k.items()} if isinstance(k, dict) else {}
    if isinstance(k, list):
        ranks = {int(o): pos for pos, o in enumerate(k, start=1)}
    row += [ranks.get(o) for o in (1, 2, 3)]
    row.append(f"{int(a['r1'])}分")  # rating: its label
    row.append(float(a["n1"]) if "n1" in a else None)
    t = a.get("t1")
    row.append(("'" + t if t[0] in "=+-@" else t) if t else None)
    row.append(date.fromisoformat(a["d1"]).isoformat() if "d1" in a else None)
    return row


def _fill(world: Any) -> tuple[Survey, list[list[Any]]]:
    s = services.survey_create(
        actor=world.users["worker"],
        community=world.community,
        settings=services.Settings(title="导出核对", anonymous=True),
        questions=SPECS,
    )
    services.survey_open(actor=world.users["worker"], survey=s)
    people = {
        (1, 1980): crowd(world, 6, building=world.building),
        (1, 1950): crowd(world, 1, building=world.building, birth_year=1950),
        (2, 1980): crowd(world, 1, building=world.building2),
    }
    expected: list[tuple[str, list[Any]]] = []
    for b, year, answers in ANSWERS:
        building = world.building if b == 1 else world.building2
        resident = people[(b, year)].pop()
        response = services.survey_answer(
            actor=world.users["grid_worker"],
            survey=s,
            answers=answers,
            resident=resident,
            channel="paper",
        )
        name = building.name if b == 1 else ""  # building 2 has one response: blank
        band = age_band(year) if year == 1980 else ""  # 1950 is alone in its band: blank
        expected.append((str(response.pk), _reference_row(str(response.pk), name, band, answers)))
    expected.sort(key=lambda x: x[0])  # rows come in response-key order
    return s, [HEADER] + [row for _rid, row in expected]


def _sheet(body: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    assert book.sheetnames == ["答卷"]
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_workbook_matches_hand_reference(world: Any, client: Any) -> None:
    s, expected = _fill(world)
    client.force_login(world.users["worker"])
    resp = client.get(f"/surveys/{s.pk}/export.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Disposition"].endswith('.xlsx"')
    sheet = _sheet(resp.content)
    assert sheet[0] == expected[0]
    assert len(sheet) == len(expected)
    for got, want in zip(sheet[1:], expected[1:], strict=True):
        assert got == want


def test_csv_holds_the_same_cells_as_the_workbook(world: Any, client: Any) -> None:
    s, expected = _fill(world)
    client.force_login(world.users["worker"])
    sheet = _sheet(client.get(f"/surveys/{s.pk}/export.xlsx").content)
    text = client.get(f"/surveys/{s.pk}/export.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["" if v is None else str(v) for v in r] for r in sheet]
    assert rows[1:] == [["" if v is None else str(v) for v in r] for r in expected[1:]]


def test_export_rows_direct(world: Any) -> None:
    """The row generator itself (what CSV, Excel and the API share)."""
    s, expected = _fill(world)
    rows = list(results.export_rows(s, list(s.questions.order_by("position"))))
    assert rows[0] == HEADER
    shown = [
        [None if v == "" else v.isoformat() if isinstance(v, date) else safe_cell(v) for v in r]
        for r in rows[1:]
    ]
    assert shown == expected[1:]


# --------------------------------------------------------------- background exports


def _body(resp: Any) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def test_background_export_has_the_same_content(
    world: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from linli.core.models import AuditEvent
    from linli.surveys.models import AnswerExport

    s, expected = _fill(world)
    client.force_login(world.users["worker"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/surveys/{s.pk}/exports/", {"fmt": "xlsx"})
    assert r.status_code == 302
    e = AnswerExport.objects.get(survey=s)
    assert (e.status, e.rows, e.requested_by_id) == ("ready", 8, world.users["worker"].pk)
    assert AuditEvent.objects.filter(action="surveys.export").count() == 1
    page = client.get(f"/surveys/{s.pk}/exports/").content.decode()
    link = f"/surveys/{s.pk}/exports/{e.pk}/"
    assert link in page and 'http-equiv="refresh"' not in page
    got = client.get(link)
    assert got.status_code == 200 and got["Cache-Control"] == "no-store"
    assert _sheet(_body(got)) == expected
    # CSV the same way, equal to the direct CSV download.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/surveys/{s.pk}/exports/", {"fmt": "csv"})
    c = AnswerExport.objects.get(survey=s, fmt="csv")
    direct = client.get(f"/surveys/{s.pk}/export.csv").content
    assert _body(client.get(f"/surveys/{s.pk}/exports/{c.pk}/")) == direct


def test_background_export_queued_once_and_page_refreshes(world: Any, client: Any) -> None:
    """Without the worker having run (no commit in the test), a second request for
    the same survey and format returns the first; the page refreshes itself."""
    from linli.surveys.models import AnswerExport
    from linli.surveys.services.exports import export_request

    s, _expected = _fill(world)
    a = export_request(actor=world.users["worker"], survey=s, fmt="xlsx")
    b = export_request(actor=world.users["secretary"], survey=s, fmt="xlsx")
    assert a.pk == b.pk and AnswerExport.objects.filter(survey=s).count() == 1
    client.force_login(world.users["worker"])
    page = client.get(f"/surveys/{s.pk}/exports/").content.decode()
    assert 'http-equiv="refresh"' in page and 'id="pending"' in page
    assert client.get(f"/surveys/{s.pk}/exports/{a.pk}/").status_code == 404  # not ready


def test_background_export_refusals(world: Any, client: Any) -> None:
    from linli.core.errors import NotFound, ValidationFailed
    from linli.surveys.models import AnswerExport
    from linli.surveys.services.exports import export_request

    s, _expected = _fill(world)
    with pytest.raises(ValidationFailed):
        export_request(actor=world.users["worker"], survey=s, fmt="pdf")
    for who in ("resident", "other_secretary"):
        with pytest.raises(NotFound):
            export_request(actor=world.users[who], survey=s, fmt="xlsx")
    assert not AnswerExport.objects.exists()
    e = export_request(actor=world.users["worker"], survey=s, fmt="xlsx")
    for who in ("resident", "other_secretary"):
        client.force_login(world.users[who])
        assert client.get(f"/surveys/{s.pk}/exports/").status_code == 404
        assert client.post(f"/surveys/{s.pk}/exports/", {"fmt": "csv"}).status_code == 404
        assert client.get(f"/surveys/{s.pk}/exports/{e.pk}/").status_code == 404
    assert AnswerExport.objects.count() == 1


def test_large_survey_direct_link_goes_to_background(
    world: Any, client: Any, monkeypatch: Any
) -> None:
    from linli.surveys.services import exports as export_jobs

    s, _expected = _fill(world)
    monkeypatch.setattr(export_jobs, "DIRECT_MAX", 5)
    client.force_login(world.users["worker"])
    r = client.get(f"/surveys/{s.pk}/export.xlsx")
    assert r.status_code == 302 and r["Location"] == f"/surveys/{s.pk}/exports/"
    assert "答卷较多" in client.get(r["Location"]).content.decode()


def test_api_background_export(world: Any, client: Any) -> None:
    """Through the API with the in-process task backend of the tests: the export is
    made as the transaction commits (autocommit here: the client request)."""
    s, expected = _fill(world)
    client.force_login(world.users["worker"])
    r = client.post(
        f"/api/v1/surveys/{s.pk}/exports",
        json.dumps({"fmt": "xlsx"}),
        content_type="application/json",
    )
    assert r.status_code == 202, r.content
    out = r.json()
    assert out["fmt"] == "xlsx"
    status = client.get(f"/api/v1/surveys/{s.pk}/exports/{out['id']}").json()
    assert status["status"] in ("queued", "ready")
    client.force_login(world.users["resident"])
    assert client.get(f"/api/v1/surveys/{s.pk}/exports/{out['id']}").status_code == 404
