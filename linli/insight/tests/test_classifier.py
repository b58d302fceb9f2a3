"""The classifier: deterministic training, the shipped starter model's held-out
quality, the confidence threshold, and bad input (never a crash, never a silent
wrong unit)."""

from __future__ import annotations

import numpy as np
import pytest

from linli.insight import classifier
from linli.insight.classifier import is_correct, train, tune_threshold, with_threshold
from linli.insight.suggest import suggest
from linli.insight.tests.conftest import subset


@pytest.fixture(scope="module")
def small() -> classifier.Model:
    rows = subset(6)
    return train([r["text"] for r in rows], [r["label"] for r in rows])


def test_training_is_deterministic(small: classifier.Model) -> None:
    rows = subset(6)
    again = train([r["text"] for r in rows], [r["label"] for r in rows])
    assert again.digest() == small.digest()
    for k in small.arrays:
        assert np.array_equal(small.arrays[k], again.arrays[k]), k
    # and the bytes round-trip without pickle
    back = classifier.Model.from_bytes(small.to_bytes())
    assert back.digest() == small.digest()


def test_starter_model_on_heldout_split() -> None:
    """A guard on the shipped model: the held-out figures the README reports."""
    held = classifier.load_rows(classifier.DATA / "heldout.jsonl")
    ev = classifier.evaluate(classifier.starter(), held)
    assert ev.n == 300
    assert ev.accuracy >= 0.85
    assert ev.confident_accuracy is not None and ev.confident_accuracy >= 0.95
    assert ev.coverage >= 0.60


def test_tune_threshold_picks_lowest_cut_with_target_precision() -> None:
    conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    ok = [True, True, True, False, True, False]
    assert tune_threshold(conf, ok, precision=1.0) == 0.7
    assert tune_threshold(conf, ok, precision=0.75) == 0.5
    assert tune_threshold([0.5], [False]) == 1.0  # never precise enough: all to a human


def test_threshold_marks_for_a_human(small: classifier.Model) -> None:
    text = "电梯又坏了，困在里面二十分钟"
    strict = with_threshold(small, 0.999).predict([text])[0]
    assert strict.needs_human and strict.reason == "low_confidence"
    assert strict.category is not None  # still a suggestion, just not trusted
    lax = with_threshold(small, 0.0).predict([text])[0]
    assert not lax.needs_human and lax.reason == ""
    assert lax.confidence == strict.confidence


@pytest.mark.django_db
def test_suggestion_names_unit_kind_and_alternatives() -> None:
    p = suggest("住18楼，在里面关了二十分钟才出来，按警铃没人应")
    assert p.category == "fac-elevator" and p.unit_kind == "property"
    assert len(p.alternatives) == 3 and "fac-elevator" not in p.alternatives
    assert 0 < p.confidence <= 1 and not p.needs_human


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("😡😡😡！！！？？", "no_text"),
        ("。。。，，，……", "no_text"),
        ("the lift is broken again and nobody came", "latin"),
        ("楼道灯坏了" * 2000, "too_long"),
        ("楼上每天半夜拖椅子跳绳，吵得睡不着。另外单元门口的桶满了三天没人收，臭死了", "mixed"),
    ],
)
def test_bad_input_goes_to_a_human_with_a_reason(text: str, reason: str) -> None:
    p = suggest(text)
    assert p.needs_human and p.reason == reason
    assert p.message  # a sentence the page can show
    if reason in ("empty", "no_text"):
        assert p.category is None and p.unit_kind is None and p.confidence == 0.0


def test_accepted_alternative_counts() -> None:
    row = {"text": "x", "label": "di-other", "also": ["ho-leak"]}
    assert is_correct("ho-leak", row) and is_correct("di-other", row)
    assert not is_correct("di-noise", row) and not is_correct(None, row)
