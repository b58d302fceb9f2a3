"""Duplicates by meaning + place + time, on the issue's examples, on the labelled
pair set, and through the requests app's "me too" selector."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.insight import classifier, semantic
from linli.requests.selectors import find_duplicates


def test_issue_examples() -> None:
    assert semantic.meaning("电梯又坏了", "困在电梯里半小时") >= semantic.THRESHOLD
    assert semantic.meaning("5幢的狗叫", "5幢夜里装修电钻") < semantic.THRESHOLD
    assert semantic.meaning("", "电梯又坏了") == 0.0


def test_requests_app_uses_the_same_threshold() -> None:
    from linli.requests.similarity import MIN_SIMILARITY

    assert MIN_SIMILARITY == semantic.THRESHOLD


def test_place_and_time_window() -> None:
    same = semantic.Place(same_building=True, distance_m=None, days=3)
    assert semantic.is_duplicate("电梯又坏了", "困在电梯里半小时", same)
    far = semantic.Place(same_building=False, distance_m=300.0, days=3)
    near = semantic.Place(same_building=False, distance_m=80.0, days=3)
    late = semantic.Place(same_building=True, distance_m=None, days=20)
    assert not semantic.is_duplicate("电梯又坏了", "困在电梯里半小时", far)
    assert semantic.is_duplicate("电梯又坏了", "困在电梯里半小时", near)
    assert not semantic.is_duplicate("电梯又坏了", "困在电梯里半小时", late)


def test_labelled_pairs_f1() -> None:
    """The pairs of the third held-out split (its texts are not training data and the
    measure was not chosen on them)."""
    rows = classifier.load_rows(classifier.DATA / "pairs3.jsonl")
    assert len(rows) >= 200
    hard = [r for r in rows if r["kind"] == "hard_negative"]
    assert len(hard) >= 100 and all(r["same_building"] for r in hard)
    tp = fp = fn = 0
    for r in rows:
        place = semantic.Place(r["same_building"], r["distance_m"], r["days"])
        got = semantic.is_duplicate(r["a"], r["b"], place)
        tp += got and r["label"] == 1
        fp += got and r["label"] == 0
        fn += (not got) and r["label"] == 1
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.90, f1  # measured 0.955 (README); a guard against regressions


@pytest.mark.django_db
def test_me_too_suggestions_use_meaning(world: Any, submit: Any) -> None:
    lift = submit("fac-elevator", "1幢电梯又坏了，停在三楼不动")
    dog = submit("di-pet", "1幢有条狗一晚上叫个不停")
    now = timezone.now() + timedelta(hours=1)
    kw = {"community_id": world.community.pk, "building_id": world.building.pk, "now": now}
    found = find_duplicates(description="1幢的电梯坏了，我被关在里面半小时", **kw)
    assert [c.request.pk for c in found] == [lift.pk]
    found = find_duplicates(description="1幢夜里有人装修电钻，吵得睡不着", **kw)
    assert dog.pk not in [c.request.pk for c in found] and lift.pk not in [
        c.request.pk for c in found
    ]
    # Another building, no coordinates: not offered.
    assert not find_duplicates(
        description="我被困在电梯里半小时",
        community_id=world.community.pk,
        building_id=world.building2.pk,
        now=now,
    )
