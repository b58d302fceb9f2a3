"""Demo micro-projects for 阳光社区: one filed by the street, one waiting for the
community's review (overdue, shown red on the workbench), one gathering co-signatures,
one refused with its reason — and, when the 议事厅 demo has a passed topic, a project
made from it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Resident
from linli.core.demo import DemoContext
from linli.projects import services
from linli.projects.models import MicroProject


def _signers(ctx: DemoContext, n: int, skip: int = 0) -> list[Resident]:
    """Residents with accounts in ``n`` different households of the main community."""
    out: list[Resident] = []
    seen: set[int] = set()
    qs = (
        Resident.objects.filter(community=ctx.main, user__isnull=False)
        .select_related("user")
        .order_by("id")
    )
    for r in qs[skip : skip + 200]:
        if r.household_id in seen:
            continue
        seen.add(r.household_id)
        out.append(r)
        if len(out) == n:
            break
    return out


def _propose(
    ctx: DemoContext,
    people: list[Resident],
    title: str,
    problem: str,
    plan: str,
    place: str,
    lines: list[tuple[str, str]],
) -> MicroProject:
    p = services.micro_propose(
        actor=people[0].user,
        community=ctx.main,
        title=title,
        problem=problem,
        plan=plan,
        place=place,
        lines=lines,
    )
    for r in people[1:]:
        services.micro_cosign(actor=r.user, project=p)
    return p


def seed(ctx: DemoContext) -> None:
    worker = ctx.users[Role.COMMUNITY_WORKER]
    street = ctx.users[Role.STREET_OFFICER]
    me = Resident.objects.filter(user=ctx.users[Role.RESIDENT]).first()
    people = _signers(ctx, 16)
    if me is not None:
        people = [me, *[r for r in people if r.household_id != me.household_id]]
    now = timezone.now()

    filed = _propose(
        ctx,
        people[0:4],
        "3幢楼道防滑改造",
        "3幢楼道地砖湿滑，今年已有两位老人摔倒。",
        "更换防滑地砖，楼梯两侧加装不锈钢扶手，每层加装感应灯。",
        "3幢1–2单元楼道",
        [("防滑地砖及铺设", "12800"), ("不锈钢扶手", "6400"), ("感应灯 12 盏", "1560.50")],
    )
    start = now - timedelta(days=4)
    services.micro_transition(actor=people[0].user, project=filed, action="submit", now=start)
    services.micro_transition(
        actor=worker, project=filed, action="approve", now=start + timedelta(days=1)
    )
    services.micro_transition(
        actor=street, project=filed, action="file", now=start + timedelta(days=2)
    )

    late = _propose(
        ctx,
        people[4:7],
        "南门共享工具箱",
        "居民修修补补总要四处借工具。",
        "在南门岗亭旁设一个带锁工具柜，由楼栋长管理借还。",
        "南门岗亭",
        [("工具柜", "2800"), ("常用工具一套", "3600")],
    )
    # Submitted a week ago and still waiting: the workbench shows it red.
    services.micro_transition(
        actor=people[4].user, project=late, action="submit", now=now - timedelta(days=6)
    )

    _propose(
        ctx,
        people[7:9],
        "儿童游乐区围栏修补",
        "游乐区围栏有三处断裂，孩子容易跑到车道上。",
        "更换断裂的围栏段，入口加装自闭门。",
        "中心花园游乐区",
        [("围栏 20 米", "6000"), ("自闭门", "1800")],
    )

    refused = _propose(
        ctx,
        people[9:12],
        "屋顶晾晒架",
        "楼顶没有晾晒的地方。",
        "在 5 幢屋顶安装晾晒架。",
        "5幢屋顶",
        [("晾晒架", "9000")],
    )
    services.micro_transition(actor=people[9].user, project=refused, action="submit")
    services.micro_transition(
        actor=worker,
        project=refused,
        action="reject",
        reason="屋顶为消防疏散平台，不得固定安装设施；建议改在 5 幢南侧空地。",
    )

    seed_pb(ctx, people)

    from linli.deliberation.models import Topic

    topic = (
        Topic.objects.filter(
            community=ctx.main,
            step__in=["publicised", "closed"],
            result_passed=True,
            micro_project__isnull=True,
        )
        .order_by("id")
        .first()
    )
    if topic is not None:
        services.micro_from_topic(
            actor=worker,
            topic=topic,
            place="议题所涉区域",
            lines=[("材料", "8000"), ("施工", "6000")],
        )


def seed_pb(ctx: DemoContext, people: list[Resident]) -> None:
    """A programme whose vote has closed (results with both methods) and one open for
    voting now."""
    from linli.projects.models import PBProject, Programme

    sec = ctx.users[Role.SECRETARY]
    expert = ctx.users[Role.SUPERVISOR]
    now = timezone.now()
    rng = ctx.rng
    buildings = list(ctx.main.community_buildings.order_by("id")[:4])

    def make(title: str, closes: timedelta, budget: str, kind: str, k: int | None) -> Programme:
        prog = services.programme_create(
            actor=sec,
            community=ctx.main,
            title=title,
            description="社区营造专项资金，居民提案、专家评审、全体居民投票决定资助哪些项目。",
            budget_yuan=budget,
            ballot_kind=kind,
            max_choices=k,
            unit="resident",
            method="mes",
            criteria=[("居民需求", 4), ("可行性", 3), ("受益面", 3)],
            dates=services.Dates(
                now - timedelta(days=20),
                now - timedelta(days=10),
                now - timedelta(days=3),
                now + closes,
            ),
        )
        services.reviewer_add(actor=sec, programme=prog, user=expert, title="社区规划师")
        services.programme_advance(actor=sec, programme=prog, action="open_proposals")
        return prog

    ideas = [
        ("楼道微光照明", "12000"),
        ("中心花园座椅更新", "28000"),
        ("儿童阅读角", "15000"),
        ("电动车充电棚", "45000"),
        ("垃圾分类亭美化", "9000"),
        ("老人助行扶手", "18000"),
    ]
    for title, closes, kind, k in (
        ("2026 年社区营造（第一期）", timedelta(days=-1), "approval", 3),
        ("2026 年社区营造（第二期）", timedelta(days=5), "knapsack", None),
    ):
        prog = make(title, closes if closes > timedelta(0) else timedelta(days=1), "80000", kind, k)
        for i, (t, cost) in enumerate(ideas):
            services.pb_project_submit(
                actor=people[i % len(people)].user,
                programme=prog,
                title=t,
                description=f"{t}：居民提案，详见现场照片与预算。",
                cost_yuan=cost,
                building_id=buildings[i % len(buildings)].pk if buildings else None,
            )
        services.programme_advance(actor=sec, programme=prog, action="start_review")
        prog.refresh_from_db()
        crits = list(prog.criteria.all())
        for p in PBProject.objects.filter(programme=prog).order_by("pk"):
            services.score_submit(
                actor=expert,
                project=p,
                scores={c.pk: rng.randint(5, 10) for c in crits},
                comment="方案清楚，预算合理。",
            )
        services.programme_advance(actor=sec, programme=prog, action="open_voting")
        prog.refresh_from_db()
        shortlisted = list(
            PBProject.objects.filter(programme=prog, status="shortlisted").order_by("pk")
        )
        voters = Resident.objects.filter(community=ctx.main, user__isnull=False).select_related(
            "user"
        )[:30]
        for r in voters:
            if r.user_id == ctx.users[Role.RESIDENT].pk and closes > timedelta(0):
                continue  # the demo resident still has a ballot to cast
            pick = rng.sample(shortlisted, min(len(shortlisted), rng.randint(1, 3)))
            if kind == "knapsack":
                while sum(p.cost_fen for p in pick) > prog.budget_fen:
                    pick.pop()
            if pick:
                services.ballot_cast(actor=r.user, programme=prog, project_ids=[p.pk for p in pick])
        if closes < timedelta(0):
            Programme.objects.filter(pk=prog.pk).update(voting_closes=now - timedelta(minutes=5))
            prog.refresh_from_db()
            services.programme_advance(actor=sec, programme=prog, action="close_voting")
