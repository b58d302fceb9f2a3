"""Shared fixtures: a small tenancy tree and users of every role, built through the
same code paths as the demo (no mocks)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from linli.accounts.models import Membership, Role, User
from linli.communities.models import Building, Household, Organisation, OrgUnit, Resident
from linli.communities.services import orgunit_create


@dataclass
class World:
    city: OrgUnit
    district: OrgUnit
    street: OrgUnit
    other_street: OrgUnit
    community: OrgUnit
    other_community: OrgUnit
    grid: OrgUnit
    grid2: OrgUnit
    other_grid: OrgUnit
    building: Building
    building2: Building
    other_building: Building
    property_company: Organisation
    other_property: Organisation
    department: Organisation
    users: dict[str, User] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)

    def user(self, key: str) -> User:
        return self.users[key]


# Every user the ``world`` fixture makes, in order: each Role at least once, some twice
# (another unit). Role × state matrices parametrize over it; the fixture checks it.
WORLD_USERS = (
    "resident",
    "neighbour",
    "stranger",
    "liaison",
    "grid_worker",
    "grid2_worker",
    "other_grid_worker",
    "worker",
    "secretary",
    "other_secretary",
    "street_officer",
    "other_street_officer",
    "department",
    "property",
    "other_property",
    "social_org",
    "supervisor",
    "platform_admin",
)

_counter = {"n": 0}


def make_user(username: str, **kw: Any) -> User:
    user = User(username=username, display_name=kw.pop("display_name", username), **kw)
    user.set_password("pw-Linli-2026")
    user.save()
    return user


def make_household(
    building: Building, room: str, *, area: str = "80.00", tenure: str = "owner"
) -> Household:
    return Household.objects.create(
        community_id=building.community_id,
        building=building,
        unit="1",
        room=room,
        area_m2=Decimal(area),
        tenure=tenure,
    )


def make_resident(
    household: Household,
    name: str,
    *,
    birth_year: int = 1980,
    user: User | None = None,
    phone: str = "",
    tags: list[str] | None = None,
    **kw: Any,
) -> Resident:
    _counter["n"] += 1
    return Resident.objects.create(
        community_id=household.community_id,
        grid_id=household.building.grid_id,
        household=household,
        name=name,
        birth_year=birth_year,
        user=user,
        phone=phone or f"139{_counter['n']:08d}",
        tags=tags or [],
        **kw,
    )


@pytest.fixture(autouse=True)
def _reset_language() -> Iterator[None]:
    """A test-client request in English (cookie, ?lang=en, Accept-Language) leaves
    LocaleMiddleware's activation on this thread, so later tests in the same worker
    would build their Chinese strings (notice titles, messages) in English."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_caches() -> None:
    """Each test starts with empty rate-limit counters (Django's cache) and fresh
    per-process category and working-calendar caches."""
    from django.core.cache import cache

    from linli.core import calendar
    from linli.requests import catalog

    cache.clear()
    for module in (catalog, calendar):
        clear = getattr(module, "clear_cache", None)
        if clear is not None:
            clear()


@pytest.fixture
def world(db: Any) -> World:
    city = orgunit_create(kind="city", name="测试市", code="t-city")
    district = orgunit_create(kind="district", name="测试区", code="t-d", parent=city)
    street = orgunit_create(kind="street", name="一街道", code="t-s1", parent=district)
    other_street = orgunit_create(kind="street", name="二街道", code="t-s2", parent=district)
    community = orgunit_create(kind="community", name="阳光社区", code="t-c1", parent=street)
    other_community = orgunit_create(
        kind="community", name="远方社区", code="t-c2", parent=other_street
    )
    grid = orgunit_create(kind="grid", name="第1网格", code="t-g1", parent=community)
    grid2 = orgunit_create(kind="grid", name="第2网格", code="t-g2", parent=community)
    other_grid = orgunit_create(kind="grid", name="第1网格", code="t-g3", parent=other_community)
    prop = Organisation.objects.create(kind="property", name="甲物业", scope=district)
    prop.communities.set([community])
    other_prop = Organisation.objects.create(kind="property", name="乙物业", scope=district)
    other_prop.communities.set([other_community])
    dept = Organisation.objects.create(
        kind="department", name="城管局", specialty="城管", scope=district
    )
    b1 = Building.objects.create(
        community=community,
        grid=grid,
        name="1幢",
        property_company=prop,
        lat=Decimal("30.300000"),
        lng=Decimal("120.100000"),
    )
    b2 = Building.objects.create(
        community=community,
        grid=grid2,
        name="2幢",
        property_company=prop,
        lat=Decimal("30.301000"),
        lng=Decimal("120.101000"),
    )
    ob = Building.objects.create(
        community=other_community, grid=other_grid, name="9幢", property_company=other_prop
    )
    w = World(
        city,
        district,
        street,
        other_street,
        community,
        other_community,
        grid,
        grid2,
        other_grid,
        b1,
        b2,
        ob,
        prop,
        other_prop,
        dept,
    )
    h1 = make_household(b1, "101")
    h2 = make_household(b2, "201", tenure="tenant")
    h3 = make_household(ob, "901")
    for key in ["resident", "neighbour", "stranger"]:
        w.users[key] = make_user(key)
    w.residents["resident"] = make_resident(
        h1,
        "张三",
        user=w.users["resident"],
        phone="13812341234",
        id_number="11010519491231002X",
        tags=["disabled", "living_alone"],
    )
    w.residents["neighbour"] = make_resident(h2, "李四", user=w.users["neighbour"])
    w.residents["stranger"] = make_resident(h3, "王五", user=w.users["stranger"])
    for key in ["resident", "neighbour"]:
        Membership.objects.create(user=w.users[key], role=Role.RESIDENT, unit=community)
    Membership.objects.create(user=w.users["stranger"], role=Role.RESIDENT, unit=other_community)
    staff = [
        ("liaison", Role.BUILDING_LIAISON, community, None, b1),
        ("grid_worker", Role.GRID_WORKER, grid, None, None),
        ("grid2_worker", Role.GRID_WORKER, grid2, None, None),
        ("other_grid_worker", Role.GRID_WORKER, other_grid, None, None),
        ("worker", Role.COMMUNITY_WORKER, community, None, None),
        ("secretary", Role.SECRETARY, community, None, None),
        ("other_secretary", Role.SECRETARY, other_community, None, None),
        ("street_officer", Role.STREET_OFFICER, street, None, None),
        ("other_street_officer", Role.STREET_OFFICER, other_street, None, None),
        ("department", Role.DEPARTMENT_HANDLER, district, dept, None),
        ("property", Role.PROPERTY_STAFF, community, prop, None),
        ("other_property", Role.PROPERTY_STAFF, other_community, other_prop, None),
        ("social_org", Role.SOCIAL_ORG, street, None, None),
        ("supervisor", Role.SUPERVISOR, community, None, None),
    ]
    social = Organisation.objects.create(kind="social_org", name="互助社", scope=street)
    for key, role, unit, org, building in staff:
        u = make_user(key)
        Membership.objects.create(
            user=u,
            role=role,
            unit=unit,
            organisation=org or (social if role == Role.SOCIAL_ORG else None),
            building=building,
        )
        w.users[key] = u
    admin = make_user("platform_admin", is_superuser=True, is_staff=True)
    w.users["platform_admin"] = admin
    assert tuple(w.users) == WORLD_USERS, "update WORLD_USERS with the world's users"
    return w


# Append-only guards (audit log, ledger entries) as the migrations created them, read
# once from the SQLite schema, so they can be dropped for a flush and put back.
_SQLITE_GUARDS: dict[str, str] = {}


def _sqlite_guards(cur: Any) -> dict[str, str]:
    if not _SQLITE_GUARDS:
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND (name LIKE '%_no_update' OR name LIKE '%_no_delete')"
        )
        _SQLITE_GUARDS.update(dict(cur.fetchall()))
    return _SQLITE_GUARDS


@pytest.fixture(autouse=True)
def _audit_log_flushable(request: pytest.FixtureRequest) -> Any:
    """Let transactional tests (live_server, threads) clean up on SQLite.

    Django empties tables after such a test with DELETE, which the append-only triggers
    (audit log, ledger entries) refuse. PostgreSQL uses TRUNCATE, which row triggers do
    not see. So on SQLite the triggers are (re)created before every test and dropped
    just before the flush.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    uses_db = marker is not None or bool(
        {"db", "transactional_db", "live_server", "world"} & set(request.fixturenames)
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up after (so torn down before) the db
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            guards = _sqlite_guards(cur)
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {r[0] for r in cur.fetchall()}
            for name, sql in guards.items():
                if name not in present:
                    cur.execute(sql)
    yield
    if transactional and connection.vendor == "sqlite":
        with connection.cursor() as cur:
            for name in _SQLITE_GUARDS:
                cur.execute(f'DROP TRIGGER IF EXISTS "{name}"')


CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Playwright driver and one Debian chromium per test process, shared by every
    browser test: a second sync_playwright() while one is open fails. No browser
    download — without chromium the browser tests are skipped with this reason."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(
            f"chromium not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
        )
    # live_server runs in a thread while Playwright's sync API keeps an event loop in
    # this one; Django's async-safety check would otherwise refuse the ORM here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session", autouse=True)
def _end_stray_postgres_sessions(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Threads of live_server and of the concurrency tests can leave a connection
    open; end them before pytest-django drops the test database (else: "database is
    being accessed by other users")."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A 360 px phone page, Chinese, without JavaScript: every step must work with plain
    forms (``linli.core.tests.browser``)."""
    from linli.core.tests.browser import phone

    with phone(chromium) as p:
        yield p
