"""Statement budget of the one hot create (recording an inspection) and of the public
board read: counted statements, not time (speed is for bench/)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.scope import scope_of
from linli.propertyco import services
from linli.propertyco.tests.conftest import PC

ITEMS = [{"item": "楼道保洁", "passed": True}, {"item": "电梯运行", "passed": False}]


def test_inspection_record_statements(pc: PC) -> None:
    user: Any = pc.user("secretary")
    scope_of(user)  # the request's scope is read once by the middleware/page anyway
    with CaptureQueriesContext(connection) as ctx:
        services.inspection_record(
            actor=user,
            building=pc.w.building,
            inspected_on=date(2026, 11, 3),
            items=ITEMS,
            idempotency_key="budget-1",
        )
    # the communities under the roles (once per request), street of the community,
    # published-quarter check, INSERT … RETURNING, audit INSERT
    # (+ SAVEPOINT/RELEASE or BEGIN/COMMIT of the atomic block on some backends).
    writes = [q["sql"] for q in ctx.captured_queries]
    real = [
        s for s in writes if not s.upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    assert len(real) <= 5, real
