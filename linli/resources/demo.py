"""Demo resource pool for 阳光社区: rooms, the school playground after hours (a
partner's), ladders, a tool box, a wheelchair and neighbours' idle items; a month of
past bookings (picked up and returned) so utilisation and idle flags mean something; a
weekly choir rehearsal for three months; today's and tomorrow's bookings, one waiting
for approval. Everything goes through the services (past ones with the clock set back).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Building, Organisation, Resident
from linli.core.calendar import LOCAL_TZ
from linli.core.demo import DemoContext
from linli.core.errors import DomainError
from linli.resources import clock, services
from linli.resources.services import ResourceSpec

WEEKDAYS = range(5)
ALL_WEEK = range(7)


def _hours(days: Any, opens: time, closes: time) -> dict[int, list[tuple[time, time]]]:
    return {d: [(opens, closes)] for d in days}


def seed(ctx: DemoContext) -> None:
    main = ctx.main
    sec = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.COMMUNITY_WORKER]
    buildings = list(Building.objects.filter(community=main).order_by("id")[:6])
    school = Organisation.objects.create(
        kind="enterprise", name="阳光小学", scope=main.parent or main
    )
    school.communities.add(main)

    def make(**kw: Any) -> Any:
        owner = {k: kw.pop(k) for k in ("owner_kind", "owner_org", "owner_resident") if k in kw}
        actor = kw.pop("actor", sec)
        return services.resource_create(
            actor=actor, community=main, spec=ResourceSpec(**kw), **owner
        )

    meeting = make(
        kind="venue",
        name="社区会议室",
        location="党群服务中心二楼",
        bookable_by="staff",
        max_minutes=240,
        hours=_hours(WEEKDAYS, time(8, 30), time(17, 30)),
    )
    activity = make(
        kind="venue",
        name="多功能活动室",
        description="可容纳 40 人，有音响和投影，适合排练、讲座、兴趣小组。",
        location="党群服务中心一楼",
        share_scope="street",
        max_minutes=180,
        hours=_hours(ALL_WEEK, time(8, 0), time(21, 0)),
    )
    playground = make(
        kind="venue",
        name="阳光小学操场（课后开放）",
        description="放学后和周末向居民开放，请爱护场地，带走垃圾。",
        location="阳光小学东门",
        owner_kind="partner",
        owner_org=school,
        share_scope="street",
        approval_required=True,
        max_minutes=120,
        hours={
            **_hours(WEEKDAYS, time(17, 0), time(20, 0)),
            **_hours((5, 6), time(8, 0), time(18, 0)),
        },
    )
    ladders = [
        make(
            kind="equipment",
            name=f"人字梯（2米）{n}号",
            description="铝合金人字梯，承重 150 公斤。登高请有人扶梯。",
            location="社区服务站工具间",
            building_id=buildings[0].pk if buildings else None,
            max_minutes=240,
            hours=_hours(ALL_WEEK, time(8, 0), time(20, 0)),
        )
        for n in (1, 2)
    ]
    toolbox = make(
        kind="equipment",
        name="家用工具箱",
        description="电钻、扳手、螺丝刀、卷尺等 42 件。",
        location="社区服务站工具间",
        deposit_points=10,
        max_minutes=240,
        hours=_hours(ALL_WEEK, time(8, 0), time(20, 0)),
    )
    wheelchair = make(
        kind="equipment",
        name="折叠轮椅",
        location="社区卫生服务站",
        deposit_points=20,
        max_minutes=720,
        open_on_holidays=True,
        hours=_hours(ALL_WEEK, time(8, 0), time(20, 0)),
    )
    projector = make(
        kind="equipment",
        name="便携投影仪",
        location="党群服务中心",
        bookable_by="staff",
        max_minutes=240,
        hours=_hours(WEEKDAYS, time(8, 30), time(17, 30)),
    )
    residents = list(
        Resident.objects.filter(community=main, user__isnull=False)
        .select_related("user")
        .order_by("id")[:40]
    )
    demo_resident = next(
        (r for r in residents if r.user_id == ctx.users[Role.RESIDENT].pk), residents[0]
    )
    lender = residents[5]
    stroller = make(
        actor=lender.user,
        kind="item",
        name="婴儿推车",
        description="八成新，可折叠，孩子长大了借给需要的邻居。",
        owner_kind="resident",
        owner_resident=lender,
        max_minutes=720,
        hours=_hours(ALL_WEEK, time(8, 0), time(20, 0)),
    )
    make(
        actor=residents[6].user,
        kind="item",
        name="实木书架（送）",
        description="搬家送出，需自提。",
        owner_kind="resident",
        owner_resident=residents[6],
        share_mode="give",
        max_minutes=60,
        hours=_hours((5, 6), time(9, 0), time(17, 0)),
    )

    rng = ctx.rng
    now = timezone.now()
    today = now.astimezone(LOCAL_TZ).date()

    def at(d: Any, h: int, m: int = 0) -> datetime:
        return datetime.combine(d, time(h, m), tzinfo=LOCAL_TZ)

    def past_use(resource: Any, who: Any, start: datetime, minutes: int, staff: bool) -> None:
        """Booked the day before, picked up and returned (through the services)."""
        end = start + timedelta(minutes=minutes)
        try:
            with clock.frozen(start - timedelta(days=1)):
                b = services.booking_create(
                    actor=worker if staff else who.user,
                    resource=resource,
                    starts_at=start,
                    ends_at=end,
                    resident=None if staff else who,
                )
                if b.status == "requested":
                    b = services.booking_approve(actor=sec, booking=b)
            with clock.frozen(start + timedelta(minutes=5)):
                services.booking_check_out(actor=worker, booking=b, note="完好")
            with clock.frozen(end - timedelta(minutes=5)):
                services.booking_return(actor=worker, booking=b, condition="good")
        except DomainError:
            return  # a clash or a closed day in the random history: skip it

    # Three weeks of history: the activity room most evenings, a ladder now and then,
    # the meeting room on weekdays, the playground at weekends, the wheelchair twice;
    # the projector and the tool box never (they show up as idle).
    for back in range(21, 0, -1):
        d = today - timedelta(days=back)
        if rng.random() < 0.6:
            past_use(activity, rng.choice(residents), at(d, 19), 120, staff=False)
        if rng.random() < 0.35:
            past_use(ladders[0], rng.choice(residents), at(d, 9 + rng.randint(0, 6)), 120, False)
        if rng.random() < 0.1:
            past_use(ladders[1], rng.choice(residents), at(d, 10), 120, staff=False)
        if d.weekday() < 5 and rng.random() < 0.5:
            past_use(meeting, None, at(d, 9, 30), 90, staff=True)
        if d.weekday() >= 5 and rng.random() < 0.5:
            past_use(playground, rng.choice(residents), at(d, 9), 120, staff=False)
        if back in (17, 6):
            past_use(wheelchair, rng.choice(residents), at(d, 8, 30), 600, staff=False)
        if back == 13:
            past_use(stroller, rng.choice(residents), at(d, 9), 600, staff=False)

    # Upcoming: the choir every Wednesday evening for three months (holidays skipped),
    # the demo resident's ladder tomorrow morning, a playground request waiting for
    # approval, and a neighbour's request for the stroller.
    first_wed = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    with contextlib.suppress(DomainError):
        services.series_create(
            actor=residents[1].user,
            resource=activity,
            first_date=first_wed,
            last_date=first_wed + timedelta(weeks=12),
            start_time=time(19, 0),
            end_time=time(21, 0),
            purpose="阳光合唱团排练",
            idempotency_key="demo-choir",
        )
    tomorrow = today + timedelta(days=1)
    for resource, who, start, minutes in (
        (ladders[0], demo_resident, at(tomorrow, 9), 120),
        (toolbox, residents[2], at(tomorrow, 14), 180),
        (
            playground,
            residents[3],
            at(tomorrow + timedelta(days=(5 - tomorrow.weekday()) % 7), 9),
            120,
        ),
        (stroller, residents[4], at(tomorrow, 10), 480),
        (
            meeting,
            None,
            at(tomorrow + timedelta(days=2 if tomorrow.weekday() >= 4 else 0), 14),
            120,
        ),
    ):
        try:
            services.booking_create(
                actor=worker if who is None else who.user,
                resource=resource,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                purpose="",
            )
        except DomainError:
            continue
    ctx.extra["resources"] = [meeting.pk, activity.pk, playground.pk, projector.pk]
