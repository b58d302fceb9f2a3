"""Ready to partition by community (Citus, distribution column ``community_id``).

1. Every tenant table carries ``community_id``; the few global/reference tables are
   listed here with the reason they are not distributed.
2. The hot paths (request submit, staff queue, vote cast, ledger transfer, request
   metrics) are run for real and every SQL statement they send is inspected: one that
   touches a tenant table must filter by ``community_id`` (or, for an INSERT, write it).
   Without that filter Citus would have to ask every worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

# Tables replicated to every node (Citus reference tables) or not tenant data at all.
GLOBAL_TABLES: dict[str, str] = {
    "core.AuditCheckpoint": "seals id ranges of the whole log; tiny, one row a minute",
    "core.CalendarDay": "working-day calendar: reference table",
    "core.DemoSeed": "bookkeeping of the demo loader",
    "accounts.User": "a person may belong to several communities (staff across a street)",
    "accounts.Membership": "a role on any org unit, also above the community (street, district)",
    "accounts.ApiToken": "belongs to a user, resolved before the tenant is known",
    "accounts.PasswordResetCode": "belongs to a user (by phone), used before anyone is signed in",
    "communities.OrgUnit": "the org tree itself: reference table",
    "communities.Organisation": "property companies and departments serve many communities",
    "communities.PrivacySetting": "a person's own settings, keyed by user",
    "requests.Category": "category tree: reference table",
}


def _app_global_tables() -> dict[str, str]:
    """Newer apps list their own global tables in ``linli/<app>/tenancy.py``
    (``GLOBAL_TABLES = {"app.Model": "reason"}``), so apps written side by side never
    edit this file together."""
    from importlib import import_module

    found: dict[str, str] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("linli."):
            continue
        try:
            module = import_module(f"{config.name}.tenancy")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.tenancy":
                continue
            raise
        found.update(module.GLOBAL_TABLES)
    return found


GLOBAL_TABLES.update(_app_global_tables())


def _concrete_linli_models() -> list[Any]:
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("linli.") and not m._meta.proxy and m._meta.managed
    ]


def test_every_tenant_table_carries_community_id() -> None:
    missing = []
    for model in _concrete_linli_models():
        if model._meta.label in GLOBAL_TABLES:
            continue
        columns = {getattr(f, "column", None) for f in model._meta.concrete_fields}
        if "community_id" not in columns:
            missing.append(model._meta.label)
    assert missing == [], f"tenant tables without community_id: {missing}"


def test_global_list_names_real_models() -> None:
    labels = {m._meta.label for m in _concrete_linli_models()}
    assert set(GLOBAL_TABLES) <= labels


# --------------------------------------------------------------------------- SQL check


def tenant_tables() -> set[str]:
    return {
        m._meta.db_table
        for m in _concrete_linli_models()
        if m._meta.label not in GLOBAL_TABLES and m._meta.db_table != "core_auditevent"
    }


_TABLE = re.compile(r'(?:FROM|JOIN|UPDATE|INTO)\s+"?([a-z_0-9]+)"?', re.IGNORECASE)
# Resolving who the viewer is happens before the tenant is known: the account's resident
# row found by its user id (the account → person link), once per request, alone or joined
# to the token/session lookup. On Citus this one lookup goes to a small reference table
# (user → community, resident) — see the README's scale-out plan.
_IDENTITY = re.compile(r'"communities_resident"\."user_id"')


def violations(sqls: Iterable[str]) -> list[str]:
    tenant = tenant_tables()
    bad: list[str] = []
    for sql in sqls:
        head = sql.lstrip().upper()
        if head.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET ")):
            continue
        touched = {t for t in _TABLE.findall(sql) if t in tenant}
        if not touched or _IDENTITY.search(sql):
            continue
        if head.startswith("INSERT"):
            ok = "community_id" in sql.split("VALUES")[0]
        else:
            where = re.split(r"\bWHERE\b", sql, maxsplit=1, flags=re.IGNORECASE)
            ok = len(where) == 2 and "community_id" in where[1]
        if not ok:
            bad.append(sql)
    return bad


def assert_tenant_filtered(run: Callable[[], Any]) -> Any:
    with CaptureQueriesContext(connection) as ctx:
        result = run()
    bad = violations(q["sql"] for q in ctx.captured_queries)
    assert bad == [], "queries without a community_id filter:\n" + "\n".join(bad)
    return result


def test_checker_catches_an_unfiltered_query() -> None:
    assert violations(['SELECT * FROM "voting_vote" WHERE "voting_vote"."id" = 5']) != []
    assert violations(['SELECT * FROM "requests_category" WHERE "id" = 5']) == []
    assert (
        violations(['SELECT * FROM "voting_vote" WHERE ("voting_vote"."community_id" = 1)']) == []
    )
    assert violations(['INSERT INTO "voting_vote" ("ballot_id") VALUES (1)']) != []
    assert (
        violations(['INSERT INTO "voting_vote" ("ballot_id", "community_id") VALUES (1, 2)']) == []
    )


# --------------------------------------------------------------------------- hot paths


@pytest.fixture
def cats(db: Any) -> Any:
    from linli.requests.catalog import ensure_categories

    ensure_categories()


def _bearer(user: Any) -> dict[str, str]:
    from linli.accounts.services import api_token_issue

    _tok, key = api_token_issue(user=user, name="tenancy")
    return {"Authorization": f"Bearer {key}"}


def _api_submit(world: Any) -> Any:
    import json

    from django.test import Client

    auth = _bearer(world.user("resident"))
    body = json.dumps(
        {
            "category": "fac-light",
            "description": "1幢楼道灯坏了，晚上很黑",
            "building_id": world.building.pk,
        }
    )
    c = Client()
    assert (
        c.post("/api/v1/requests/", body, content_type="application/json", headers=auth).status_code
        == 201
    )

    def run() -> Any:
        r = Client().post("/api/v1/requests/", body, content_type="application/json", headers=auth)
        assert r.status_code == 201, r.content
        return r

    return run


def test_request_submit_filters_by_community(world: Any, cats: Any) -> None:
    assert_tenant_filtered(_api_submit(world))


def test_staff_queue_filters_by_community(world: Any, cats: Any) -> None:
    from django.test import Client

    submit = _api_submit(world)
    for _ in range(3):
        submit()
    c = Client()
    c.force_login(world.user("worker"))
    c.get("/requests/desk/")  # warm the session and per-process caches

    def run() -> Any:
        r = c.get("/requests/desk/")
        assert r.status_code == 200 and "楼道灯" in r.content.decode()
        return r

    with CaptureQueriesContext(connection) as ctx:
        run()
    # The page's own data: requests and their children. Login/session/scope lookups
    # happen before the tenant is known and are not tenant tables.
    bad = violations(q["sql"] for q in ctx.captured_queries)
    assert bad == [], "\n".join(bad)


def test_request_metrics_filters_by_community(world: Any, cats: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from linli.accounts.scope import scope_of
    from linli.requests.selectors import request_metrics

    _api_submit(world)()
    viewer = world.user("secretary")
    scope_of(viewer)
    now = timezone.now()
    m = assert_tenant_filtered(
        lambda: request_metrics(
            viewer=viewer,
            community=world.community,
            start=now - timedelta(days=30),
            end=now + timedelta(hours=1),
        )
    )
    assert m.total >= 1


def test_vote_cast_filters_by_community(world: Any) -> None:
    from linli.accounts.scope import scope_of
    from linli.voting.services import vote_cast
    from linli.voting.tests.conftest import make_ballot

    ballot = make_ballot(world)
    user = world.user("resident")
    scope_of(user)
    result = assert_tenant_filtered(
        lambda: vote_cast(actor=user, ballot=ballot, choices=[0], idempotency_key="t-1")
    )
    assert result.vote.community_id == ballot.community_id


def test_ledger_transfer_filters_by_community(world: Any) -> None:
    from conftest import make_resident, make_user
    from linli.accounts.models import Membership, Role
    from linli.accounts.scope import scope_of
    from linli.ledger import services
    from linli.ledger.models import EarnKind

    services.rule_save(
        actor=world.user("secretary"),
        community=world.community,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=0,
        recipient_must_confirm=True,
    )
    r = world.residents["resident"]
    u = make_user("spouse")
    family = make_resident(r.household, "张三妻", user=u, birth_year=1950)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    services.award(
        actor=world.user("worker"),
        resident=r,
        kind=EarnKind.TIMEBANK_SERVICE,
        amount=300,
        idempotency_key="h1",
    )
    user = world.user("resident")
    scope_of(user)
    services.hours_transfer(actor=user, sender=r, receiver=family, minutes=30, idempotency_key="t0")
    tx = assert_tenant_filtered(
        lambda: services.hours_transfer(
            actor=user, sender=r, receiver=family, minutes=60, idempotency_key="t1"
        )
    )
    assert tx.community_id == world.community.pk


pytestmark = pytest.mark.django_db
