"""Demo points and time bank for 阳光社区: rules, catalogue, a realistic year of history
posted through the real services (so every balance comes from balanced, audited
transactions), a few redemptions and donations, and last year's honours."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Resident
from linli.core.demo import DemoContext
from linli.ledger import services
from linli.ledger.models import EarnKind, HonourKind

RULES = [
    # kind, amount, daily cap, monthly cap, approvers, recipient confirms
    (EarnKind.VOLUNTEER_SERVICE, 10, 30, 200, ["organiser", "staff"], False),
    (EarnKind.GARBAGE_SORTING, 2, 2, 40, ["grid_worker"], False),
    (EarnKind.MUTUAL_AID, 5, 10, 60, ["staff"], True),
    (EarnKind.PROPOSAL_ADOPTED, 20, None, 60, ["staff"], False),
    (EarnKind.DELIBERATION, 5, 10, 40, ["staff"], False),
    (EarnKind.SURVEY, 1, 3, 20, [], False),
    (EarnKind.TIMEBANK_SERVICE, 0, None, None, [], True),
]
CATALOGUE = [
    (
        "property_voucher",
        "物业费抵扣券（50元）",
        "抵扣当月物业费 50 元，物业服务中心核销",
        200,
        30,
        2,
        "",
    ),
    ("goods", "粮油礼包（5L 食用油）", "社区服务站领取", 150, 40, 1, ""),
    ("goods", "环保洗衣液", "垃圾分类积分专享", 60, 80, 2, ""),
    ("service", "爱心理发服务", "每周三上午社区活动室，志愿理发师服务", 50, 60, 4, ""),
    (
        "priority_signup",
        "热门活动优先报名资格",
        "AA 级以上居民可兑换，用于亲子研学等名额紧张的活动",
        30,
        50,
        2,
        "AA",
    ),
]


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    main = ctx.main
    sec = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.COMMUNITY_WORKER]
    services.settings_save(
        actor=sec,
        community=main,
        hours_cap_minutes=1500 * 60,
        philanthropist_threshold=60,
        level_a=50,
        level_aa=150,
        level_aaa=400,
    )
    for kind, amount, day, month, approvers, confirm in RULES:
        services.rule_save(
            actor=sec,
            community=main,
            kind=kind,
            amount=amount or 1,
            daily_cap=day,
            monthly_cap=month,
            approver_roles=approvers,
            recipient_must_confirm=confirm,
        )
    items = [
        services.item_save(
            actor=sec,
            community=main,
            kind=k,
            name=n,
            description=d,
            price_points=p,
            stock=s,
            per_person_limit=lim,
            min_level=lvl,
        )
        for k, n, d, p, s, lim, lvl in CATALOGUE
    ]
    residents = list(
        Resident.objects.filter(community=main, user__isnull=False)
        .select_related("user")
        .order_by("id")
    )
    demo_resident = ctx.users[Role.RESIDENT].resident
    today = timezone.localdate()
    active = residents[:160]
    elders = list(
        Resident.objects.filter(community=main, birth_year__lte=today.year - 70).order_by("id")[:40]
    )
    n = 0
    # A year of history: the demo resident and the most active neighbours earn most.
    for i, r in enumerate(active):
        weight = 14 if r.pk == demo_resident.pk else max(1, 10 - i // 16)
        for _k in range(rng.randint(weight // 2, weight)):
            kind = rng.choices(
                [
                    EarnKind.VOLUNTEER_SERVICE,
                    EarnKind.GARBAGE_SORTING,
                    EarnKind.DELIBERATION,
                    EarnKind.SURVEY,
                    EarnKind.PROPOSAL_ADOPTED,
                ],
                weights=[40, 30, 15, 10, 5],
            )[0]
            on = today - timedelta(days=rng.randint(1, 330))
            n += 1
            services.earning_award(
                actor=worker,
                resident=r,
                kind=kind,
                idempotency_key=f"demo:earn:{n}",
                service_date=on,
                clamp_to_cap=True,
                description="历史记录",
            )
        if i < 50 and elders:
            for _k in range(rng.randint(1, 4)):
                n += 1
                elder = rng.choice(elders)
                if elder.pk == r.pk:
                    continue
                services.earning_award(
                    actor=worker,
                    resident=r,
                    kind=EarnKind.TIMEBANK_SERVICE,
                    amount=rng.choice([60, 90, 120, 180]),
                    idempotency_key=f"demo:hours:{n}",
                    service_date=today - timedelta(days=rng.randint(1, 300)),
                    description=rng.choice(["陪同就医", "代购买菜", "上门打扫", "读报聊天"]),
                )
    # The demo login is a steady volunteer: one service a month for a year (level A+).
    for m in range(12):
        services.earning_award(
            actor=worker,
            resident=demo_resident,
            kind=EarnKind.VOLUNTEER_SERVICE,
            amount=20,
            idempotency_key=f"demo:steady:{m}",
            service_date=today - timedelta(days=30 * m + 2),
            description="社区志愿服务",
        )
    # Some spending and giving.
    for i, r in enumerate(active[:60]):
        if r.pk == demo_resident.pk:
            continue
        bal = services.resident_account(r, "points").balance
        affordable = [it for it in items if it.price_points <= bal and not it.min_level]
        if affordable and rng.random() < 0.5:
            services.item_redeem(
                actor=r.user,
                item=rng.choice(affordable),
                resident=r,
                idempotency_key=f"demo:redeem:{i}",
            )
        bal = services.resident_account(r, "points").balance
        if bal >= 20 and rng.random() < 0.3:
            services.points_donate(
                actor=r.user,
                resident=r,
                points=rng.choice([10, 20, bal // 2 or 1]),
                idempotency_key=f"demo:donate:{i}",
            )
    # A generous donor (社区慈善家) and pending claims for staff to approve.
    donor = max(active[1:], key=lambda x: services.resident_account(x, "points").balance)
    bal = services.resident_account(donor, "points").balance
    if bal:
        services.points_donate(
            actor=donor.user, resident=donor, points=bal, idempotency_key="demo:donate:big"
        )
    for j, r in enumerate(active[5:11]):
        services.claim_submit(
            actor=r.user,
            resident=r,
            kind=EarnKind.GARBAGE_SORTING,
            service_date=today - timedelta(days=j % 2),
            description="楼道分类桶值守",
        )
    # Last year's honours, chosen from the ranked candidates.
    last_year = today.year - 1
    ranked = sorted(active, key=lambda x: -services.resident_account(x, "points").lifetime_earned)
    for r, honour, cite in [
        (ranked[0], HonourKind.BEST_VOLUNTEER, "常年坚持助老服务与垃圾分类督导"),
        (ranked[1], HonourKind.BEST_VOLUNTEER, "组织邻里节志愿服务队"),
        (ranked[2], HonourKind.GOVERNANCE_PIONEER, "提出的楼道改造建议被居民议事会采纳"),
    ]:
        services.honour_award(
            actor=sec, community=main, resident=r, kind=honour, year=last_year, citation=cite
        )
    ctx.extra["ledger_transactions"] = n
    ctx.add_login(
        "积分", str(demo_resident.phone), f"{demo_resident.name}：积分、时间银行与兑换（/ledger/）"
    )
