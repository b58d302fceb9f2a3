"""Role × state permission matrix for requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linli.core.errors import NotFound, PermissionDenied
from linli.requests import services as svc
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
