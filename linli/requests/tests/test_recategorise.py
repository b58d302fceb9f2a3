"""改类: staff change an open request's category with a reason; the change is on the
timeline (where the assessment's integrity page finds it) and in the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.requests import services as svc
from linli.requests.models import EventKind, RequestEvent, ServiceRequest
from linli.requests.tests.conftest import MONDAY


def test_recategorise_records_event_and_audit(world: Any, submit: Any) -> None:
    req = submit()
    out = svc.request_recategorise(
        actor=world.user("secretary"),
        request=req,
        category_code="env-clutter",
        reason="实为楼道堆物",
        now=MONDAY,
    )
    assert out.category.code == "env-clutter"
    assert ServiceRequest.objects.get(pk=req.pk).category.code == "env-clutter"
    ev = RequestEvent.objects.get(request=req, kind=EventKind.RECATEGORISED)
    assert "实为楼道堆物" in ev.note and ev.actor_id == world.user("secretary").pk
    audit = AuditEvent.objects.get(action="requests.recategorise")
    assert audit.payload == {"from": "fac-light", "to": "env-clutter", "reason": "实为楼道堆物"}


@pytest.mark.parametrize(
    ("who", "code", "reason", "error"),
    [
        ("resident", "env-clutter", "不对", PermissionDenied),
        ("property", "env-clutter", "不对", PermissionDenied),
        ("secretary", "env-clutter", "", ValidationFailed),
        ("secretary", "fac-light", "同一类", ValidationFailed),
        ("secretary", "facility", "大类不行", ValidationFailed),
        ("secretary", "no-such", "不存在", ValidationFailed),
    ],
)
def test_recategorise_refusals_change_nothing(
    world: Any, submit: Any, who: str, code: str, reason: str, error: type[Exception]
) -> None:
    req = submit()
    with pytest.raises(error):
        svc.request_recategorise(
            actor=world.user(who), request=req, category_code=code, reason=reason
        )
    assert ServiceRequest.objects.get(pk=req.pk).category.code == "fac-light"
    assert not RequestEvent.objects.filter(kind=EventKind.RECATEGORISED).exists()
    assert not AuditEvent.objects.filter(action="requests.recategorise").exists()


def test_closed_request_cannot_be_recategorised(world: Any, submit: Any) -> None:
    req = submit()
    svc.request_reject(actor=world.user("secretary"), request=req, reason="重复反映", now=MONDAY)
    with pytest.raises(InvalidTransition):
        svc.request_recategorise(
            actor=world.user("secretary"), request=req, category_code="env-clutter", reason="改"
        )


def test_recategorise_on_staff_page(client: Any, world: Any, submit: Any) -> None:
    req = submit()
    client.force_login(world.user("grid_worker"))
    page = client.get(f"/requests/desk/{req.pk}/")
    assert 'name="category"' in page.content.decode()
    r = client.post(
        f"/requests/desk/{req.pk}/recategorise/", {"category": "env-clutter", "reason": "堆物"}
    )
    assert r.status_code == 302
    assert ServiceRequest.objects.get(pk=req.pk).category.code == "env-clutter"


def test_recategorise_statement_budget(world: Any, submit: Any) -> None:
    """Lock, re-check, one UPDATE, the timeline row and the audit event: a handful of
    statements, not one per category in the tree."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    req = submit()
    secretary = world.user("secretary")
    with CaptureQueriesContext(connection) as q:
        svc.request_recategorise(
            actor=secretary, request=req, category_code="env-clutter", reason="堆物", now=MONDAY
        )
    assert len(q.captured_queries) <= 10, [x["sql"][:70] for x in q.captured_queries]
