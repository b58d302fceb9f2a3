"""Demo 议事厅 for 阳光社区: a council that meets the composition rules, a
co-governance committee and supervision group, topics in every step, a recurring
周三议事日 with a duly noticed meeting, deliberators and action items."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Resident
from linli.core.calendar import LOCAL_TZ
from linli.core.demo import DemoContext
from linli.deliberation import services as s
from linli.deliberation.models import Attendance, Meeting, Topic
from linli.voting.models import Ballot
from linli.voting.services import ballot_close, vote_cast

COMMENTS = {
    "加装电梯": [
        "我家住6楼，老伴腿脚不好，非常支持！",
        "一楼住户也愿意出一点，毕竟是大家的事。",
        "费用怎么分摊要说清楚，建议按楼层系数。",
        "施工期间噪音怎么办？希望避开午休时间。",
    ],
    "楼道堆物清理": [
        "3单元楼道堆了好多纸箱，消防通道都堵了。",
        "建议先贴通知，给大家一周时间自行清理。",
        "清出来的旧家具可以放到社区跳蚤市场。",
    ],
    "停车位划线": ["晚上车停得乱七八糟，救护车都进不来。", "建议给老人和残疾人留几个车位。"],
}


def _pick(qs, n, exclude):
    out = [r for r in qs.exclude(pk__in=exclude)[:n]]
    exclude.update(r.pk for r in out)
    return out


def seed(ctx: DemoContext) -> None:
    sec = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.COMMUNITY_WORKER]
    main = ctx.main
    year = timezone.localdate().year
    me = Resident.objects.get(user=ctx.users[Role.RESIDENT])
    with_user = (
        Resident.objects.filter(community=main, user__isnull=False)
        .select_related("household")
        .order_by("id")
    )
    used = {me.pk}
    young = _pick(with_user.filter(birth_year__gt=year - 35, household__tenure="owner"), 2, used)
    elderly = _pick(with_user.filter(birth_year__lte=year - 60, household__tenure="owner"), 3, used)
    tenants = _pick(
        with_user.filter(
            household__tenure="tenant", birth_year__gt=year - 60, birth_year__lte=year - 35
        ),
        3,
        used,
    )
    middle = _pick(
        with_user.filter(
            household__tenure="owner", birth_year__gt=year - 60, birth_year__lte=year - 35
        ),
        2,
        used,
    )
    members = [me, *young, *elderly, *tenants, *middle]
    council = s.council_create(actor=sec, community=main, kind="council", name="阳光社区居民议事会")
    seats = s.council_constitute(
        actor=sec,
        council=council,
        seats=[
            s.MemberSpec(resident=r, position="召集人" if i == 2 else "成员")
            for i, r in enumerate(members)
        ],
    )
    committee = s.council_create(
        actor=sec, community=main, kind="committee", name="阳光社区共建共治共享委员会"
    )
    reps = _pick(with_user, 6, used)
    s.council_constitute(
        actor=sec,
        council=committee,
        seats=[s.MemberSpec(resident=r) for r in reps]
        + [
            s.MemberSpec(
                name="赵磊",
                member_type="unit",
                organisation=ctx.organisations.get("property"),
                position="物业代表",
            ),
            s.MemberSpec(
                name="和睦超市 钱经理",
                member_type="unit",
                organisation=ctx.organisations.get("enterprise"),
            ),
            s.MemberSpec(
                name="孙丽", member_type="unit", organisation=ctx.organisations.get("social_org")
            ),
            s.MemberSpec(name="林欣怡", member_type="staff", position="社区工作者"),
        ],
    )
    supervision = s.council_create(
        actor=sec, community=main, kind="supervision", name="阳光社区居民监督小组"
    )
    s.council_constitute(
        actor=sec,
        council=supervision,
        seats=[s.MemberSpec(resident=r) for r in _pick(with_user, 3, used)],
    )

    users = [r.user for r in members]
    now = timezone.now()

    def topic(title: str, desc: str, by=None, source: str = "resident", ref: str = "") -> Topic:
        return s.topic_propose(
            actor=by or ctx.users[Role.RESIDENT],
            community=main,
            title=title,
            description=desc,
            source=source,
            source_ref=ref,
        )

    def comment(t: Topic, key: str) -> None:
        commenters = list(with_user.exclude(pk__in=[me.pk])[20:40])
        for i, body in enumerate(COMMENTS[key]):
            s.topic_comment(actor=commenters[i].user, topic=t, body=body)

    def reviewed(t: Topic) -> None:
        s.topic_accept(actor=worker, topic=t)
        comment(t, t.title[:4] if t.title[:4] in COMMENTS else "加装电梯")
        s.topic_submit_for_review(actor=worker, topic=t)
        s.review_note_add(
            actor=users[3],
            topic=t,
            aspect="feasibility",
            conclusion="ok",
            body="经现场查看，具备实施条件。",
        )
        s.review_note_add(
            actor=sec,
            topic=t,
            aspect="budget",
            conclusion="concern",
            body="需申请街道微更新资金补助，居民自筹部分须公示。",
        )
        s.review_note_add(
            actor=sec, topic=t, aspect="law", conclusion="ok", body="符合《民法典》及小区管理规约。"
        )

    # 公示: 停车位划线 — council vote passed, action items under way.
    parking = topic(
        "停车位划线", "小区夜间停车混乱，消防通道常被占用。建议重新划线编号，并预留无障碍车位。"
    )
    s.topic_accept(actor=worker, topic=parking)
    comment(parking, "停车位划线")
    s.topic_submit_for_review(actor=worker, topic=parking)
    for aspect, body in [
        ("feasibility", "可划车位约86个，含4个无障碍车位。"),
        ("budget", "划线费用约1.2万元，由公共收益列支。"),
        ("law", "不改变共有部分用途，无需业主大会表决。"),
    ]:
        s.review_note_add(actor=sec, topic=parking, aspect=aspect, conclusion="ok", body=body)
    s.topic_open_vote(
        actor=sec,
        topic=parking,
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=3),
    )
    parking.refresh_from_db()
    assert parking.ballot is not None
    for i, u in enumerate(users):
        vote_cast(actor=u, ballot=parking.ballot, choices=[0 if i < 9 else (1 if i == 9 else 2)])
    ballot_close(actor=sec, ballot=parking.ballot)
    s.topic_publicise(
        actor=sec,
        topic=parking,
        minutes="周三议事日，应到11人，实到11人。经讨论，同意按方案重新划线，预留4个无障碍车位；由物业负责施工，监督小组跟进。",
    )
    for title, owner, days in [
        ("联系划线施工单位并报价", "绿城物业 赵磊", 14),
        ("施工前张贴挪车通知", "社区居委会", 20),
        ("完成划线并编号", "绿城物业 赵磊", 35),
    ]:
        s.action_item_create(
            actor=sec,
            topic=parking,
            title=title,
            owner_name=owner,
            deadline=timezone.localdate() + timedelta(days=days),
        )
    first = parking.action_items.order_by("id").first()
    assert first is not None
    s.action_item_update(
        actor=sec,
        item=first,
        status="done",
        progress_percent=100,
        note="已比选三家，确定施工单位，报价1.15万元。",
    )

    # 决议: 加装电梯 — council vote open now (the demo resident can vote).
    lift = topic(
        "3幢加装电梯",
        "3幢共6层24户，60岁以上老人14位，上下楼困难。建议申请既有住宅加装电梯补助，费用按楼层系数分摊。",
    )
    reviewed(lift)
    s.topic_open_vote(
        actor=sec,
        topic=lift,
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=6),
    )
    lift.refresh_from_db()
    assert lift.ballot is not None
    for u in users[1:6]:
        vote_cast(actor=u, ballot=lift.ballot, choices=[0])

    # 商议: 楼道堆物清理; 审议: 电动自行车充电桩; 提议: 微心愿长椅; 未采纳: 一例.
    hall = topic(
        "楼道堆物清理",
        "部分楼道堆放纸箱、旧家具，堵塞消防通道，存在火灾隐患。建议集中清理并建立长效机制。",
        by=worker,
        source="staff",
    )
    s.topic_accept(actor=worker, topic=hall)
    comment(hall, "楼道堆物清理")
    ebike = topic(
        "增设电动自行车集中充电桩",
        "居民在楼道内充电现象多，安全隐患大。建议在5幢旁空地增设集中充电棚。",
    )
    s.topic_accept(actor=worker, topic=ebike)
    s.topic_submit_for_review(actor=worker, topic=ebike)
    s.review_note_add(
        actor=users[2],
        topic=ebike,
        aspect="feasibility",
        conclusion="ok",
        body="5幢旁空地约60㎡，可容纳40个充电位。",
    )
    topic(
        "微心愿：中心花园长椅维修",
        "中心花园3张长椅木条断裂，老人没处歇脚，希望修一修。",
        by=worker,
        source="wish",
        ref="微心愿-2026-031",
    )
    rejected = topic("小区内开设棋牌室", "希望在地下室开一个棋牌室，方便老人娱乐。")
    s.topic_reject(
        actor=sec,
        topic=rejected,
        reason="地下室为人防工程，不得改作经营场所；已转老年活动中心增设棋牌角。",
    )
    Topic.objects.filter(pk=hall.pk).update(updated_at=now)

    # 周三议事日: every Wednesday 19:00, next 8 weeks; a duly noticed meeting ≥ 8 days out.
    series = s.meeting_series_create(
        actor=sec,
        council=council,
        title="周三议事日",
        weekday=2,
        start_time=time(19, 0),
        duration_minutes=90,
        location="阳光社区党群服务中心二楼议事厅",
    )
    upcoming = s.meeting_series_generate(
        actor=sec, series=series, until=timezone.localdate() + timedelta(days=56)
    )
    target = next(m for m in upcoming if m.starts_at - now > timedelta(days=8))
    s.agenda_add(actor=sec, meeting=target, topic=hall)
    s.agenda_add(actor=sec, meeting=target, topic=ebike)
    s.meeting_publish_materials(
        actor=sec,
        meeting=target,
        materials="一、楼道堆物现状照片及分布表（各楼栋长汇总）\n二、集中清理方案与时间安排\n三、电动自行车充电棚选址图与报价",
    )
    s.meeting_issue_notice(actor=sec, meeting=target, channels=["web", "inapp", "poster"])
    # History: two past Wednesdays (one held, one without quorum). Created directly because
    # services only schedule future meetings.
    for weeks, present, status in [(2, len(seats), "held"), (1, 5, "not_convened")]:
        d = timezone.localdate() - timedelta(
            days=(timezone.localdate().weekday() - 2) % 7 + 7 * (weeks - 1)
        )
        if d >= timezone.localdate():
            d -= timedelta(days=7)
        start = datetime.combine(d, time(19, 0), tzinfo=LOCAL_TZ)
        m = Meeting.objects.create(
            community=main,
            council=council,
            title=f"周三议事日（{d:%m月%d日}）",
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            location=series.location,
            mode="in_person",
            status=status,
            members_total=len(seats),
            members_present=present,
            concluded_at=start + timedelta(minutes=90),
            minutes="审议停车位划线方案，同意提交表决。" if status == "held" else "",
        )
        Attendance.objects.bulk_create(
            [
                Attendance(
                    community=main,
                    meeting=m,
                    member=seat,
                    mode="in_person" if i < present else "absent",
                )
                for i, seat in enumerate(seats)
            ]
        )

    # Deliberators: two certified with assessments over time, two in training.
    held = Meeting.objects.filter(community=main, status="held").first()
    for i, r in enumerate(members[:4]):
        dl = s.deliberator_enrol(actor=sec, resident=r)
        s.deliberator_record_activity(
            actor=sec,
            deliberator=dl,
            kind="training",
            on=timezone.localdate() - timedelta(days=60),
            note="社区议事员培训（第一期）",
        )
        if i < 2:
            if held is not None:
                s.deliberator_record_activity(
                    actor=sec,
                    deliberator=dl,
                    kind="practice",
                    on=timezone.localdate() - timedelta(days=14),
                    meeting=held,
                )
            s.deliberator_record_activity(
                actor=sec,
                deliberator=dl,
                kind="practice",
                on=timezone.localdate() - timedelta(days=40),
                note="模拟议事",
            )
            s.deliberator_certify(actor=sec, deliberator=dl)
            for days, score in [(90, 5 + i), (30, 7 + i)]:
                s.skill_assess(
                    actor=sec,
                    deliberator=dl,
                    score=score,
                    on=timezone.localdate() - timedelta(days=days),
                )

    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    s.supervision_review_record(
        actor=ctx.users[Role.SUPERVISOR],
        community=main,
        month=last_month,
        summary="停车位划线第一项已完成；提醒物业按期完成施工，无障碍车位须设标识。",
    )
    assert Ballot.objects.filter(source_type="deliberation.topic").count() == 2
    _ = date
