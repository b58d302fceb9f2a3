"""The two-quarters rule with a fixed clock, the register and the appeal step."""

from __future__ import annotations

from datetime import date
from typing import Any

from linli.core.models import AuditEvent
from linli.propertyco import selectors, services
from linli.propertyco.models import EntryStatus, RegisterEntry
from linli.propertyco.quarters import Quarter, frozen
from linli.propertyco.tests.conftest import PC, TODAY, compute_publish, seed_level

Q1, Q2, Q3 = Quarter(2026, 1), Quarter(2026, 2), Quarter(2026, 3)
BAD = {"jia": 1, "ding": 5, "bing": 4}  # 甲 at the bottom, below 70
GOOD = {"jia": 5, "ding": 4, "bing": 3}


def test_two_consecutive_black_quarters_list_the_company(pc: PC) -> None:
    seed_level(pc, Q2, BAD)
    seed_level(pc, Q3, BAD)
    _b2, listed2 = compute_publish(pc, Q2)
    assert listed2 == []  # one black quarter is not enough
    assert not selectors.is_barred(pc.jia)
    _b3, listed3 = compute_publish(pc, Q3)
    assert len(listed3) == 1
    e = listed3[0]
    e.refresh_from_db()
    assert (e.company_id, e.community_id, e.street_id) == (
        pc.jia.pk,
        pc.w.community.pk,
        pc.street.pk,
    )
    assert e.listed_on == TODAY and e.bars_until == date(2029, 11, 20)
    assert e.status == EntryStatus.LISTED
    assert [s["quarter"] for s in e.evidence["scores"]] == ["2026Q2", "2026Q3"]
    assert len(e.evidence["request_ids"]) == 8 and len(e.evidence["inspection_ids"]) == 2
    assert selectors.is_barred(pc.jia) and not selectors.is_barred(pc.ding)
    assert selectors.dismissal_eligible(pc.jia, pc.w.community)
    assert not selectors.dismissal_eligible(pc.jia, pc.community2)
    assert selectors.is_barred(pc.jia, on=date(2029, 11, 20))
    assert not selectors.is_barred(pc.jia, on=date(2029, 11, 21))  # three years, then free
    ev = AuditEvent.objects.get(action="propertyco.register_listed")
    assert ev.payload["dismissal_eligible"] is True and ev.community_id == pc.w.community.pk


def test_publishing_the_earlier_quarter_last_also_lists(pc: PC) -> None:
    seed_level(pc, Q2, BAD)
    seed_level(pc, Q3, BAD)
    _b3, listed3 = compute_publish(pc, Q3)
    assert listed3 == []
    _b2, listed2 = compute_publish(pc, Q2)
    assert len(listed2) == 1
    assert [s["quarter"] for s in listed2[0].evidence["scores"]] == ["2026Q2", "2026Q3"]


def test_one_black_quarter_or_non_consecutive_ones_do_not_list(pc: PC) -> None:
    seed_level(pc, Q1, BAD)
    seed_level(pc, Q2, GOOD)
    seed_level(pc, Q3, BAD)
    for q in (Q1, Q2, Q3):
        compute_publish(pc, q)
    assert RegisterEntry.objects.count() == 0
    assert not selectors.is_barred(pc.jia)


def test_an_unpublished_neighbour_does_not_count(pc: PC) -> None:
    seed_level(pc, Q2, BAD)
    seed_level(pc, Q3, BAD)
    services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter=Q2)
    _b3, listed = compute_publish(pc, Q3)
    assert listed == []


def test_the_rule_runs_on_the_fixed_clock(pc: PC) -> None:
    """With today inside Q4, Q3 is scorable; the listing date and the three years run
    from the clock the services use."""
    seed_level(pc, Q2, BAD)
    seed_level(pc, Q3, BAD)
    with frozen(date(2026, 10, 1)):
        compute_publish(pc, Q2)
        _b, listed = compute_publish(pc, Q3)
    assert listed[0].listed_on == date(2026, 10, 1)
    assert listed[0].bars_until == date(2029, 10, 1)


def test_appeal_and_decision(pc: PC, django_capture_on_commit_callbacks: Any) -> None:
    seed_level(pc, Q2, BAD)
    seed_level(pc, Q3, BAD)
    compute_publish(pc, Q2)
    _b, (entry,) = compute_publish(pc, Q3)
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.entry_appeal(
            actor=pc.user("property"),
            entry=entry,
            reason="第三季度电梯故障系厂家原因，已提供维修记录。",
        )
    assert entry.status == EntryStatus.APPEALED and entry.appeal_reason.startswith("第三季度")
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.entry_decide(
            actor=pc.user("street_officer"), entry=entry, decision="revoke", reason="核实属实。"
        )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REVOKED and entry.decided_by == pc.user("street_officer")
    assert not selectors.is_barred(pc.jia)
    assert not selectors.dismissal_eligible(pc.jia, pc.w.community)
    actions = list(
        AuditEvent.objects.filter(action__startswith="propertyco.entry").values_list(
            "action", flat=True
        )
    )
    assert actions == ["propertyco.entry.appeal", "propertyco.entry.revoke"]
