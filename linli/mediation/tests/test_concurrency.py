"""Real threads against PostgreSQL: simultaneous closes, one-step conversions of the
same request and double-posted sessions each take effect once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from linli.core.errors import DomainError
from linli.core.models import AuditEvent
from linli.mediation import services
from linli.mediation.models import Case, Session

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pg_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks and concurrent transactions need PostgreSQL (SQLite serialises all writers)"
        )


def together(n: int, fn: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``fn(i)`` in ``n`` threads released at the same moment."""
    results: list[Any] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            gate.wait()
            results.append(fn(i))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_simultaneous_closes_close_once(mw: Any) -> None:
    case_id = mw.case.pk
    users = [
        mw.user("grid_worker"),
        mw.user("worker"),
        mw.user("secretary"),
        mw.user("grid_worker"),
    ]

    def close(i: int) -> Any:
        case = Case.objects.get(pk=case_id)
        return services.case_close(actor=users[i], case=case, outcome="withdrawn", note=f"撤回{i}")

    results, errors = together(4, close)
    assert len(results) == 1 and len(errors) == 3
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert AuditEvent.objects.filter(action="mediation.case.close").count() == 1


def test_same_request_becomes_one_case(world: Any) -> None:
    from linli.requests.catalog import ensure_categories
    from linli.requests.models import Category, ServiceRequest
    from linli.requests.services import request_submit

    ensure_categories()
    req = request_submit(
        actor=world.user("resident"),
        category=Category.objects.get(code="di-noise"),
        description="楼上深夜跳绳，咚咚响。",
        building=world.building,
    )

    def convert(i: int) -> Any:
        r = ServiceRequest.objects.select_related("category__parent", "community").get(pk=req.pk)
        return services.case_from_request(actor=world.user("worker"), request=r)

    results, errors = together(3, convert)
    assert len(results) == 1, (results, errors)
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert Case.objects.filter(source_request=req).count() == 1


def test_double_posted_session_records_once(mw: Any) -> None:
    case_id = mw.case.pk

    def post(i: int) -> Any:
        return services.session_record(
            actor=mw.user("grid_worker"),
            case=Case.objects.get(pk=case_id),
            held_at=timezone.now(),
            location="调解室",
            attendees="双方",
            notes="同一次调解，点了两下保存。",
            idempotency_key="dbl-1",
        )

    results, errors = together(2, post)
    assert Session.objects.filter(case_id=case_id).count() == 1
    # The loser either got the first row back or was told it is already saved.
    assert len(results) + len(errors) == 2
    assert all(isinstance(e, DomainError) for e in errors), errors
