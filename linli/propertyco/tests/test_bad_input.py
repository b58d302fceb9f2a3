"""Bad input: a clear message (Chinese, and English when asked), nothing changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from linli.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.propertyco import services
from linli.propertyco.models import (
    Board,
    BoardStatus,
    Criteria,
    EntryStatus,
    Inspection,
    Listing,
    RegisterEntry,
    Score,
)
from linli.propertyco.quarters import Quarter
from linli.propertyco.tests.conftest import PC, compute_publish, seed_level

BAD = {"jia": 1, "ding": 5, "bing": 4}


def _nothing_changed(before: dict[str, int]) -> None:
    assert _counts() == before


def _counts() -> dict[str, int]:
    return {
        "criteria": Criteria.objects.count(),
        "boards": Board.objects.count(),
        "published": Board.objects.filter(status=BoardStatus.PUBLISHED).count(),
        "scores": Score.objects.count(),
        "inspections": Inspection.objects.count(),
        "entries": RegisterEntry.objects.count(),
        "events": AuditEvent.objects.count(),
    }


WEIGHTS = {"rating": 30, "survey": 30, "ontime": 15, "resolution": 15, "inspection": 10}


@pytest.mark.parametrize(
    "weights",
    [
        {**WEIGHTS, "inspection": 0},  # 90
        {**WEIGHTS, "rating": 40},  # 110
        {"rating": 50, "survey": 30},  # a part left out counts as 0 → 80
    ],
)
def test_weights_must_sum_to_100(pc: PC, weights: dict[str, int]) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.criteria_publish(actor=pc.user("platform_admin"), weights=weights)
    assert "各项权重之和必须等于 100%" in str(exc.value.message)
    assert exc.value.code == "weights_sum"
    _nothing_changed(before)


def test_weights_message_in_english(pc: PC) -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        services.criteria_publish(
            actor=pc.user("platform_admin"), weights={**WEIGHTS, "inspection": 0}
        )
    assert str(exc.value.message) == "The weights must add up to exactly 100%; they add up to 90%."


def test_database_refuses_weights_not_summing_to_100(pc: PC) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Criteria.objects.create(
            version=99, w_rating=50, w_survey=30, w_ontime=10, w_resolution=5, w_inspection=0
        )


@pytest.mark.parametrize(
    ("weights", "field"),
    [({**WEIGHTS, "rating": -5, "survey": 65}, "w_rating"), ({**WEIGHTS, "x": 1}, "weights")],
)
def test_weights_out_of_range_or_unknown(pc: PC, weights: dict[str, Any], field: str) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.criteria_publish(actor=pc.user("platform_admin"), weights=weights)
    assert exc.value.field == field
    _nothing_changed(before)


@pytest.mark.parametrize(
    ("quarter", "message"),
    [
        ("2027Q1", "2027年第1季度还没有开始，不能评分。"),
        ("2026Q4", "2026年第4季度尚未结束（2026-12-31 结束），结束后才能评分。"),
        ("2026Q5", "季度格式应为“2026Q3”。"),
        ("next", "季度格式应为“2026Q3”。"),
    ],
)
def test_future_or_unfinished_quarter_refused(pc: PC, quarter: str, message: str) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter=quarter)
    assert str(exc.value.message) == message
    _nothing_changed(before)


def test_unfinished_quarter_message_in_english(pc: PC) -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter="2026Q4")
    assert "has not ended" in str(exc.value.message)


def test_black_list_without_evidence_refused(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    board = services.board_compute(
        actor=pc.user("street_officer"), street=pc.street, quarter="2026Q2"
    )
    black = Score.objects.get(board=board, listing=Listing.BLACK)
    # A black row whose evidence is gone (e.g. imported by hand): publishing refuses.
    Score.objects.filter(pk=black.pk).update(request_ids=[], inspection_ids=[])
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.board_publish(actor=pc.user("street_officer"), board=board)
    assert str(exc.value.message) == (
        "黑榜认定缺少证据：甲物业 没有任何诉求或检查记录作为依据，不能公布。"
    )
    assert exc.value.code == "no_evidence"
    _nothing_changed(before)
    board.refresh_from_db()
    assert board.status == BoardStatus.COMPUTED


def test_register_decision_without_evidence_refused(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    seed_level(pc, Quarter(2026, 3), BAD)
    b2, _l = compute_publish(pc, "2026Q2")
    b3 = services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter="2026Q3")
    first = Score.objects.select_related("board__criteria").get(board=b2, listing="black")
    second = Score.objects.select_related("board__criteria").get(board=b3, listing="black")
    Score.objects.filter(pk=first.pk).update(request_ids=[], inspection_ids=[])
    first.refresh_from_db()
    before = _counts()
    from linli.core.writes import governed_write

    officer = pc.user("street_officer")
    with (
        pytest.raises(ValidationFailed) as exc,
        governed_write(actor=officer, action="x", community_id=None) as w,
    ):
        services.register_list(w, first=first, second=second)
    assert "列入不良名录缺少证据" in str(exc.value.message)
    # A red/ordinary score is no ground at all.
    ordinary = Score.objects.select_related("board__criteria").get(board=b3, company=pc.bing)
    with (
        pytest.raises(ValidationFailed) as exc2,
        governed_write(actor=officer, action="x", community_id=None) as w,
    ):
        services.register_list(w, first=ordinary, second=second)
    assert "连续两个季度的黑榜记录" in str(exc2.value.message)
    _nothing_changed(before)


def test_appeal_without_reason_refused(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    seed_level(pc, Quarter(2026, 3), BAD)
    compute_publish(pc, "2026Q2")
    _b, (entry,) = compute_publish(pc, "2026Q3")
    before = _counts()
    for reason in ["", "   "]:
        with pytest.raises(ValidationFailed) as exc:
            services.entry_appeal(actor=pc.user("property"), entry=entry, reason=reason)
        assert str(exc.value.message) == "请填写“提出申诉”的理由。"
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        services.entry_appeal(actor=pc.user("property"), entry=entry, reason="")
    assert str(exc.value.message) == "Please give a reason for “Appeal”."
    _nothing_changed(before)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LISTED
    # A decision needs a reason too.
    services.entry_appeal(actor=pc.user("property"), entry=entry, reason="数据有误")
    with pytest.raises(ValidationFailed):
        services.entry_decide(
            actor=pc.user("street_officer"), entry=entry, decision="uphold", reason=" "
        )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.APPEALED


def test_street_outside_scope_refused(pc: PC) -> None:
    before = _counts()
    for user in ["other_street_officer", "secretary", "property", "resident"]:
        with pytest.raises(PermissionDenied) as exc:
            services.board_compute(actor=pc.user(user), street=pc.street, quarter="2026Q3")
        assert str(exc.value.message) == "您无权管理该街道的物业红黑榜（只能管理本街道）。"
    _nothing_changed(before)


def test_inspection_outside_scope_and_bad_items(pc: PC) -> None:
    before = _counts()
    items = [{"item": "楼道保洁", "passed": True}]
    with pytest.raises(PermissionDenied) as exc:
        services.inspection_record(
            actor=pc.user("other_secretary"),
            building=pc.w.building,
            inspected_on=date(2026, 11, 1),
            items=items,
        )
    assert "只有本社区" in str(exc.value.message)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"inspected_on": date(2026, 11, 21)}, "检查日期不能晚于今天。"),
        ({"inspected_on": None}, "请填写检查日期。"),
        ({"items": []}, "请至少填写一个检查项目并选择是否合格。"),
        ({"items": [{"item": "绿化", "passed": None}]}, "请为检查项目“绿化”选择合格或不合格。"),
    ]
    for override, message in cases:
        args: dict[str, Any] = {
            "actor": pc.user("secretary"),
            "building": pc.w.building,
            "inspected_on": date(2026, 11, 1),
            "items": items,
        }
        args.update(override)
        with pytest.raises(DomainError) as exc2:
            services.inspection_record(**args)
        assert str(exc2.value.message) == message
    _nothing_changed(before)


def test_inspection_into_a_published_quarter_refused(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    compute_publish(pc, "2026Q2")
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.inspection_record(
            actor=pc.user("secretary"),
            building=pc.w.building,
            inspected_on=date(2026, 5, 5),
            items=[{"item": "楼道保洁", "passed": False}],
        )
    assert "已公布" in str(exc.value.message)
    _nothing_changed(before)


def test_published_quarter_cannot_be_recomputed(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    compute_publish(pc, "2026Q2")
    before = _counts()
    with pytest.raises(DomainError) as exc:
        services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter="2026Q2")
    assert "已公布，不能重新计算" in str(exc.value.message)
    _nothing_changed(before)


def test_criteria_only_by_admin(pc: PC) -> None:
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.criteria_publish(actor=pc.user("street_officer"), weights=WEIGHTS)
    _nothing_changed(before)


def test_other_street_cannot_open_board(pc: PC) -> None:
    from linli.propertyco import selectors

    seed_level(pc, Quarter(2026, 2), BAD)
    board = services.board_compute(
        actor=pc.user("street_officer"), street=pc.street, quarter="2026Q2"
    )
    for user in ["other_street_officer", "property", "secretary", "resident"]:
        with pytest.raises(NotFound):
            selectors.board_for(viewer=pc.user(user), pk=board.pk)
