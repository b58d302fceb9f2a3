"""Role × state permission matrix for requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linli.core.errors import NotFound, PermissionDenied
from linli.requests import services as svc
from linli.requests.models import Status
from linli.requests.permissions import can_handle, can_manage, can_view, can_view_reporter
from linli.requests.selectors import QueueFilters, request_queue_for
from linli.requests.tests.conftest import MONDAY

pytestmark = pytest.mark.django_db

# A light fault in building 1 (grid 1), routed to 甲物业. (view, see reporter, handle, manage)
MATRIX = {
    "resident": (True, False, False, False),  # the reporter sees their own, without staff view
    "neighbour": (True, False, False, False),  # same community: public view
    "stranger": (False, False, False, False),
    "liaison": (False, False, False, False),
    "grid_worker": (True, True, True, True),
    "grid2_worker": (False, False, False, False),  # grid worker of another grid
    "other_grid_worker": (False, False, False, False),
    "worker": (True, True, True, True),
    "secretary": (True, True, True, True),
    "other_secretary": (False, False, False, False),
    "street_officer": (True, True, True, True),
    "other_street_officer": (False, False, False, False),
    "department": (False, False, False, False),  # not (yet) involved
    "property": (True, True, True, False),
    "other_property": (False, False, False, False),  # staff of another company
    "supervisor": (True, True, False, False),
    "social_org": (False, False, False, False),
    "platform_admin": (True, True, True, True),
}


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_matrix_submitted(world: Any, submit: Any, key: str) -> None:
    req = submit()
    u = world.user(key)
    got = (can_view(u, req), can_view_reporter(u, req), can_handle(u, req), can_manage(u, req))
    assert got == MATRIX[key]
    in_queue = request_queue_for(viewer=u, filters=QueueFilters()).filter(pk=req.pk).exists()
    assert in_queue == (MATRIX[key][1] and key not in ("resident", "neighbour"))


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_accept_by_role(world: Any, submit: Any, key: str) -> None:
    req = submit()
    view, _rep, handle, _man = MATRIX[key]
    if handle:
        svc.request_accept(actor=world.user(key), request=req, now=MONDAY)
        req.refresh_from_db()
        assert req.status == "accepted"
    else:
        with pytest.raises(PermissionDenied if view else NotFound):
            svc.request_accept(actor=world.user(key), request=req, now=MONDAY)


def test_department_after_whistle_and_first_acceptor(world: Any, submit: Any) -> None:
    req = submit("env-clutter")
    dept = world.user("department")
    assert not can_view(dept, req)
    svc.request_accept(actor=world.user("grid_worker"), request=req, now=MONDAY)
    req = svc.request_dispatch(
        actor=world.user("grid_worker"),
        request=req,
        target=f"org:{world.department.pk}",
        now=MONDAY,
    )
    assert can_handle(dept, req) and not can_manage(dept, req)
    # 首接负责制: the grid stays accountable; the department cannot reject.
    assert req.owner_unit_id == world.grid.pk
    with pytest.raises(PermissionDenied):
        svc.request_reject(actor=dept, request=req, reason="不归我们管")


@pytest.mark.parametrize("status_path", ["submitted", "resolved"])
@pytest.mark.parametrize("key", ["resident", "neighbour", "stranger", "secretary"])
def test_resident_actions_by_role(world: Any, submit: Any, key: str, status_path: str) -> None:
    req = submit()
    if status_path == "resolved":
        p = world.user("property")
        svc.request_accept(actor=p, request=req, now=MONDAY)
        svc.request_resolve(actor=p, request=req, resolution="已修复", now=MONDAY)
    u = world.user(key)
    later = MONDAY + timedelta(hours=30)
    if key == "resident":
        if status_path == "resolved":
            svc.request_rate(actor=u, request=req, rating=5, now=later)
        else:
            svc.request_urge(actor=u, request=req, now=later)
        return
    expected = NotFound if key == "stranger" else PermissionDenied
    with pytest.raises(expected):
        if status_path == "resolved":
            svc.request_rate(actor=u, request=req, rating=5, now=later)
        else:
            svc.request_urge(actor=u, request=req, now=later)


# ---------------------------------------------------------------- role × state, from the machine

# Who each kind of actor in the machine's table is, among the world's roles (from the
# matrix above: handle / manage columns; the reporter is "resident").
HANDLERS = {k for k, v in MATRIX.items() if v[2]}
MANAGERS = {k for k, v in MATRIX.items() if v[3]}
WHO = {
    "accept": HANDLERS,
    "dispatch": HANDLERS,
    "start": HANDLERS,
    "resolve": HANDLERS,
    "reject": MANAGERS,
    "merge": MANAGERS,
    "close": {"resident"},
    "reopen": {"resident"},
}
ROLES = ["resident", "neighbour", "stranger", "grid_worker", "property", "secretary", "supervisor"]


def test_who_covers_every_action() -> None:
    from linli.requests.states import machine

    assert set(WHO) == set(machine.table)


@pytest.mark.parametrize("status", sorted(Status.values))
@pytest.mark.parametrize("key", ROLES)
def test_role_by_state_matrix_from_the_machine(
    world: Any, submit: Any, key: str, status: str
) -> None:
    """For every role and state, the machine's flags are exactly "state allows it and
    the role is who may", and the service accepts exactly what the flags offer."""
    from linli.core.errors import DomainError
    from linli.requests.models import ServiceRequest
    from linli.requests.states import flags, machine

    req = submit()
    other = submit("env-clutter", "2幢楼道堆满纸箱", user="neighbour", building=world.building2)
    ServiceRequest.objects.filter(pk=req.pk).update(
        status=status,
        resolved_at=MONDAY + timedelta(hours=1),
        reject_reason="测试理由" if status == Status.REJECTED else "",
        merged_into=other if status == Status.MERGED else None,
    )
    req = ServiceRequest.objects.select_related("community", "grid").get(pk=req.pk)
    u = world.user(key)
    now = MONDAY + timedelta(hours=2)
    with machine_clock(now):
        can = flags(u, req)
    for action in sorted(machine.table):
        expected = machine.allowed(action, status) and key in WHO[action]
        assert can[f"can_{action}"] == expected, (action, status, key)
    # The service agrees with the flags (one action per case keeps this fast: the
    # first the role may do here, else the first the state allows).
    offered = [a for a in sorted(machine.table) if can[f"can_{a}"]]
    refused = [a for a in sorted(machine.table) if not can[f"can_{a}"]]
    for action in offered[:1]:
        _run(action, world, u, req, other, now)
        assert ServiceRequest.objects.get(pk=req.pk).status == machine[action].target
    for action in refused[:1]:
        before = ServiceRequest.objects.get(pk=req.pk).status
        with pytest.raises(DomainError):
            _run(action, world, u, ServiceRequest.objects.get(pk=req.pk), other, now)
        assert ServiceRequest.objects.get(pk=req.pk).status == before


def machine_clock(now: Any) -> Any:
    from linli.requests.states import at

    return at(now)


def _run(action: str, world: Any, u: Any, req: Any, other: Any, now: Any) -> None:
    calls = {
        "accept": lambda: svc.request_accept(actor=u, request=req, now=now),
        "dispatch": lambda: svc.request_dispatch(
            actor=u, request=req, target=f"org:{world.department.pk}", now=now
        ),
        "start": lambda: svc.request_start(actor=u, request=req, now=now),
        "resolve": lambda: svc.request_resolve(actor=u, request=req, resolution="已修复", now=now),
        "reject": lambda: svc.request_reject(actor=u, request=req, reason="不属于范围", now=now),
        "close": lambda: svc.request_rate(actor=u, request=req, rating=5, now=now),
        "reopen": lambda: svc.request_reopen(actor=u, request=req, reason="又坏了", now=now),
        "merge": lambda: svc.request_merge(actor=u, request=req, into=other, now=now),
    }
    calls[action]()
