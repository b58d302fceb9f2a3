"""Demo notices for 阳光社区 with read receipts (so 知晓率 has real numbers)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Building, Resident
from linli.core.demo import DemoContext
from linli.notices.models import Notice, NoticeRead
from linli.notices.services import notice_create, notice_publish

NOTICES = [
    (
        "停水通知：6月3日上午管道检修",
        "6月3日（周三）8:00–12:00，小区主供水管检修，全小区停水。",
        "因管道检修，周三上午全小区停水约4小时，请提前储水。",
        "community",
        6,
        0.55,
    ),
    (
        "垃圾分类新规7月1日起施行",
        "根据《杭州市生活垃圾管理条例》，7月1日起厨余垃圾须破袋投放，定时定点。",
        "7月起厨余垃圾要破袋扔，每天早7–9点、晚6–8点投放。",
        "community",
        12,
        0.62,
    ),
    (
        "1–4幢外墙修缮施工告知",
        "1–4幢外墙修缮自下周一开始，为期约三周，施工期间请关好窗户、注意安全。",
        "1到4幢外墙下周一开始修，约三周，请关窗、绕行脚手架。",
        "buildings",
        3,
        0.4,
    ),
    (
        "文明养犬倡议书",
        "遛狗请牵绳、及时清理粪便，大型犬请勿进入儿童游乐区。",
        "遛狗要牵绳、捡便便，大狗别进儿童乐园。",
        "community",
        20,
        0.35,
    ),
]


def seed(ctx: DemoContext) -> None:
    sec = ctx.users[Role.SECRETARY]
    rng = ctx.rng
    buildings = list(Building.objects.filter(community=ctx.main).order_by("id")[:4])
    readers = list(
        Resident.objects.filter(community=ctx.main, user__isnull=False)
        .select_related("household")
        .order_by("id")
    )
    now = timezone.now()
    for title, body, summary, audience, days_ago, share in NOTICES:
        n = notice_create(
            actor=sec,
            community=ctx.main,
            title=title,
            body=body,
            summary=summary,
            audience=audience,
            building_ids=[b.pk for b in buildings] if audience == "buildings" else [],
            channels=["web", "inapp", "poster"],
        )
        notice_publish(actor=sec, notice=n)
        # Demo history: the notice went out ``days_ago`` days ago.
        published = now - timedelta(days=days_ago)
        Notice.objects.filter(pk=n.pk).update(publish_at=published)
        pool = [
            r
            for r in readers
            if audience == "community" or r.household.building_id in {b.pk for b in buildings}
        ]
        chosen = [r for r in pool if rng.random() < share]
        NoticeRead.objects.bulk_create(
            [
                NoticeRead(
                    community_id=n.community_id,
                    notice=n,
                    user_id=r.user_id,
                    resident=r,
                    read_at=published + timedelta(hours=rng.randint(1, 72)),
                )
                for r in chosen
                if r.user_id is not None and r.user_id != ctx.users[Role.RESIDENT].pk
            ],
            batch_size=1000,
        )
