"""Fixtures for the 红黑榜 tests: the shared world's street gets a second community
and two more companies, so one street has three (company, community) pairs:

* 阳光社区 1幢 → 甲物业 (the ``property`` user's company), 2幢 → 丁物业;
* 和睦社区 3幢 → 丙物业.

Requests are hand-made rows (the data the scores are computed from), dated inside
the quarter under test; inspections go through the service with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.communities.models import Building, Organisation, OrgUnit
from linli.communities.services import orgunit_create
from linli.propertyco import services
from linli.propertyco.models import Criteria, Inspection
from linli.propertyco.quarters import Quarter, frozen
from linli.requests.models import Category, ServiceRequest

# A day well after 2026Q3 ended (the quarters under test are 2026Q1–Q3).
TODAY = date(2026, 11, 20)


@dataclass
class PC:
    w: Any
    community2: OrgUnit
    building3: Building
    jia: Organisation  # 甲物业 (world.property_company)
    ding: Organisation  # 丁物业
    bing: Organisation  # 丙物业
    category: Category
    criteria: Criteria

    def user(self, key: str) -> Any:
        return self.w.user(key)

    @property
    def street(self) -> OrgUnit:
        return self.w.street


@pytest.fixture
def today() -> Iterator[date]:
    with frozen(TODAY):
        yield TODAY


@pytest.fixture
def pc(world: Any, today: date) -> PC:
    community2 = orgunit_create(kind="community", name="和睦社区", code="t-c3", parent=world.street)
    grid3 = orgunit_create(kind="grid", name="第1网格", code="t-g9", parent=community2)
    ding = Organisation.objects.create(kind="property", name="丁物业", scope=world.district)
    bing = Organisation.objects.create(kind="property", name="丙物业", scope=world.district)
    Building.objects.filter(pk=world.building2.pk).update(property_company=ding)
    world.building2.refresh_from_db()
    b3 = Building.objects.create(
        community=community2, grid=grid3, name="3幢", property_company=bing
    )
    cat = Category.objects.create(code="pc-property", name="物业服务", responsible_kind="property")
    criteria = services.criteria_publish(
        actor=world.user("platform_admin"),
        weights={"rating": 30, "survey": 30, "ontime": 15, "resolution": 15, "inspection": 10},
        min_sample=3,
    )
    return PC(world, community2, b3, world.property_company, ding, bing, cat, criteria)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def make_request(
    pc: PC,
    *,
    community: OrgUnit,
    company: Organisation | None,
    day: date,
    status: str = "closed",
    rating: int | None = None,
    on_time: bool | None = None,
    assignee_only: bool = False,
) -> ServiceRequest:
    return ServiceRequest.objects.create(
        community=community,
        category=pc.category,
        description="楼道灯不亮",
        channel="app",
        created_at=at(day),
        status=status,
        owner_org=None if assignee_only else company,
        assignee_org=company,
        rating=rating,
        resolved_on_time=on_time,
        reject_reason="不属于物业职责" if status == "rejected" else "",
        reporter_name="张三",
        reporter_phone="13812341234",
    )


def inspect(
    pc: PC, building: Building, day: date, passed: int, total: int, note: str = ""
) -> Inspection:
    items = [{"item": f"项目{i + 1}", "passed": i < passed} for i in range(total)]
    return services.inspection_record(
        actor=pc.user("secretary")
        if building.community_id == pc.w.community.pk
        else pc.user("street_officer"),
        building=building,
        inspected_on=day,
        items=items,
        note=note,
    )


def seed_level(pc: PC, quarter: Quarter, levels: dict[str, int], n: int = 4) -> None:
    """For each pair ("jia", "ding", "bing") ``n`` requests in ``quarter`` rated
    ``level``, closed, on time when level ≥ 4, and one inspection passing ``level``
    of 5 items."""
    pairs = {
        "jia": (pc.w.community, pc.jia, pc.w.building),
        "ding": (pc.w.community, pc.ding, pc.w.building2),
        "bing": (pc.community2, pc.bing, pc.building3),
    }
    day = quarter.first_day + timedelta(days=10)
    for key, level in levels.items():
        community, company, building = pairs[key]
        for _i in range(n):
            make_request(
                pc,
                community=community,
                company=company,
                day=day,
                rating=level,
                on_time=level >= 4,
            )
        inspect(pc, building, day, passed=level, total=5)


def compute_publish(pc: PC, quarter: Quarter | str, actor: str = "street_officer") -> Any:
    board = services.board_compute(actor=pc.user(actor), street=pc.street, quarter=quarter)
    return board, services.board_publish(actor=pc.user(actor), board=board)
