"""The demo street generator (deterministic for a given seed; scales for benchmarks).

``seed_demo`` builds the tenancy tree, roster and staff, then calls ``seed(ctx)`` in
every ``linli.<app>.demo`` module, so each capability adds its own demo records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from linli.accounts.models import Membership, Role, User
from linli.communities.models import (
    Building,
    Household,
    Organisation,
    OrgUnit,
    Resident,
    SpecialGroup,
)
from linli.core.models import CalendarDay

DEMO_PASSWORD = "linli2026"  # noqa: S105 - printed demo credential, demo database only
SURNAMES = (  # noqa: E501 - a data line
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (  # noqa: E501 - a data line
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华志强淑珍凤英文海燕丹晨阳欣怡子涵浩然宇轩梓萱一诺思远佳琪雨桐俊杰晓东春梅国庆卫东秋菊德福"
)
MAIN_COMMUNITY = "阳光社区"
# 2026 public holidays and make-up working days (State Council notice, Nov 2025).
HOLIDAYS_2026 = {
    "2026-01-01": "元旦",
    "2026-01-02": "元旦",
    "2026-01-03": "元旦",
    "2026-02-15": "春节",
    "2026-02-16": "春节",
    "2026-02-17": "春节",
    "2026-02-18": "春节",
    "2026-02-19": "春节",
    "2026-02-20": "春节",
    "2026-02-21": "春节",
    "2026-02-22": "春节",
    "2026-02-23": "春节",
    "2026-04-04": "清明节",
    "2026-04-05": "清明节",
    "2026-04-06": "清明节",
    "2026-05-01": "劳动节",
    "2026-05-02": "劳动节",
    "2026-05-03": "劳动节",
    "2026-05-04": "劳动节",
    "2026-05-05": "劳动节",
    "2026-06-19": "端午节",
    "2026-06-20": "端午节",
    "2026-06-21": "端午节",
    "2026-09-25": "中秋节",
    "2026-09-26": "中秋节",
    "2026-09-27": "中秋节",
    "2026-10-01": "国庆节",
    "2026-10-02": "国庆节",
    "2026-10-03": "国庆节",
    "2026-10-04": "国庆节",
    "2026-10-05": "国庆节",
    "2026-10-06": "国庆节",
    "2026-10-07": "国庆节",
}
WORKDAYS_2026 = {
    "2026-01-04": "元旦调休",
    "2026-02-14": "春节调休",
    "2026-02-28": "春节调休",
    "2026-05-09": "劳动节调休",
    "2026-09-20": "国庆节调休",
    "2026-10-10": "国庆节调休",
}


@dataclass
class DemoContext:
    rng: random.Random
    seed: int
    city: OrgUnit
    district: OrgUnit
    streets: list[OrgUnit]
    communities: list[OrgUnit]
    main: OrgUnit  # 阳光社区
    users: dict[str, User] = field(default_factory=dict)  # role -> demo login
    organisations: dict[str, Organisation] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role label, login, note)
    extra: dict[str, Any] = field(default_factory=dict)

    def add_login(self, label: str, login: str, note: str = "") -> None:
        self.logins.append((label, login, note))


def _id_number(rng: random.Random, birth_year: int, female: bool) -> str:
    from linli.communities.roster import ID_CHECK, ID_WEIGHTS

    month, day, seq = rng.randint(1, 12), rng.randint(1, 28), rng.randint(10, 99)
    body = f"330105{birth_year:04d}{month:02d}{day:02d}{seq:02d}"
    body += str(rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9]))
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def _unit(kind: str, name: str, code: str, parent: OrgUnit | None) -> OrgUnit:
    u = OrgUnit.objects.create(kind=kind, name=name, code=code, parent=parent, path="")
    u.path = f"{parent.path if parent else '/'}{u.pk}/"
    OrgUnit.objects.filter(pk=u.pk).update(path=u.path)
    return u


def build_street(*, seed: int = 2026, households: int = 1900, this_year: int = 2026) -> DemoContext:
    """Create the tree and roster. The first community is 阳光社区 with up to 1 200
    households; the rest are split into communities of about 1 200 households each."""
    rng = random.Random(seed)
    for d, n in HOLIDAYS_2026.items():
        CalendarDay.objects.get_or_create(date=d, defaults={"kind": "holiday", "name": n})
    for d, n in WORKDAYS_2026.items():
        CalendarDay.objects.get_or_create(date=d, defaults={"kind": "workday", "name": n})
    city = _unit("city", "杭州市", "demo-330100", None)
    district = _unit("district", "拱墅区", "demo-330105", city)
    sizes = [min(1200, households)]
    rest = households - sizes[0]
    if rest > 0 and households <= 5000:
        sizes += [rest * 2 // 3, rest - rest * 2 // 3]
    else:
        while rest > 0:
            sizes.append(min(1200, rest))
            rest -= sizes[-1]
    names = [MAIN_COMMUNITY, "和睦社区", "新风社区"] + [
        f"第{i}社区" for i in range(4, len(sizes) + 1)
    ]
    streets: list[OrgUnit] = []
    communities: list[OrgUnit] = []
    for ci in range(len(sizes)):
        if ci % 20 == 0:
            sname = "和睦街道" if ci == 0 else f"和睦街道{ci // 20 + 1}"
            streets.append(_unit("street", sname, f"demo-st-{ci // 20 + 1}", district))
        communities.append(_unit("community", names[ci], f"demo-c{ci + 1}", streets[-1]))
    ctx = DemoContext(rng, seed, city, district, streets, communities, communities[0])
    prop = Organisation.objects.create(kind="property", name="绿城物业服务有限公司", scope=district)
    prop2 = Organisation.objects.create(
        kind="property", name="和家物业管理有限公司", scope=district
    )
    prop.communities.set(communities[: max(1, len(communities) // 2 + 1)])
    prop2.communities.set(communities[len(communities) // 2 + 1 :])
    ctx.organisations["property"] = prop
    ctx.organisations["property2"] = prop2
    for spec, name in [
        ("城管", "拱墅区城市管理局"),
        ("交通", "拱墅区交通运输局"),
        ("民政", "拱墅区民政局"),
        ("住建", "拱墅区住房和城乡建设局"),
        ("市场监管", "拱墅区市场监督管理局"),
    ]:
        ctx.organisations[spec] = Organisation.objects.create(
            kind="department", name=name, specialty=spec, scope=district
        )
    ctx.organisations["social_org"] = Organisation.objects.create(
        kind="social_org", name="阳光邻里互助社", scope=streets[0]
    )
    ctx.organisations["enterprise"] = Organisation.objects.create(
        kind="enterprise", name="和睦超市", scope=streets[0]
    )
    for ci, (community, n_households) in enumerate(zip(communities, sizes, strict=True)):
        _populate_community(
            ctx,
            community,
            n_households,
            ci,
            this_year,
            prop if ci <= len(communities) // 2 else prop2,
        )
    return ctx


def _populate_community(
    ctx: DemoContext,
    community: OrgUnit,
    households: int,
    ci: int,
    this_year: int,
    prop: Organisation,
) -> None:
    rng = ctx.rng
    per_building = 24  # 6 floors × 2 units × 2 rooms
    n_buildings = max(1, -(-households // per_building))
    n_grids = max(1, -(-households // 300))
    grids = [
        _unit("grid", f"第{g + 1}网格", f"{community.code}-g{g + 1}", community)
        for g in range(n_grids)
    ]
    base_lat, base_lng = (
        Decimal("30.3200") + Decimal(ci) / 100,
        Decimal("120.1400") + Decimal(ci) / 100,
    )
    buildings = []
    for b in range(n_buildings):
        grid = grids[b * n_grids // n_buildings]
        buildings.append(
            Building(
                community=community,
                grid=grid,
                name=f"{b + 1}幢",
                address=f"{community.name}{b + 1}幢",
                floors=6,
                lat=base_lat + Decimal(b % 10) * Decimal("0.0006"),
                lng=base_lng + Decimal(b // 10) * Decimal("0.0006"),
                property_company=prop,
            )
        )
    Building.objects.bulk_create(buildings, batch_size=2000)
    buildings = list(Building.objects.filter(community=community).order_by("id"))
    hh: list[Household] = []
    for i in range(households):
        bld = buildings[i // per_building]
        k = i % per_building
        floor, unit, room = k // 4 + 1, (k % 4) // 2 + 1, k % 2 + 1
        hh.append(
            Household(
                community=community,
                building=bld,
                unit=str(unit),
                room=f"{floor}0{room}",
                area_m2=Decimal(rng.randint(4500, 14000)) / 100,
                tenure="owner" if rng.random() < 0.8 else "tenant",
            )
        )
    Household.objects.bulk_create(hh, batch_size=5000)
    hh = list(
        Household.objects.filter(community=community).select_related("building").order_by("id")
    )
    residents: list[Resident] = []
    phone_base = 13000000000 + ci * 100000
    n = 0
    for h in hh:
        size = rng.choices([1, 2, 3, 4, 5], weights=[12, 30, 30, 20, 8])[0]
        for m in range(size):
            n += 1
            female = rng.random() < 0.5
            if m == 0:
                by = rng.randint(1940, 1995)
            elif m == 1:
                by = rng.randint(1940, 1998)
            else:
                by = rng.randint(1960, 2022)
            age = this_year - by
            tags: list[str] = []
            if size == 1 and age >= 65:
                tags.append(SpecialGroup.LIVING_ALONE)
            elif age >= 65 and size == 2 and rng.random() < 0.4:
                tags.append(SpecialGroup.EMPTY_NEST)
            if rng.random() < 0.03:
                tags.append(SpecialGroup.DISABLED)
            if rng.random() < 0.02:
                tags.append(SpecialGroup.LOW_INCOME)
            if age >= 60 and rng.random() < 0.15:
                tags.append(SpecialGroup.CHRONIC)
            tier = rng.choices(
                ["representative", "liaison", "active", "none"], weights=[2, 3, 15, 80]
            )[0]
            residents.append(
                Resident(
                    community=community,
                    grid_id=h.building.grid_id,
                    household=h,
                    name=rng.choice(SURNAMES)
                    + rng.choice(GIVEN)
                    + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
                    gender="f" if female else "m",
                    birth_year=by,
                    relation="head" if m == 0 else ("spouse" if m == 1 else "child"),
                    phone=str(phone_base + n) if age >= 14 else "",
                    id_number=_id_number(rng, by, female),
                    tags=sorted(tags),
                    tier=tier if age >= 18 else "none",
                )
            )
    Resident.objects.bulk_create(residents, batch_size=5000)


STAFF = [
    # (role, username, display name, unit: "main"/"grid"/"street", org key)
    (Role.BUILDING_LIAISON, "liaison", "楼栋长 周建华", "main", None),
    (Role.GRID_WORKER, "grid1", "网格员 陈晓东", "grid", None),
    (Role.COMMUNITY_WORKER, "worker", "社工 林欣怡", "main", None),
    (Role.SECRETARY, "secretary", "书记 王淑珍", "main", None),
    (Role.STREET_OFFICER, "street", "街道 张国庆", "street", None),
    (Role.DEPARTMENT_HANDLER, "chengguan", "城管 刘强", "district", "城管"),
    (Role.PROPERTY_STAFF, "property", "物业 赵磊", "main", "property"),
    (Role.SOCIAL_ORG, "socialorg", "社会组织 孙丽", "street", "social_org"),
    (Role.SUPERVISOR, "supervisor", "监督员 黄德福", "main", None),
    (Role.PLATFORM_ADMIN, "admin", "平台管理员", "city", None),
]


def create_people(ctx: DemoContext) -> None:
    """Demo logins for every role, and accounts for some residents of 阳光社区."""
    pw = make_password(DEMO_PASSWORD)
    main = ctx.main
    first_grid = OrgUnit.objects.filter(parent=main, kind="grid").order_by("id").first()
    assert first_grid is not None
    first_building = Building.objects.filter(grid=first_grid).order_by("id").first()
    # The demo resident: head of a household in the first grid, owner, has a phone.
    resident = (
        Resident.objects.filter(grid=first_grid, relation="head", household__tenure="owner")
        .exclude(phone="")
        .order_by("id")
        .first()
    )
    assert resident is not None
    u = User.objects.create(
        username="resident", phone=resident.phone, display_name=resident.name, password=pw
    )
    Resident.objects.filter(pk=resident.pk).update(user=u)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=main)
    ctx.users[Role.RESIDENT] = u
    ctx.add_login(str(Role.RESIDENT.label), resident.phone, f"{resident.name}，{main.name}")
    units = {
        "main": main,
        "grid": first_grid,
        "street": ctx.streets[0],
        "district": ctx.district,
        "city": ctx.city,
    }
    for role, username, display, unit_key, org_key in STAFF:
        user = User.objects.create(
            username=username,
            display_name=display,
            password=pw,
            is_staff=role == Role.PLATFORM_ADMIN,
            is_superuser=role == Role.PLATFORM_ADMIN,
        )
        Membership.objects.create(
            user=user,
            role=role,
            unit=units[unit_key],
            organisation=ctx.organisations.get(org_key) if org_key else None,
            building=first_building if role == Role.BUILDING_LIAISON else None,
        )
        ctx.users[role] = user
        ctx.add_login(str(Role(role).label), username, display)
    # Residents of 阳光社区 with accounts (registered on the platform), for voting and points.
    others = list(
        Resident.objects.filter(community=main, user__isnull=True, birth_year__lte=2008)
        .exclude(phone="")
        .order_by("id")[:400]
    )
    new_users = [
        User(username=f"r{r.pk}", phone=r.phone, display_name=r.name, password=pw) for r in others
    ]
    User.objects.bulk_create(new_users, batch_size=500)
    by_phone = {x.phone: x for x in User.objects.filter(phone__in=[r.phone for r in others])}
    for r in others:
        r.user = by_phone[r.phone]
    Resident.objects.bulk_update(others, ["user"], batch_size=500)
    Membership.objects.bulk_create(
        [Membership(user=by_phone[r.phone], role=Role.RESIDENT, unit=main) for r in others],
        batch_size=500,
    )
    ctx.extra["resident_user_count"] = len(others) + 1


@transaction.atomic
def load(*, seed: int = 2026, households: int = 1900) -> DemoContext:
    ctx = build_street(seed=seed, households=households)
    create_people(ctx)
    return ctx
