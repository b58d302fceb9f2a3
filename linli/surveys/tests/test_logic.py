"""Skip logic: definitions are refused when a rule names a missing question, looks at
a later one or jumps backwards (a loop); every answer path of a valid definition
reaches the end (property test)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.errors import ValidationFailed
from linli.surveys.logic import (
    QuestionSpec,
    clean_answers,
    parse_rule_text,
    rule_text,
    validate_definition,
    walk,
)
from linli.surveys.templates_data import TEMPLATES
from linli.surveys.tests.conftest import skip_specs


def test_shipped_templates_are_valid() -> None:
    for t in TEMPLATES.values():
        validate_definition(t.questions(), t.pages, anonymous=t.anonymous)


def test_backward_jump_is_a_loop_and_refused() -> None:
    specs = skip_specs()
    specs[5].jumps = [{"op": "gt", "value": 3, "to": "q1"}]
    with pytest.raises(ValidationFailed) as e:
        validate_definition(specs)
    assert "循环" in str(e.value.message)


def test_jump_to_itself_refused() -> None:
    specs = skip_specs()
    specs[0].jumps = [{"op": "eq", "value": 1, "to": "q1"}]
    with pytest.raises(ValidationFailed):
        validate_definition(specs)


def test_jump_to_missing_question_refused() -> None:
    specs = skip_specs()
    specs[0].jumps = [{"op": "eq", "value": 1, "to": "q99"}]
    with pytest.raises(ValidationFailed) as e:
        validate_definition(specs)
    assert "不存在" in str(e.value.message)


def test_condition_on_later_question_refused() -> None:
    specs = skip_specs()
    specs[1].condition = {"q": "q3", "op": "answered", "then": "show"}
    with pytest.raises(ValidationFailed) as e:
        validate_definition(specs)
    assert "后面" in str(e.value.message)


def test_condition_on_missing_question_refused() -> None:
    specs = skip_specs()
    specs[1].condition = {"q": "nope", "op": "answered", "then": "show"}
    with pytest.raises(ValidationFailed):
        validate_definition(specs)


def test_page_condition_must_look_back() -> None:
    specs = skip_specs()
    pages: list[dict[str, Any]] = [
        {"title": "a"},
        {"title": "b", "condition": {"q": "q5", "op": "answered", "then": "show"}},
    ]
    with pytest.raises(ValidationFailed):
        validate_definition(specs, pages)
    pages[1]["condition"] = {"q": "q1", "op": "eq", "value": 1, "then": "skip"}
    validate_definition(specs, pages)
    shown = [q.code for q in walk(specs, pages, {"q1": 1, "q2": 3, "q3": [1]})]
    assert shown == ["q1", "q2", "q3"]


def test_household_picker_not_allowed_in_anonymous_survey() -> None:
    specs = [QuestionSpec("h", "household", "您家是哪一户？")]
    validate_definition(specs)
    with pytest.raises(ValidationFailed):
        validate_definition(specs, anonymous=True)


def test_walk_follows_jump_and_condition() -> None:
    specs = skip_specs()
    assert [q.code for q in walk(specs, [], {"q1": 2})] == ["q1", "q4", "q5"]
    assert [q.code for q in walk(specs, [], {"q1": 1})] == ["q1", "q2", "q3", "q4", "q5", "q6"]


def test_multiple_choice_bounds() -> None:
    specs = skip_specs()
    with pytest.raises(ValidationFailed):
        clean_answers(specs, [], {"q1": "1", "q2": "3", "q3": ["1", "2", "3"], "q4": ["1", "1"]})


def test_rule_text_round_trip() -> None:
    for text in ["q3 = 2", "q3 != 2", "q3 in 1,2", "q5 > 3", "q5 < 3", "q2 answered", "q2 empty"]:
        rule = parse_rule_text(text)
        assert rule is not None
        assert rule_text(rule) == text
    with pytest.raises(ValidationFailed):
        parse_rule_text("q3 ~ 2")


# --------------------------------------------------------------------------- property


@st.composite
def definitions(draw: Any) -> list[QuestionSpec]:
    n = draw(st.integers(min_value=1, max_value=12))
    specs: list[QuestionSpec] = []
    page = 1
    for i in range(n):
        if i and draw(st.booleans()) and draw(st.booleans()):
            page += 1
        kind = draw(st.sampled_from(["single", "rating", "multiple", "text"]))
        options = ["a", "b", "c"] if kind in ("single", "multiple") else []
        spec = QuestionSpec(
            f"q{i}", kind, f"题{i}", page=page, options=options, required=draw(st.booleans())
        )
        if i and draw(st.booleans()):
            src = specs[draw(st.integers(min_value=0, max_value=i - 1))]
            op = "answered" if src.kind == "text" else "eq"
            rule: dict[str, Any] = {
                "q": src.code,
                "op": op,
                "then": draw(st.sampled_from(["show", "skip"])),
            }
            if op == "eq":
                rule["value"] = 1
            spec.condition = rule
        if i < n - 1 and kind != "text" and draw(st.booleans()):
            to = draw(st.integers(min_value=i + 1, max_value=n))
            spec.jumps = [{"op": "eq", "value": 2, "to": "end" if to == n else f"q{to}"}]
        specs.append(spec)
    return specs


@settings(max_examples=150, deadline=None)
@given(definitions(), st.data())
def test_every_answer_path_reaches_the_end(specs: list[QuestionSpec], data: Any) -> None:
    validate_definition(specs)
    answers: dict[str, Any] = {}
    for q in specs:
        if q.kind == "text":
            answers[q.code] = data.draw(st.sampled_from(["", "好"]))
        elif q.kind == "multiple":
            answers[q.code] = data.draw(
                st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True)
            )
        else:
            answers[q.code] = data.draw(st.integers(1, 3))
    shown = walk(specs, [], answers)
    positions = [specs.index(q) for q in shown]
    # Strictly forward: no question is visited twice, so the walk always ends.
    assert positions == sorted(set(positions))
    # The first question is always asked, and the walk ends at the last question or
    # at a jump to the end.
    assert positions[0] == 0
