"""Demo requests for 阳光社区: four months of history (bulk-created, like an import from
the old hotline system) plus a handful of live ones made through the services, and an
Open311 key for a demo client app."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Building, OrgUnit
from linli.core.calendar import WorkCalendar
from linli.requests import deadlines
from linli.requests.catalog import ensure_categories
from linli.requests.models import (
    Category,
    Channel,
    EventKind,
    RequestEvent,
    ServiceRequest,
    Status,
)
from linli.requests.routing import route

DEMO_OPEN311_KEY = "o311_demo_yangguang_2026"  # noqa: S105 - demo database only

TEXTS: dict[str, list[str]] = {
    "env-garbage": [
        "{b}门口垃圾桶满了两天没人清运，味道很大",
        "{b}旁边的垃圾房夏天蚊蝇很多，希望增加清运次数",
    ],
    "env-clutter": ["{b}二单元楼道堆满纸箱和旧家具，消防通道被堵", "{b}地下室入口有人长期堆放杂物"],
    "env-ads": ["{b}单元门上贴满开锁小广告，刚清理又贴上", "小区围墙上有人乱涂乱画"],
    "env-stall": ["小区东门每天傍晚有流动摊贩占道卖菜，车过不去"],
    "fac-light": ["{b}三楼楼道灯坏了，晚上很黑老人上下楼不安全", "{b}门口路灯一直不亮"],
    "fac-elevator": ["{b}电梯经常停在五楼不动，今天又困人了", "{b}电梯运行时有异响"],
    "fac-water": ["{b}一楼下水道堵塞，污水反到院子里", "{b}自来水发黄，已经两天了"],
    "fac-fitness": ["中心花园健身器材扶手断了，容易伤人", "{b}前面的休息座椅坏了"],
    "tr-parking": ["{b}前消防通道长期有车乱停", "小区门口非机动车道被汽车占用"],
    "tr-road": ["{b}前面路面塌陷一个大坑，下雨积水", "{b}旁边井盖松动，踩上去会翻"],
    "tr-ebike": ["{b}有人从三楼窗户拉电线给电动车充电", "{b}楼道里停了好几辆电动车"],
    "gr-tree": ["{b}旁边大树树枝压到电线了", "台风后{b}前的树倒了一半"],
    "gr-lawn": ["{b}前面绿地被人开垦种菜", "有人在{b}边绿化带里堆土种葱"],
    "ho-leak": ["{b}顶楼下雨天屋顶漏水，墙面发霉", "{b}外墙瓷砖有松动"],
    "ho-service": ["物业保洁最近很少打扫{b}楼道", "夜间门岗经常没人值班"],
    "ho-renovation": ["{b}有住户在露台违章搭建阳光房", "楼上装修拆了承重墙，担心安全"],
    "di-noise": ["{b}楼上每天夜里十一点后还在拖椅子", "小区广场舞音响太大声，晚上九点半还没停"],
    "di-pet": ["{b}有人遛狗不牵绳，还吓到小孩", "{b}门口经常有狗粪没人清理"],
    "di-other": ["{b}邻居在公共楼道安装摄像头对着我家门", "楼上空调外机滴水到我家阳台"],
    "sa-fire": ["{b}楼道灭火器过期了", "{b}消防栓里没有水带"],
    "sa-falling": ["{b}高层阳台花盆放在外沿，很危险", "{b}外墙有水泥块掉下来"],
    "sa-gas": ["{b}单元里闻到燃气味道"],
    "li-elderly": ["{b}独居的李奶奶好几天没出门了，请去看看", "希望社区食堂给行动不便的老人送餐"],
    "li-aid": ["想咨询低保申请需要哪些材料"],
    "li-market": ["小区门口超市卖过期牛奶", "菜场的秤不准"],
}
RESOLUTIONS = [
    "已安排人员现场处理完毕",
    "已维修并拍照留存",
    "已约谈当事人，问题已解决",
    "已清理完毕并加强巡查",
    "已联系相关部门处理完成",
]
COMMENTS = ["处理很快，谢谢", "态度很好", "还可以", "拖得有点久", "问题没有彻底解决", ""]


def seed(ctx: Any) -> None:
    ensure_categories()
    rng = ctx.rng
    main: OrgUnit = ctx.main
    cats = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
    buildings = list(
        Building.objects.filter(community=main).select_related("grid", "property_company")
    )
    residents = list(
        main.community_residents.filter(user__isnull=False).select_related("user")[:300]
    )
    cal = WorkCalendar()
    now = timezone.now()
    rows: list[ServiceRequest] = []
    creations: list[datetime] = []
    channels = [Channel.APP] * 6 + [Channel.HOTLINE] * 2 + [Channel.VISIT, Channel.BOX]
    for _i in range(360):
        code = rng.choice(list(TEXTS))
        cat = cats[code]
        b = rng.choice(buildings)
        created = now - timedelta(days=rng.uniform(0.1, 120), minutes=rng.randint(0, 600))
        r = ServiceRequest(
            community=main,
            grid=b.grid,
            building=b,
            lat=b.lat,
            lng=b.lng,
            address=b.address,
            category=cat,
            description=rng.choice(TEXTS[code]).format(b=b.name),
            channel=rng.choice(channels),
            status=Status.SUBMITTED,
        )
        reporter = rng.choice(residents) if residents else None
        if reporter is not None:
            r.reporter = reporter.user
            r.reporter_resident = reporter
            r.reporter_name, r.reporter_phone = reporter.name, reporter.phone
        target = route(category=cat, community=main, building=b, grid=b.grid)
        r.assignee_org, r.assignee_unit = target.org, target.unit
        deadlines.set_initial(r, now=created, cal=cal)
        age = now - created
        roll = rng.random()
        resp_h = rng.choice([1, 2, 3, 5, 8, 12, 20, 30])
        if age > timedelta(hours=resp_h) and roll > 0.04:
            r.accepted_at = r.responded_at = created + timedelta(hours=resp_h)
            r.responded_on_time = r.responded_at <= r.response_due  # type: ignore[operator]
            r.owner_org, r.owner_unit = r.assignee_org, r.assignee_unit
            r.status = Status.ACCEPTED
            fix_h = rng.choice([4, 10, 24, 48, 72, 120, 200])
            # Most matters get fixed; only recent ones are still open (a real backlog is
            # weeks, not months).
            if age > timedelta(hours=resp_h + fix_h) and (roll > 0.12 or age > timedelta(days=21)):
                r.resolved_at = r.accepted_at + timedelta(hours=fix_h)
                r.resolved_on_time = r.resolved_at <= r.feedback_due  # type: ignore[operator]
                r.cycle_seconds = int((r.resolved_at - created).total_seconds())
                r.resolution = rng.choice(RESOLUTIONS)
                r.status = Status.RESOLVED
                if now - r.resolved_at > timedelta(days=1) and rng.random() < 0.85:
                    r.status = Status.CLOSED
                    r.closed_at = r.resolved_at + timedelta(days=1)
                    if rng.random() < 0.75:
                        r.rating = rng.choices([5, 4, 3, 2, 1], weights=[50, 28, 12, 6, 4])[0]
                        r.rating_comment = rng.choice(COMMENTS)
                        r.rated_at = r.closed_at
            elif roll < 0.5:
                r.status = Status.IN_PROGRESS
        elif roll < 0.04 and age > timedelta(hours=2):
            r.status = Status.REJECTED
            r.reject_reason = "不属于社区受理范围，已告知居民拨打 12345"
            r.responded_at = r.closed_at = created + timedelta(hours=2)
            r.responded_on_time = True
        deadlines.refresh(r, now=now)
        rows.append(r)
        creations.append(created)
    # The historical submission times are written by the INSERT itself.
    for r, c in zip(rows, creations, strict=True):
        r.created_at = c
    ServiceRequest.objects.bulk_create(rows, batch_size=500)
    created_map: dict[int, datetime] = {r.pk: c for r, c in zip(rows, creations, strict=True)}
    events: list[RequestEvent] = []
    for r in rows:
        created = created_map[r.pk]
        events.append(
            RequestEvent(
                request=r,
                community_id=r.community_id,
                at=created,
                kind=EventKind.SUBMITTED,
                to_status=Status.SUBMITTED,
                note=f"已派至{r.assignee_label}",
            )
        )
        if r.accepted_at:
            events.append(
                RequestEvent(
                    request=r,
                    community_id=r.community_id,
                    at=r.accepted_at,
                    kind=EventKind.TRANSITION,
                    from_status=Status.SUBMITTED,
                    to_status=Status.ACCEPTED,
                )
            )
        if r.resolved_at:
            events.append(
                RequestEvent(
                    request=r,
                    community_id=r.community_id,
                    at=r.resolved_at,
                    kind=EventKind.TRANSITION,
                    from_status=Status.ACCEPTED,
                    to_status=Status.RESOLVED,
                    note=r.resolution,
                )
            )
        if r.status == Status.REJECTED:
            events.append(
                RequestEvent(
                    request=r,
                    community_id=r.community_id,
                    at=r.closed_at or created,
                    kind=EventKind.TRANSITION,
                    from_status=Status.SUBMITTED,
                    to_status=Status.REJECTED,
                    note=r.reject_reason,
                )
            )
        if r.rating:
            events.append(
                RequestEvent(
                    request=r,
                    community_id=r.community_id,
                    at=r.rated_at or created,
                    kind=EventKind.RATED,
                    note=f"{r.rating}★ {r.rating_comment}".strip(),
                )
            )
    RequestEvent.objects.bulk_create(events, batch_size=1000)
    # Mark overdue/escalated items as the sweep would have.
    from linli.requests.services import open311_client_issue, sweep_deadlines

    sweep_deadlines(now=now)
    _live_examples(ctx, cats, buildings)
    open311_client_issue(
        actor=None, name="市民随手拍 App（演示）", community=main, key=DEMO_OPEN311_KEY
    )
    logins(ctx)


def _live_examples(ctx: Any, cats: dict[str, Category], buildings: list[Building]) -> None:
    """A few requests by the demo resident through the real services (audited)."""
    from linli.requests import services as svc

    user = ctx.users[Role.RESIDENT]
    home = user.resident.household.building
    a = svc.request_submit(
        actor=user,
        category=cats["fac-light"],
        building=home,
        description=f"{home.name}三楼楼道灯坏了一个星期，晚上老人上下楼看不见",
    )
    svc.request_submit(
        actor=user,
        category=cats["di-noise"],
        building=home,
        description="楼上每天夜里十一点以后还在拖椅子，影响休息",
    )
    grid_worker = ctx.users[Role.GRID_WORKER]
    svc.request_accept(actor=ctx.users[Role.PROPERTY_STAFF], request=a)
    c = svc.request_submit(
        actor=user,
        category=cats["tr-ebike"],
        building=home,
        description=f"{home.name}有人从窗户拉电线给电动车充电，很危险",
    )
    svc.request_accept(actor=grid_worker, request=c)
    svc.request_resolve(
        actor=grid_worker, request=c, resolution="已上门劝导并拆除飞线，已告知集中充电桩位置"
    )


def logins(ctx: Any) -> None:
    ctx.add_login(
        "Open311",
        DEMO_OPEN311_KEY,
        f"api_key · jurisdiction_id={ctx.main.code} · /open311/discovery.json",
    )
