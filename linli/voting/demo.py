"""Demo ballots in 阳光社区: an open yes/no vote, a closed owners' vote under
民法典第二百七十八条 with its result, an open multiple-choice vote and a draft — and a
few recorded owners (one owner of two flats, a co-owned flat with its representative,
the developer's unsold flats) so opening the draft shows the interpretation's counting.

Votes go through the real services (so the audit chain and receipts are real); the
closed ballot is backdated after casting, as if it had run last month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Building, Household, Organisation, Resident
from linli.communities.ownership import OwnerSpec, ownership_set_unit
from linli.core.demo import DemoContext
from linli.voting import services
from linli.voting.models import Ballot


def _voters(ctx: DemoContext, *, owners_only: bool = False) -> list[Any]:
    qs = Resident.objects.filter(community=ctx.main, user__isnull=False).exclude(
        user=ctx.users[Role.RESIDENT]
    )
    if owners_only:
        qs = qs.filter(household__tenure="owner")
    return list(qs.select_related("user").order_by("id"))


def _local(days: int, hour: int) -> datetime:
    """``days`` from today at ``hour``:00 in TIME_ZONE (Beijing), not UTC."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_default_timezone())


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    sec = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.COMMUNITY_WORKER]
    now = timezone.now()
    main = ctx.main

    # 1. Open yes/no vote, all adult residents, Hangzhou 20 % rule.
    b1 = services.ballot_create(
        actor=sec,
        community=main,
        title="是否同意在3幢北侧增设电动自行车集中充电棚",
        description=(
            "为减少楼道“飞线充电”安全隐患，拟在3幢北侧绿地边增设充电棚（约40个车位），"
            "费用由街道微更新资金承担，按次扫码付费。请全体居民表达意见。"
        ),
        kind="yes_no_abstain",
        options=[],
        eligibility="all_residents",
        validity_rule="participation_20",
        opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=5),
        allow_change=True,
    )
    b1 = services.ballot_open(actor=sec, ballot=b1)
    for r in _voters(ctx)[:180]:
        services.vote_cast(
            actor=r.user, ballot=b1, choices=[rng.choices([0, 1, 2], weights=[70, 20, 10])[0]]
        )

    # 2. Closed owners' vote under art. 278 (ordinary matter), with a result.
    b2 = services.ballot_create(
        actor=sec,
        community=main,
        title="关于续聘绿城物业服务有限公司的业主共同决定",
        description=(
            "物业服务合同将于本年度到期。业主委员会提议续聘绿城物业，服务标准与收费不变。"
            "依据《民法典》第二百七十八条，属一般事项：须专有部分面积和人数均占三分之二以上的业主参与表决，"
            "并经参与表决面积过半数且人数过半数的业主同意。"
        ),
        kind="yes_no_abstain",
        options=[],
        eligibility="owners",
        validity_rule="art278",
        matter_class="ordinary",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        ratification_days=15,
    )
    b2 = services.ballot_open(actor=sec, ballot=b2)
    online = _voters(ctx, owners_only=True)
    voted_households: set[int] = set()
    for r in online:
        if r.household_id in voted_households:
            continue
        voted_households.add(r.household_id)
        services.vote_cast(
            actor=r.user, ballot=b2, choices=[rng.choices([0, 1, 2], weights=[75, 18, 7])[0]]
        )
    # Most older owners vote on paper; two staff enter each slip.
    target = b2.eligible_count * 3 // 4
    paper = (
        Resident.objects.filter(community=main, household__tenure="owner", relation="head")
        .exclude(household_id__in=voted_households)
        .select_related("household")
        .order_by("id")
    )
    for r in paper[: max(0, target - len(voted_households))]:
        services.paper_vote_record(
            actor=worker,
            second_staff=sec,
            ballot=b2,
            resident=r,
            choices=[rng.choices([0, 1, 2], weights=[70, 22, 8])[0]],
            note="纸质表决票",
        )
    past_close = now - timedelta(days=20)
    Ballot.objects.filter(pk=b2.pk).update(
        opens_at=past_close - timedelta(days=14), closes_at=past_close
    )
    b2.refresh_from_db()
    services.ballot_close(actor=sec, ballot=b2)

    # 3. Open multiple choice, one vote per household.
    b3 = services.ballot_create(
        actor=sec,
        community=main,
        title="中心广场健身器材选购（最多选2项）",
        description="社区将用共建基金为中心广场添置健身器材，请每户选出最需要的两项。",
        kind="multiple",
        options=["太极推手器", "双人漫步机", "儿童攀爬架", "乒乓球台", "休息长椅与遮阳棚"],
        max_choices=2,
        eligibility="households",
        validity_rule="participation_20",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        secret=True,
    )
    b3 = services.ballot_open(actor=sec, ballot=b3)
    done: set[int] = set()
    for r in _voters(ctx)[:160]:
        if r.household_id in done or r.birth_year > now.year - 18:
            continue
        done.add(r.household_id)
        services.vote_cast(actor=r.user, ballot=b3, choices=rng.sample(range(5), 2))

    _seed_owners(ctx)

    # 4. A draft for staff to open.
    services.ballot_create(
        actor=sec,
        community=main,
        title="关于使用专项维修资金更换5幢、6幢电梯的业主共同决定",
        description="依据《民法典》第二百七十八条，使用维修资金属一般事项。",
        kind="yes_no_abstain",
        options=[],
        eligibility="owners",
        validity_rule="art278",
        matter_class="ordinary",
        # Wall-clock Beijing times, as a notice would announce them.
        opens_at=_local(3, 9),
        closes_at=_local(17, 18),
    )


def _seed_owners(ctx: DemoContext) -> None:
    """Owners recorded through the ownership service (the rest of the estate keeps the
    household-level representation, see linli/voting/owners.py)."""
    sec = ctx.users[Role.SECRETARY]
    main = ctx.main
    since = date(2019, 6, 1)
    heads = list(
        Resident.objects.filter(
            community=main, relation="head", household__tenure="owner", is_active=True
        )
        .select_related("household")
        .order_by("id")[:2]
    )
    let = Household.objects.filter(community=main, tenure="tenant").order_by("id").first()
    if len(heads) < 2 or let is None:
        return
    landlord, head = heads
    for unit in (landlord.household, let):
        ownership_set_unit(
            actor=sec, household=unit, owners=[OwnerSpec(landlord)], since=since, reason="演示"
        )
    spouse = (
        Resident.objects.filter(household=head.household, is_active=True, birth_year__lte=2000)
        .exclude(pk=head.pk)
        .first()
    )
    if spouse is not None:
        ownership_set_unit(
            actor=sec,
            household=head.household,
            owners=[
                OwnerSpec(head, Decimal("0.5"), representative=True),
                OwnerSpec(spouse, Decimal("0.5")),
            ],
            since=since,
            reason="演示：夫妻共有",
        )
    building = Building.objects.filter(community=main).order_by("id").first()
    if building is None:
        return
    developer = Organisation.objects.create(
        kind=Organisation.Kind.DEVELOPER, name="阳光置业有限公司", scope=main
    )
    developer.communities.add(main)
    for room in ("1801", "1802", "1803"):
        unit = Household.objects.create(
            community=main,
            building=building,
            unit="9",
            room=room,
            area_m2=Decimal("96.50"),
            tenure=Household.Tenure.OWNER,
        )
        ownership_set_unit(
            actor=sec,
            household=unit,
            owners=[OwnerSpec(developer, developer_status="unsold")],
            since=since,
            reason="演示：开发商未售",
        )
