"""Roster, visits (refusals, 代办, one-tap hand-over), away status, overdue sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.care import selectors, services
from linli.care.models import CareSubject, FamilyContact, Visit
from linli.care.tests.conftest import Care
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.core.notify import MemorySender

pytestmark = pytest.mark.django_db


def test_enrol_needs_a_care_tag_and_a_worker_of_the_grid(world: Any) -> None:
    sec = world.user("secretary")
    with pytest.raises(ValidationFailed):
        services.subject_enrol(
            actor=sec, resident=world.residents["neighbour"], worker=world.user("grid2_worker")
        )
    with pytest.raises(ValidationFailed) as exc:
        services.subject_enrol(
            actor=sec, resident=world.residents["resident"], worker=world.user("grid2_worker")
        )
    assert exc.value.field == "worker"
    with pytest.raises(PermissionDenied):
        services.subject_enrol(
            actor=world.user("grid_worker"),
            resident=world.residents["resident"],
            worker=world.user("grid_worker"),
        )
    s = services.subject_enrol(
        actor=sec, resident=world.residents["resident"], worker=world.user("grid_worker")
    )
    assert s.tier == "alone" and s.next_due_at is not None
    with pytest.raises(Conflict):
        services.subject_enrol(
            actor=sec, resident=world.residents["resident"], worker=world.user("grid_worker")
        )
    assert CareSubject.objects.count() == 1


def test_family_contact_needs_consent(care: Care) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.contact_add(
            actor=care.world.user("grid_worker"),
            subject=care.subject,
            name="张小红",
            relation="女儿",
            phone="13900002222",
            consent=False,
            consent_channel="in_person",
        )
    assert exc.value.field == "consent"
    assert FamilyContact.objects.count() == 1
    audit = AuditEvent.objects.filter(action="care.contact_added").last()
    assert audit is not None and "13900001111" not in str(audit.payload)


def test_visit_by_own_grid_worker(care: Care) -> None:
    before = care.subject.next_due_at
    v = services.visit_record(
        actor=care.world.user("grid_worker"),
        subject=care.subject,
        present=True,
        checklist=["spirit", "meals"],
        needs="需要助餐服务",
    )
    assert v.visitor == care.world.user("grid_worker") and v.channel == "self"
    care.subject.refresh_from_db()
    assert care.subject.last_visit_at == v.visited_at and care.subject.next_due_at != before


def test_visit_outside_the_workers_grid_refused(care: Care) -> None:
    for who in ("grid2_worker", "other_grid_worker", "neighbour", "street_officer"):
        with pytest.raises(PermissionDenied):
            services.visit_record(actor=care.world.user(who), subject=care.subject, present=True)
    assert Visit.objects.count() == 0


def test_visit_recorded_for_the_grid_worker_names_the_channel(care: Care) -> None:
    with pytest.raises(ValidationFailed):
        services.visit_record(actor=care.world.user("worker"), subject=care.subject, present=True)
    v = services.visit_record(
        actor=care.world.user("worker"),
        subject=care.subject,
        present=False,
        checklist=["meals"],
        channel="phone",
    )
    assert v.visitor == care.world.user("grid_worker") and v.recorded_by == care.world.user(
        "worker"
    )
    assert v.checklist == []  # nobody was seen
    # An absent visit does not meet the plan.
    care.subject.refresh_from_db()
    assert care.subject.last_visit_at is None


def test_visit_bad_input(care: Care) -> None:
    gw = care.world.user("grid_worker")
    now = timezone.now()
    for kw in (
        {"checklist": ["bogus"]},
        {"visited_at": now + timedelta(hours=1)},
        {"visited_at": now - timedelta(days=8)},
        {"needs": "长" * 301},
        {"kind": "drone"},
    ):
        with pytest.raises(ValidationFailed):
            services.visit_record(actor=gw, subject=care.subject, present=True, **kw)
    assert Visit.objects.count() == 0


def test_visit_idempotency_key(care: Care) -> None:
    gw = care.world.user("grid_worker")
    a = services.visit_record(actor=gw, subject=care.subject, present=True, idempotency_key="k-1")
    b = services.visit_record(actor=gw, subject=care.subject, present=True, idempotency_key="k-1")
    assert a.pk == b.pk and Visit.objects.count() == 1


def test_need_becomes_a_request_in_one_tap(care: Care) -> None:
    from linli.requests.catalog import ensure_categories

    ensure_categories()
    gw = care.world.user("grid_worker")
    v = services.visit_record(
        actor=gw, subject=care.subject, present=True, needs="卫生间需要安装扶手"
    )
    v = services.visit_to_request(actor=gw, visit=v)
    assert v.request is not None and v.request.channel == "visit"
    assert v.request.reporter_resident_id == care.subject.resident_id
    with pytest.raises(Conflict):
        services.visit_to_request(actor=gw, visit=Visit.objects.get(pk=v.pk))


def test_need_becomes_a_time_bank_service(care: Care) -> None:
    from linli.ledger import services as ledger

    sec = care.world.user("secretary")
    v = services.visit_record(
        actor=care.world.user("grid_worker"), subject=care.subject, present=True, needs="陪同就医"
    )
    with pytest.raises(PermissionDenied):
        services.visit_to_timebank(actor=care.world.user("grid_worker"), visit=v)
    with pytest.raises(ValidationFailed):  # the time-bank rule is not on yet
        services.visit_to_timebank(actor=sec, visit=v)
    ledger.rule_save(actor=sec, community=care.world.community, kind="timebank_service", amount=60)
    v = services.visit_to_timebank(actor=sec, visit=Visit.objects.get(pk=v.pk))
    assert v.activity is not None and v.activity.earn_kind == "timebank_service"


def test_away_status_rules(care: Care) -> None:
    now = timezone.now()
    with pytest.raises(ValidationFailed):
        services.away_set(
            actor=care.world.user("resident"), subject=care.subject, until=now - timedelta(hours=1)
        )
    with pytest.raises(ValidationFailed):
        services.away_set(
            actor=care.world.user("resident"), subject=care.subject, until=now + timedelta(days=400)
        )
    with pytest.raises(PermissionDenied):
        services.away_set(
            actor=care.world.user("neighbour"), subject=care.subject, until=now + timedelta(days=1)
        )
    services.away_set(
        actor=care.world.user("resident"),
        subject=care.subject,
        until=now + timedelta(days=2),
        reason="住院",
    )
    assert CareSubject.objects.get(pk=care.subject.pk).away_reason == "住院"
    services.away_set(
        actor=care.world.user("grid_worker"), subject=care.subject, until=None, channel="phone"
    )
    assert CareSubject.objects.get(pk=care.subject.pk).away_until is None


def test_overdue_escalates_to_the_community_once(
    care: Care, django_capture_on_commit_callbacks: Any
) -> None:
    s = care.subject
    assert s.next_due_at is not None
    due = s.next_due_at
    late = due + timedelta(days=4)
    assert selectors.due_state(s, now=due + timedelta(hours=1)) == "overdue"
    tasks = selectors.tasks_for(care.world.user("grid_worker"), now=due + timedelta(hours=1))
    assert [x.pk for x in tasks.overdue] == [s.pk]
    care.world.user("secretary").phone = "13700000000"
    care.world.user("secretary").save()
    MemorySender.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_visits(now=late) == 1
    assert services.sweep_visits(now=late + timedelta(hours=1)) == 0
    assert [m.to for m in MemorySender.outbox] == ["13700000000"]
    tasks = selectors.tasks_for(care.world.user("secretary"), now=late)
    assert [x.pk for x in tasks.escalated] == [s.pk]


def test_major_event_makes_high_risk_due_within_24_hours(care: Care) -> None:
    sec = care.world.user("secretary")
    services.subject_update(
        actor=sec, subject=care.subject, tier="high", worker=care.world.user("grid_worker")
    )
    now = timezone.now()
    services.event_declare(actor=sec, community=care.world.community, title="台风蓝色预警", now=now)
    care.subject.refresh_from_db()
    assert care.subject.next_due_at == now + timedelta(hours=24)
    with pytest.raises(PermissionDenied):
        services.event_declare(
            actor=care.world.user("grid_worker"), community=care.world.community, title="x"
        )


def test_rule_overrides_validated(care: Care) -> None:
    with pytest.raises(ValidationFailed):
        services.subject_update(
            actor=care.world.user("secretary"),
            subject=care.subject,
            tier="alone",
            worker=care.world.user("grid_worker"),
            overrides={"no_water_hours": 1},
        )


def test_major_event_declared_twice_is_one_event(care: Care) -> None:
    from linli.care.models import MajorEvent

    sec = care.world.user("secretary")
    a = services.event_declare(actor=sec, community=care.world.community, title="高温红色预警")
    b = services.event_declare(actor=sec, community=care.world.community, title="高温红色预警")
    assert a.pk == b.pk and MajorEvent.objects.count() == 1
