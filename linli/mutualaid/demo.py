"""Demo 邻里互助 for 阳光社区: residents' needs (陪诊, 代买, 修水管, 辅导作业 …) at every
stage — settled with ratings and hours/points paid, agreed, proposed, still waiting (for
the staff queue) — neighbours' offers, two 社区合伙人 with offerings and confirmed
contributions, one contribution waiting for the community's confirmation. All written
through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Resident
from linli.core.demo import DemoContext
from linli.mutualaid import distances, matching, services
from linli.mutualaid.models import Match, Need, SettleIn

NEEDS = [
    # category, title, minutes, elderly requester (hours) or not (points), end state
    ("escort", "下周二陪我去市一医院复诊", 180, True, "settled"),
    ("plumbing", "厨房水管漏水，需要帮忙看看", 60, True, "settled"),
    ("homework", "孩子三年级数学作业辅导", 60, False, "settled"),
    ("errand", "帮忙代买一周的蔬菜", 45, True, "settled"),
    ("phone_help", "教我用手机挂号和视频通话", 60, True, "agreed"),
    ("repair", "洗衣机不脱水", 60, False, "agreed"),
    ("companion", "周末下午想找人聊聊天", 120, True, "proposed"),
    ("meals", "术后一周需要送午饭", 30, True, "proposed"),
    ("haircut", "行动不便，想请人上门理发", 30, True, "open"),
    ("legal", "咨询房屋租赁合同问题", 60, False, "open"),
    ("plumbing", "卫生间水龙头滴水", 45, True, "open"),
]

OFFERS = [
    ("errand", "每天下班顺路代买", ["weekday_eve"]),
    ("escort", "周末可以陪诊", ["weekend_am", "weekend_pm"]),
    ("homework", "大学生，可辅导小学作业", ["weekday_eve", "weekend_pm"]),
    ("phone_help", "教老人用智能手机", ["weekday_pm"]),
    ("meals", "可以多做一份午饭送上门", ["weekday_am"]),
    ("companion", "退休了，时间多，愿意陪聊", ["weekday_am", "weekday_pm"]),
]


def seed(ctx: DemoContext) -> None:
    main = ctx.main
    street_id = distances.street_of(main.pk)
    if street_id is not None:
        distances.refresh_street(street_id)
    worker = ctx.users[Role.COMMUNITY_WORKER]
    secretary = ctx.users[Role.SECRETARY]
    residents = list(
        Resident.objects.filter(community=main, user__isnull=False)
        .select_related("user", "household")
        .order_by("id")[:260]
    )
    year = timezone.localdate().year
    elderly = [r for r in residents if r.age(year) >= 60]
    younger = [r for r in residents if r.age(year) < 60]
    demo_resident = Resident.objects.filter(user=ctx.users[Role.RESIDENT]).first()

    # Neighbours' offers (the helpers are residents who are not volunteers already).
    for i, (cat, title, slots) in enumerate(OFFERS):
        r = younger[-(i + 1)]
        services.offer_post(actor=r.user, resident=r, category=cat, title=title, slots=slots)

    # Partners: the street's social organisation and the supermarket.
    social = ctx.organisations["social_org"]
    shop = ctx.organisations["enterprise"]
    p_social = services.partner_save(
        actor=secretary,
        community=main,
        organisation=social,
        intro="专业社工团队，提供助老陪护与心理疏导",
        address="阳光社区服务中心二楼",
    )
    p_shop = services.partner_save(
        actor=secretary,
        community=main,
        organisation=shop,
        intro="社区便民超市，为老人提供送货上门",
        address="阳光路 18 号",
    )
    services.offering_save(
        actor=secretary,
        partner=p_social,
        kind="service",
        category="companion",
        title="社工上门陪伴",
        description="每周二、四下午",
    )
    services.offering_save(
        actor=secretary,
        partner=p_social,
        kind="service",
        category="escort",
        title="社工陪诊",
    )
    services.offering_save(
        actor=secretary,
        partner=p_shop,
        kind="service",
        category="errand",
        title="满 30 元免费送货上门",
    )
    services.offering_save(
        actor=secretary,
        partner=p_shop,
        kind="discount",
        category="meals",
        title="老人购物 9 折",
        description="凭长者卡",
    )
    services.offering_save(
        actor=secretary, partner=p_shop, kind="venue", category="venue", title="二楼活动室周末开放"
    )
    today = timezone.localdate()
    for days, title, people, pts in [
        (20, "重阳节送米面油", 40, 30),
        (9, "为独居老人免费送货", 12, 15),
    ]:
        c = services.contribution_report(
            actor=secretary,
            partner=p_shop,
            title=title,
            served_on=today - timedelta(days=days),
            people_served=people,
            points=pts,
        )
        services.contribution_confirm(actor=secretary, contribution=c)
    social_member = ctx.users.get(Role.SOCIAL_ORG)
    if social_member is not None:
        # Reported by the organisation itself: waits for the community to confirm.
        services.contribution_report(
            actor=social_member,
            partner=p_social,
            title="心理健康讲座",
            served_on=today - timedelta(days=2),
            people_served=35,
            points=20,
        )

    # Needs at every stage.
    now = timezone.now()
    made: list[tuple[Need, str]] = []
    for i, (cat, title, minutes, old, state) in enumerate(NEEDS):
        if i == 0 and demo_resident is not None and demo_resident.age(year) >= 60:
            requester = demo_resident
        elif old:
            requester = elderly[i % len(elderly)]
        else:
            requester = younger[i % len(younger)]
        settle = SettleIn.MINUTES if services.is_timebank_recipient(requester) else SettleIn.POINTS
        by_staff = i % 4 == 3
        need = services.need_post(
            actor=worker if by_staff else requester.user,
            resident=requester,
            category=cat,
            title=title,
            minutes=minutes,
            settle_in=settle,
            channel="phone" if by_staff else "self",
            wanted_from=now + timedelta(days=1 + i % 5, hours=2),
        )
        made.append((need, state))
    # The demo resident's own open need (so their page shows suggestions).
    if demo_resident is not None:
        need = services.need_post(
            actor=ctx.users[Role.RESIDENT],
            resident=demo_resident,
            category="plumbing",
            title="阳台水管冻裂了",
            minutes=60,
            settle_in=(
                SettleIn.MINUTES
                if services.is_timebank_recipient(demo_resident)
                else SettleIn.POINTS
            ),
        )
        made.append((need, "open"))

    for need, state in made:
        if state == "open":
            continue
        sugg = [s for s in matching.suggest(need, limit=5) if s.candidate.kind != "partner_service"]
        if not sugg:
            continue
        best = sugg[0]
        m = services.match_propose(
            actor=need.requester.user,
            need=need,
            kind=best.candidate.kind,
            candidate_id=best.candidate.id,
        )
        if state == "proposed":
            continue
        helper_user = m.helper.user if m.helper is not None else None
        if helper_user is None:
            continue
        m = services.match_accept(actor=helper_user, match=m)
        if state == "settled":
            services.match_settle(actor=need.requester.user, match=m, rating=5 - (need.pk % 2))

    # The demo resident offers company; a neighbour's need is put to them by staff, so
    # their page shows 邻居请我帮忙 with 接受 / 婉拒.
    if demo_resident is not None and ctx.users.get(Role.RESIDENT) is not None:
        offer = services.offer_post(
            actor=ctx.users[Role.RESIDENT],
            resident=demo_resident,
            category="companion",
            title="周末可以陪老人下棋聊天",
            slots=["weekend_pm"],
        )
        asker = next(r for r in elderly if r.pk != demo_resident.pk)
        need = services.need_post(
            actor=worker,
            resident=asker,
            category="companion",
            title="想找人下棋聊天",
            minutes=90,
            settle_in=SettleIn.MINUTES
            if services.is_timebank_recipient(asker)
            else SettleIn.POINTS,
            channel="visit",
        )
        services.match_propose(
            actor=worker, need=need, kind="offer", candidate_id=offer.pk, accept=False
        )
        made.append((need, "proposed"))

    # Ages, so the staff queue and time-to-match show realistic spreads: the demo
    # backdates its own rows (the services stamp "now").
    for k, (need, _state) in enumerate(made):
        back = timedelta(hours=6 + 13 * k)
        Need.objects.filter(pk=need.pk).update(created_at=now - back)
        if need.pk and Need.objects.filter(pk=need.pk, matched_at__isnull=False).exists():
            Need.objects.filter(pk=need.pk).update(matched_at=now - back + timedelta(hours=3 + k))
            Match.objects.filter(need_id=need.pk, agreed_at__isnull=False).update(
                agreed_at=now - back + timedelta(hours=3 + k)
            )
