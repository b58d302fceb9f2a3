from __future__ import annotations

from typing import Any

import pytest
from pyxform.xls2xform import convert

from linli.core.errors import ValidationFailed
from linli.surveys import xlsform
from linli.surveys.logic import QuestionSpec
from linli.surveys.templates_data import TEMPLATES
from linli.surveys.tests.conftest import skip_specs


def _round(
    specs: list[QuestionSpec], pages: list[dict[str, Any]]
) -> tuple[list[QuestionSpec], list[dict[str, Any]]]:
    data = xlsform.to_bytes(
        xlsform.export_rows(title="t", form_id="f", questions=specs, pages=pages)
    )
    convert(data, file_type=".xlsx")  # pyxform accepts what we write
    title, back, back_pages = xlsform.import_xlsform(data)
    assert title == "t"
    return back, back_pages


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_templates_round_trip(key: str) -> None:
    t = TEMPLATES[key]
    specs = t.questions()
    back, pages = _round(specs, t.pages)
    assert [q.as_dict() for q in back] == [q.as_dict() for q in specs]


def test_skip_logic_round_trip() -> None:
    specs = skip_specs()
    pages: list[dict[str, Any]] = [
        {"title": "一", "condition": None},
        {"title": "二", "condition": {"q": "q1", "op": "eq", "value": 1, "then": "show"}},
    ]
    back, back_pages = _round(specs, pages)
    assert [q.as_dict() for q in back] == [q.as_dict() for q in specs]
    assert back_pages == pages


def test_relevant_written_for_other_tools() -> None:
    sheets = dict(xlsform.export_rows(title="t", form_id="f", questions=skip_specs(), pages=[]))
    rows = {r[1]: r for r in sheets["survey"][1:] if r[1]}
    # q2 is passed over by q1's jump "= 2 -> q4".
    assert rows["q2"][5] == "not(${q1} = '2')"
    assert rows["q6"][5] == "${q1} = '1'"


def test_plain_xlsform_relevant_is_read() -> None:
    data = xlsform.to_bytes(
        [
            (
                "survey",
                [
                    ["type", "name", "label", "relevant"],
                    ["select_one yn", "a", "有老人吗", ""],
                    ["text", "b", "说明", "${a} = '1'"],
                ],
            ),
            ("choices", [["list_name", "name", "label"], ["yn", "1", "有"], ["yn", "2", "没有"]]),
        ]
    )
    _t, specs, _p = xlsform.import_xlsform(data)
    assert specs[1].condition == {"q": "a", "op": "eq", "value": 1, "then": "show"}


def test_broken_workbook_refused() -> None:
    with pytest.raises(ValidationFailed):
        xlsform.import_xlsform(b"not a workbook")
    data = xlsform.to_bytes([("survey", [["type", "name", "label"], ["geopoint", "g", "位置"]])])
    with pytest.raises(ValidationFailed):
        xlsform.import_xlsform(data)
