"""Role × state matrices, derived from the state tables (so they cannot disagree
with the services): who may publish a quarter, appeal a listing and decide the
appeal, and who may record an inspection or run a street."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import WORLD_USERS
from linli.core.errors import DomainError
from linli.propertyco import services
from linli.propertyco.models import Board, BoardStatus, EntryStatus, RegisterEntry
from linli.propertyco.permissions import can_record_inspection, can_run_board
from linli.propertyco.quarters import Quarter
from linli.propertyco.states import BOARD, ENTRY
from linli.propertyco.tests.conftest import PC, compute_publish, seed_level

RUNNERS = {"street_officer", "platform_admin"}
INSPECTORS = {
    "grid_worker",
    "grid2_worker",
    "worker",
    "secretary",
    "street_officer",
    "platform_admin",
}


@pytest.fixture
def board(pc: PC) -> Board:
    seed_level(pc, Quarter(2026, 2), {"jia": 1, "ding": 5, "bing": 4})
    return services.board_compute(
        actor=pc.user("street_officer"), street=pc.street, quarter="2026Q2"
    )


@pytest.fixture
def entry(pc: PC) -> RegisterEntry:
    bad = {"jia": 1, "ding": 5, "bing": 4}
    seed_level(pc, Quarter(2026, 2), bad)
    seed_level(pc, Quarter(2026, 3), bad)
    compute_publish(pc, "2026Q2")
    _b, (e,) = compute_publish(pc, "2026Q3")
    return e


@pytest.mark.parametrize("state", [BoardStatus.COMPUTED, BoardStatus.PUBLISHED])
def test_publish_matrix(pc: PC, board: Board, state: str) -> None:
    board.status = state
    for key in WORLD_USERS:
        allowed = key in RUNNERS and state == BoardStatus.COMPUTED
        assert BOARD.can(pc.user(key), board, "publish") is allowed, (key, state)


@pytest.mark.parametrize("state", list(EntryStatus.values))
def test_entry_matrix(pc: PC, entry: RegisterEntry, state: str) -> None:
    entry.status = state
    entry.appeal_reason = "理由"
    for key in WORLD_USERS:
        user = pc.user(key)
        assert ENTRY.can(user, entry, "appeal") is (
            key == "property" and state == EntryStatus.LISTED
        ), (key, state)
        for action in ("uphold", "revoke"):
            assert ENTRY.can(user, entry, action) is (
                key in RUNNERS and state == EntryStatus.APPEALED
            ), (key, state, action)


def test_entry_service_follows_the_matrix(pc: PC, entry: RegisterEntry) -> None:
    """The service refuses exactly whom the matrix refuses (spot check on real rows)."""
    for key in WORLD_USERS:
        if key == "property":
            continue
        with pytest.raises(DomainError):
            services.entry_appeal(actor=pc.user(key), entry=entry, reason="理由")
    services.entry_appeal(actor=pc.user("property"), entry=entry, reason="理由")
    with pytest.raises(DomainError):
        services.entry_decide(
            actor=pc.user("other_street_officer"), entry=entry, decision="uphold", reason="x"
        )
    e = services.entry_decide(
        actor=pc.user("platform_admin"), entry=entry, decision="uphold", reason="维持"
    )
    assert e.status == EntryStatus.UPHELD


def test_inspection_and_street_matrix(pc: PC) -> None:
    for key in WORLD_USERS:
        user: Any = pc.user(key)
        assert bool(can_record_inspection(user, pc.w.community)) is (key in INSPECTORS), key
        assert bool(can_run_board(user, pc.street)) is (key in RUNNERS), key
        other_ok = key in {"other_street_officer", "platform_admin"}
        assert bool(can_run_board(user, pc.w.other_street)) is other_ok, key
