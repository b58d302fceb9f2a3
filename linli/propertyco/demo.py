"""Demo 红黑榜 for 和睦街道: five (company, community) pairs over the last four ended
quarters, computed and published through the services.

* 绿城物业 keeps 阳光社区 and 和睦社区 as the core demo has them; two more companies
  take some buildings — 安居物业 half of 和睦社区, 恒信物业 half of 新风社区;
* each quarter's requests handled by the companies are a history import (rows dated
  inside the quarter, with ratings and on-time flags); inspections are recorded by
  the street officer through the service;
* 安居物业 is black-listed once (not registered); 恒信物业 is black-listed in the two
  latest quarters in 新风社区, so it goes on the city-wide register, and its staff
  (login ``hengxin``) has filed an appeal that awaits the street officer's decision.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from linli.accounts.models import Membership, Role, User
from linli.communities.models import Building, Organisation
from linli.core import ratelimit
from linli.core.demo import DEMO_PASSWORD, DemoContext
from linli.propertyco import services
from linli.propertyco.quarters import Quarter, last_ended, today
from linli.requests.catalog import ensure_categories
from linli.requests.models import Category, ServiceRequest

# Level (≈ the residents' mean rating) per pair, oldest quarter first.
LEVELS: dict[str, list[int]] = {
    "lvcheng_main": [4, 4, 5, 4],
    "lvcheng_hemu": [4, 3, 4, 4],
    "anju_hemu": [4, 1, 4, 3],
    "hejia_xinfeng": [5, 4, 4, 5],
    "hengxin_xinfeng": [4, 2, 1, 1],
}
CATEGORIES = ["fac-light", "fac-elevator", "fac-water", "env-garbage", "ho-leak", "gr-tree"]
CHECKLIST = ["楼道保洁", "垃圾清运", "绿化养护", "电梯运行", "消防通道畅通"]


def _at(day: Any, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def _history(
    pairs: dict[str, tuple[Any, Organisation, list[Building]]],
    quarters: list[Quarter],
    categories: list[Category],
) -> None:
    rows: list[ServiceRequest] = []
    for key, (community, company, buildings) in pairs.items():
        for qi, q in enumerate(quarters):
            level = LEVELS[key][qi]
            for n in range(16):
                day = q.first_day + timedelta(days=3 + n * 5)
                created = _at(day, 9 + n % 8)
                rating = None if n % 8 == 7 else max(1, min(5, level + (0, 0, 1, -1)[n % 4]))
                on_time = level >= 4 or (level == 3 and n % 2 == 0)
                resolved = created + timedelta(days=2 if on_time else 9)
                status = "closed" if level > 1 or n % 4 else "in_progress"
                rows.append(
                    ServiceRequest(
                        community=community,
                        grid_id=buildings[n % len(buildings)].grid_id,
                        building=buildings[n % len(buildings)],
                        category=categories[n % len(categories)],
                        description="（历史导入）物业维修诉求",
                        channel="hotline" if n % 3 else "app",
                        created_at=created,
                        status=status,
                        owner_org=company,
                        assignee_org=company,
                        responded_at=created + timedelta(hours=3),
                        responded_on_time=True,
                        resolved_at=resolved if status == "closed" else None,
                        closed_at=resolved + timedelta(days=1) if status == "closed" else None,
                        resolved_on_time=on_time if status == "closed" else None,
                        rating=rating if status == "closed" else None,
                        rated_at=resolved + timedelta(days=1)
                        if status == "closed" and rating
                        else None,
                        due_state="ok",
                    )
                )
    ServiceRequest.objects.bulk_create(rows, batch_size=500)


def seed(ctx: DemoContext) -> None:
    street = ctx.streets[0]
    communities = [c for c in ctx.communities if c.parent_id == street.pk]
    if len(communities) < 3:
        return  # a tiny demo street: nothing meaningful to rank
    main, hemu, xinfeng = communities[:3]
    officer = ctx.users[Role.STREET_OFFICER]
    admin = ctx.users[Role.PLATFORM_ADMIN]
    lvcheng = ctx.organisations["property"]
    hejia = ctx.organisations["property2"]
    anju = Organisation.objects.create(
        kind="property", name="安居物业服务有限公司", scope=ctx.district
    )
    hengxin = Organisation.objects.create(
        kind="property", name="恒信物业管理有限公司", scope=ctx.district
    )
    anju.communities.set([hemu])
    hengxin.communities.set([xinfeng])

    def split(community: Any, company: Organisation) -> tuple[list[Building], list[Building]]:
        bs = list(Building.objects.filter(community=community).order_by("id"))
        half = [b.pk for b in bs[len(bs) // 2 :]]
        Building.objects.filter(pk__in=half).update(property_company=company)
        # Read back: the inspections take the company from the building row.
        bs = list(Building.objects.filter(community=community).order_by("id"))
        return [b for b in bs if b.pk not in half] or bs, [b for b in bs if b.pk in half] or bs

    hemu_old, hemu_anju = split(hemu, anju)
    xin_old, xin_hengxin = split(xinfeng, hengxin)
    main_bs = list(Building.objects.filter(community=main).order_by("id")[:20])
    pairs = {
        "lvcheng_main": (main, lvcheng, main_bs),
        "lvcheng_hemu": (hemu, lvcheng, hemu_old),
        "anju_hemu": (hemu, anju, hemu_anju),
        "hejia_xinfeng": (xinfeng, hejia, xin_old),
        "hengxin_xinfeng": (xinfeng, hengxin, xin_hengxin),
    }
    ensure_categories()
    cats = list(Category.objects.filter(code__in=CATEGORIES).order_by("code"))
    quarters = list(reversed(last_ended(today(), count=4)))
    _history(pairs, quarters, cats)

    with ratelimit.suspended():
        services.criteria_publish(
            actor=admin,
            weights={"rating": 30, "survey": 30, "ontime": 15, "resolution": 15, "inspection": 10},
            min_sample=10,
            note="居民评价（诉求评价、满意度测评）占 60%，社区检查与诉求办理占 40%。",
        )
        for qi, q in enumerate(quarters):
            for key, (_c, _co, buildings) in pairs.items():
                level = LEVELS[key][qi]
                for k in range(2):
                    services.inspection_record(
                        actor=officer,
                        building=buildings[k % len(buildings)],
                        inspected_on=q.first_day + timedelta(days=20 + 30 * k),
                        items=[
                            {"item": item, "passed": i < level} for i, item in enumerate(CHECKLIST)
                        ],
                        note="" if level >= 3 else "楼道堆物未清、垃圾清运不及时，已要求限期整改。",
                        idempotency_key=f"demo-pc-{key}-{q}-{k}",
                    )
            board = services.board_compute(actor=officer, street=street, quarter=q)
            services.board_publish(actor=officer, board=board)

        # 恒信物业's staff and their appeal.
        staff = User.objects.create(
            username="hengxin",
            display_name="恒信物业 钱经理",
            password=make_password(DEMO_PASSWORD),
        )
        Membership.objects.create(
            user=staff, role=Role.PROPERTY_STAFF, unit=xinfeng, organisation=hengxin
        )
        from linli.propertyco.models import RegisterEntry

        entry = RegisterEntry.objects.filter(company=hengxin).first()
        if entry is not None:
            services.entry_appeal(
                actor=staff,
                entry=entry,
                reason="第三季度两部电梯更换主板期间停运，系厂家供货延误所致，维修记录已提交街道。",
            )
    logins(ctx)


def logins(ctx: DemoContext) -> None:
    ctx.add_login(str(Role.PROPERTY_STAFF.label), "hengxin", "恒信物业 钱经理（不良名录申诉）")
