"""Fixtures for the resource pool: a pinned clock, resources listed through the
services, points for deposits, a third community in the same street."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.communities.models import Building
from linli.communities.services import orgunit_create
from linli.core.calendar import LOCAL_TZ
from linli.ledger import services as ledger
from linli.ledger.models import AccountKind, Currency, TxKind
from linli.resources import clock, services
from linli.resources.services import ResourceSpec

# Wednesday 2 December 2026, 08:00 in Beijing.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=LOCAL_TZ)
ALL_DAY = {wd: [(time(8, 0), time(21, 0))] for wd in range(7)}


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=LOCAL_TZ)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def move(self, to: datetime) -> None:
        self.now = to


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr(clock, "now", c)
    yield c


def spec(**kw: Any) -> ResourceSpec:
    base: dict[str, Any] = {
        "kind": "equipment",
        "name": "人字梯（2米）",
        "location": "社区服务站",
        "max_minutes": 240,
        "hours": ALL_DAY,
    }
    base.update(kw)
    return ResourceSpec(**base)


@pytest.fixture
def make_resource(world: Any) -> Callable[..., Any]:
    def make(**kw: Any) -> Any:
        community = kw.pop("community", world.community)
        actor = kw.pop("actor", world.user("secretary"))
        owner = {k: kw.pop(k) for k in ("owner_kind", "owner_org", "owner_resident") if k in kw}
        return services.resource_create(actor=actor, community=community, spec=spec(**kw), **owner)

    return make


@pytest.fixture
def ladder(make_resource: Callable[..., Any], fixed_clock: Clock) -> Any:
    return make_resource()


def give_points(resident: Any, n: int) -> None:
    """Credit ``n`` points from the issuer (as an earning would) for deposit tests."""
    with transaction.atomic():
        issuer = ledger.system_account(resident.community_id, Currency.POINTS, AccountKind.ISSUER)
        acc = ledger.resident_account(resident, Currency.POINTS)
        ledger.transaction_post(
            actor=None,
            community_id=resident.community_id,
            currency=Currency.POINTS,
            kind=TxKind.EARN,
            legs=[ledger.Leg(issuer.pk, -n), ledger.Leg(acc.pk, n)],
            idempotency_key=f"test-points:{resident.pk}:{n}:{acc.balance}",
            rhash="x",
        )


def balance(resident: Any) -> int:
    return int(ledger.resident_account(resident, Currency.POINTS).balance)


@pytest.fixture
def street_peer(world: Any) -> Any:
    """A third community in the same street as 阳光社区, with one resident."""
    c = orgunit_create(kind="community", name="明月社区", code="t-c3", parent=world.street)
    g = orgunit_create(kind="grid", name="第1网格", code="t-g9", parent=c)
    b = Building.objects.create(community=c, grid=g, name="5幢")
    u = make_user("peer")
    r = make_resident(make_household(b, "501"), "赵六", user=u)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=c)
    return r


def png(name: str = "p.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


TOMORROW = NOW.date() + timedelta(days=1)
