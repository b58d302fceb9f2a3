"""Statement budgets for the hot writes, measured through the real HTTP call (bearer
token auth included) and counted on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linli.accounts.services import api_token_issue
from linli.requests.models import ServiceRequest

# Transactional: the service's own transaction is the outermost one, as in production
# (inside a test transaction it would be a SAVEPOINT/RELEASE pair the server never runs);
# callbacks on commit (notifications) run and are counted.
pytestmark = pytest.mark.django_db(transaction=True)

SUBMIT_BUDGET = 8
ACCEPT_BUDGET = 10


def _bearer(user: Any) -> dict[str, str]:
    _tok, key = api_token_issue(user=user, name="budget")
    return {"Authorization": f"Bearer {key}"}


def _show(ctx: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"][:300] for q in ctx.captured_queries)


def _submit(c: Client, auth: dict[str, str], building_id: int) -> Any:
    return c.post(
        "/api/v1/requests/",
        json.dumps(
            {
                "category": "fac-light",
                "description": "1幢楼道灯坏了，晚上很黑",
                "building_id": building_id,
            }
        ),
        content_type="application/json",
        headers=auth,
    )


def test_api_submit_budget_with_bearer_token(world: Any, cats: Any) -> None:
    auth = _bearer(world.user("resident"))
    c = Client()
    # A fresh process: the first call warms the per-process caches (calendar, categories).
    assert _submit(c, auth, world.building.pk).status_code == 201
    c = Client()
    with CaptureQueriesContext(connection) as ctx:
        r = _submit(c, auth, world.building.pk)
    assert r.status_code == 201, r.content
    out = r.json()
    req = ServiceRequest.objects.get(pk=out["id"])
    assert out["status"] == "submitted" and out["category"] == "fac-light"
    assert out["created_at"] is not None and req.reporter_id == world.user("resident").pk
    print("submit statements:", len(ctx.captured_queries))
    assert len(ctx.captured_queries) <= SUBMIT_BUDGET, _show(ctx)


def test_api_accept_budget_with_bearer_token(world: Any, cats: Any, submit: Any) -> None:
    req = submit()
    auth = _bearer(world.user("property"))
    c = Client()
    assert c.get("/api/v1/requests/mine", headers=auth).status_code == 200  # token used once
    with CaptureQueriesContext(connection) as ctx:
        r = c.post(
            f"/api/v1/requests/{req.pk}/accept",
            json.dumps({"note": "马上派人"}),
            content_type="application/json",
            headers=auth,
        )
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "accepted" and out["owner"] == "甲物业"
    assert out["reporter_name"] == "张三"  # staff see who reported it
    req.refresh_from_db()
    assert req.status == "accepted" and req.accepted_at is not None
    print("accept statements:", len(ctx.captured_queries))
    assert len(ctx.captured_queries) <= ACCEPT_BUDGET, _show(ctx)


def test_api_dispatch_budget_with_bearer_token(world: Any, cats: Any, submit: Any) -> None:
    from linli.requests.services import request_accept

    req = submit()
    request_accept(actor=world.user("grid_worker"), request=req)
    auth = _bearer(world.user("grid_worker"))
    c = Client()
    assert c.get("/api/v1/requests/mine", headers=auth).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        r = c.post(
            f"/api/v1/requests/{req.pk}/dispatch",
            json.dumps({"target": f"org:{world.department.pk}"}),
            content_type="application/json",
            headers=auth,
        )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "dispatched" and r.json()["assignee"] == world.department.name
    print("dispatch statements:", len(ctx.captured_queries))
    assert len(ctx.captured_queries) <= ACCEPT_BUDGET, _show(ctx)
