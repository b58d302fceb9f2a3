"""The transition table, exhaustively: every action from every status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.audit import verify_all
from linli.core.errors import DomainError, InvalidTransition
from linli.core.models import AuditEvent
from linli.requests import services as svc
from linli.requests.models import OPEN_STATUSES, ServiceRequest, Status
from linli.requests.states import TRANSITIONS, actions_from, allowed, machine
from linli.requests.tests.conftest import MONDAY

pytestmark = pytest.mark.django_db

EXPECTED = {
    "accept": {"submitted", "reopened"},
    "dispatch": {"accepted", "dispatched", "in_progress", "reopened"},
    "start": {"accepted", "dispatched"},
    "resolve": {"accepted", "dispatched", "in_progress"},
    "reject": {"submitted", "accepted", "reopened"},
    "close": {"resolved"},
    "reopen": {"resolved", "closed"},
    "merge": {"submitted", "accepted", "dispatched", "in_progress", "reopened"},
}


def test_table_is_what_the_spec_says() -> None:
    assert {a: set(t.sources) for a, t in machine.table.items()} == EXPECTED
    # The older helpers are the machine's table, not a second copy.
    assert {a: (t.sources, t.target) for a, t in TRANSITIONS.items()} == {
        a: (t.sources, t.target) for a, t in machine.table.items()
    }
    assert TRANSITIONS["reject"].target == Status.REJECTED
    assert all(allowed(a, s) == machine.allowed(a, s) for a in EXPECTED for s in Status.values)
    # Nothing leaves a final state except a resident's reopen of a closed request.
    for final in (Status.REJECTED, Status.MERGED):
        assert actions_from(final) == []
    assert actions_from(Status.CLOSED) == ["reopen"]


def _call(action: str, world: Any, req: ServiceRequest, other: ServiceRequest, now: Any) -> None:
    sec = world.user("secretary")
    res = world.user("resident")
    calls = {
        "accept": lambda: svc.request_accept(actor=sec, request=req, now=now),
        "dispatch": lambda: svc.request_dispatch(
            actor=sec, request=req, target=f"org:{world.department.pk}", now=now
        ),
        "start": lambda: svc.request_start(actor=sec, request=req, now=now),
        "resolve": lambda: svc.request_resolve(
            actor=sec, request=req, resolution="已更换灯泡", now=now
        ),
        "reject": lambda: svc.request_reject(
            actor=sec, request=req, reason="不属于受理范围", now=now
        ),
        "close": lambda: svc.request_rate(actor=res, request=req, rating=5, now=now),
        "reopen": lambda: svc.request_reopen(actor=res, request=req, reason="灯又不亮了", now=now),
        "merge": lambda: svc.request_merge(actor=sec, request=req, into=other, now=now),
    }
    calls[action]()


@pytest.mark.parametrize("action", sorted(machine.table))
@pytest.mark.parametrize("status", Status.values)
def test_every_transition(action: str, status: str, world: Any, submit: Any) -> None:
    req = submit()
    # Same category (a related request): only those may be merged into.
    other = submit("fac-light", "2幢楼道灯也不亮", user="neighbour", building=world.building2)
    now = MONDAY + timedelta(hours=2)
    ServiceRequest.objects.filter(pk=req.pk).update(
        status=status,
        resolved_at=MONDAY + timedelta(hours=1),
        reject_reason="测试理由" if status == Status.REJECTED else "",
        merged_into=other if status == Status.MERGED else None,
    )
    req.refresh_from_db()
    events = AuditEvent.objects.count()
    if machine.allowed(action, status):
        _call(action, world, req, other, now)
        req.refresh_from_db()
        assert req.status == machine[action].target
        assert AuditEvent.objects.filter(action=f"requests.{action}").exists()
    else:
        with pytest.raises(InvalidTransition) as exc:
            _call(action, world, req, other, now)
        assert "不能执行" in str(exc.value.message)
        req.refresh_from_db()
        assert req.status == status
        assert AuditEvent.objects.count() == events


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(machine.table)), min_size=1, max_size=8))
def test_random_walks_follow_the_table(world: Any, submit: Any, actions: list[str]) -> None:
    cache.clear()  # each example starts with fresh rate-limit counters, as a test does
    req = submit()
    # A related open request (same category): only those may be merged into.
    other = (
        ServiceRequest.objects.filter(status__in=list(OPEN_STATUSES), category_id=req.category_id)
        .exclude(pk=req.pk)
        .first()
    )
    if other is None:
        other = submit("fac-light", "2幢楼道灯也不亮", user="neighbour", building=world.building2)
    now = MONDAY
    for action in actions:
        now += timedelta(minutes=10)
        before = ServiceRequest.objects.get(pk=req.pk).status
        try:
            _call(action, world, req, other, now)
        except DomainError:
            assert ServiceRequest.objects.get(pk=req.pk).status == before
        else:
            assert machine.allowed(action, before)
            assert ServiceRequest.objects.get(pk=req.pk).status == machine[action].target
    assert verify_all().ok
