"""Demo volunteers for 阳光社区: a skills pool 社区能人库 and three activities
(邻里节 coming up, 垃圾分类督导 open, 助老陪伴 finished with hours awarded)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Resident
from linli.core.demo import DemoContext
from linli.volunteers import services
from linli.volunteers.models import SkillCategory, Slot

SKILL_NOTES = {
    "repair": ["会修电视冰箱", "家电维修二十年"],
    "plumbing": ["水管电路小修"],
    "law": ["退休法官，可提供法律咨询"],
    "medicine": ["社区医院退休护士，会测血压"],
    "teaching": ["退休教师，辅导小学作业"],
    "haircut": ["理发师"],
    "elderly_care": ["有养老护理员证"],
    "it": ["教老人用智能手机"],
    "arts": ["书法、剪纸"],
    "cooking": ["会做面点"],
    "psychology": ["心理咨询师二级"],
    "other": ["热心肠"],
}


def morning_shift() -> tuple[datetime, datetime]:
    """Tomorrow's 早 7:00–9:00 shift. Times a text names are Beijing wall-clock times:
    07:00 in TIME_ZONE, not "now + n hours" (whose hour depends on when the demo is
    built) nor 07:00 UTC (15:00 in Beijing)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(7, 0), tzinfo=timezone.get_default_timezone())
    return start, start + timedelta(hours=2)


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    main = ctx.main
    worker = ctx.users[Role.COMMUNITY_WORKER]
    residents = list(
        Resident.objects.filter(community=main, user__isnull=False)
        .select_related("user")
        .order_by("id")[:220]
    )
    cats = list(SkillCategory.values)
    for r in residents[:80]:
        picks = rng.sample(cats, rng.randint(1, 3))
        services.profile_save(
            actor=r.user,
            resident=r,
            intro="乐于为邻居服务",
            skills=[(c, rng.choice(SKILL_NOTES[c])) for c in picks],
            availability=rng.sample(list(Slot.values), rng.randint(1, 3)),
        )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    morning, morning_end = morning_shift()
    festival = services.activity_create(
        actor=worker,
        community=main,
        kind="festival",
        title="第五届阳光邻里节",
        location="社区中心广场",
        starts_at=now + timedelta(days=6, hours=2),
        ends_at=now + timedelta(days=6, hours=6),
        capacity=40,
        earn_kind="volunteer_service",
        description="美食分享、旧物交换、亲子游园，招募现场志愿者 40 名。",
    )
    garbage = services.activity_create(
        actor=worker,
        community=main,
        kind="garbage",
        title="垃圾分类桶边督导（早班）",
        location="3幢、5幢分类亭",
        starts_at=morning,
        ends_at=morning_end,
        capacity=6,
        earn_kind="volunteer_service",
        description="早 7:00–9:00 桶边指导居民分类投放。",
    )
    elderly = services.activity_create(
        actor=worker,
        community=main,
        kind="elderly",
        title="助老陪伴：独居老人上门探访",
        location="各楼栋",
        starts_at=now - timedelta(days=3, hours=3),
        ends_at=now - timedelta(days=3, hours=1),
        capacity=10,
        earn_kind="timebank_service",
        description="两人一组探访独居老人，陪聊、检查水电燃气安全。",
    )
    for r in residents[:25]:
        services.signup(actor=r.user, activity=festival, resident=r)
    for r in residents[20:28]:  # 6 places: the last two wait
        services.signup(actor=r.user, activity=garbage, resident=r)
    # The finished visit: signed up, checked in, then hours awarded at the end (the
    # activity is in the past, so sign-up is recorded by staff as it happened).
    from linli.volunteers.models import Activity, SignUp

    Activity.objects.filter(pk=elderly.pk).update(ends_at=now + timedelta(hours=1))
    elderly.refresh_from_db()
    for r in residents[30:38]:
        s = services.signup(actor=worker, activity=elderly, resident=r)
        services.check_in(actor=worker, signup=s)
    Activity.objects.filter(pk=elderly.pk).update(ends_at=now - timedelta(days=3, hours=1))
    elderly.refresh_from_db()
    services.activity_finish(actor=worker, activity=elderly)
    assert SignUp.objects.filter(activity=elderly, status="completed").count() == 8
