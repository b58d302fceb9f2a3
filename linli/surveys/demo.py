"""Demo surveys and 微心愿 for 阳光社区, written through the services:

* the monthly satisfaction survey for September and October (closed, results
  published: the trend chart has points) and November (open, answers coming in);
* a needs survey (named, open) with some paper answers entered by the grid worker;
* an activity feedback form (draft);
* 微心愿 in every state: waiting for checking, on the wall, claimed by a volunteer,
  and one fulfilled and confirmed (the volunteer earned 邻里互助 points).
"""

from __future__ import annotations

import io
import random
from datetime import datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from linli.accounts.models import Role, User
from linli.communities.models import Resident
from linli.core.demo import DemoContext
from linli.surveys import services
from linli.surveys.models import Survey
from linli.surveys.templates_data import TEMPLATES

COMMENTS = [
    "楼道灯经常不亮，希望及时维修",
    "垃圾分类点太远，老人不方便",
    "希望多组织老年人活动",
    "停车太难，电动车充电不方便",
    "物业响应很快，点赞",
    "小区绿化很好，希望保持",
    "晚上广场舞声音太大",
    "希望增加健身器材",
]


def _at(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(9, 0), tzinfo=timezone.get_default_timezone())


def _answer_satisfaction(rng: random.Random, level: int) -> dict[str, Any]:
    overall = max(1, min(5, level + rng.choice([-1, 0, 0, 1])))
    answers: dict[str, Any] = {
        "overall": str(overall),
        "aspects": {
            str(r): str(max(1, min(5, level + rng.choice([-1, 0, 1])))) for r in range(1, 6)
        },
    }
    if overall < 3:
        answers["why_low"] = rng.choice(COMMENTS[:4])
    if rng.random() < 0.5:
        answers["suggest"] = rng.choice(COMMENTS)
    return answers


def _satisfaction(ctx: DemoContext, users: list[User], worker: User) -> None:
    rng = random.Random(ctx.seed + 15)
    tpl = TEMPLATES["satisfaction"]
    for n, (days_ago, count, level, finish) in enumerate(
        [(75, 30, 3, "publish"), (45, 30, 4, "close"), (5, 24, 4, "")]
    ):
        month = timezone.localdate() - timedelta(days=days_ago)
        s = services.survey_create(
            actor=worker,
            community=ctx.main,
            settings=services.Settings(
                title=f"{month.year}年{month.month}月居民满意度测评",
                description=tpl.description,
                kind=tpl.kind,
                anonymous=True,
                series=tpl.series,
                opens_at=_at(days_ago),
            ),
            questions=tpl.questions(),
            pages=tpl.pages,
            idempotency_key=f"demo-satisfaction-{n}",
        )
        services.survey_open(actor=worker, survey=s)
        for u in users[n * 30 : n * 30 + count]:
            services.survey_answer(actor=u, survey=s, answers=_answer_satisfaction(rng, level))
        if finish:
            services.survey_close(actor=worker, survey=s)
        if finish == "publish":
            services.survey_publish_results(actor=worker, survey=s)


def _needs(ctx: DemoContext, users: list[User], worker: User, grid_worker: User) -> Survey:
    rng = random.Random(ctx.seed + 16)
    s = services.survey_from_template(
        actor=worker, community=ctx.main, template="needs", idempotency_key="demo-needs"
    )
    services.survey_open(actor=worker, survey=s)
    for u in users[90:105]:
        elderly = rng.random() < 0.5
        answers: dict[str, Any] = {
            "services": rng.sample(["1", "2", "3", "4", "5", "6"], 2),
            "has_elderly": "1" if elderly else "2",
            "priority": {str(o): str(r) for r, o in enumerate(rng.sample([1, 2, 3, 4], 4), 1)},
            "hours": str(rng.choice([0, 2, 4])),
        }
        if elderly:
            answers["elderly_help"] = rng.sample(["1", "2", "3", "4"], 2)
        services.survey_answer(actor=u, survey=s, answers=answers)
    # Paper questionnaires collected door to door, entered by the grid worker (代办).
    offline = Resident.objects.filter(
        community=ctx.main, user__isnull=True, birth_year__lte=1955
    ).order_by("id")[:3]
    for r in offline:
        services.survey_answer(
            actor=grid_worker,
            survey=s,
            resident=r,
            channel="paper",
            answers={
                "services": ["1", "3"],
                "has_elderly": "1",
                "elderly_help": ["1", "3"],
                "priority": {"1": "1", "2": "3", "3": "4", "4": "2"},
            },
        )
    return s


def _photo() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 80, 60)).save(buf, format="PNG")
    return SimpleUploadedFile("wish.png", buf.getvalue(), content_type="image/png")


def _wishes(ctx: DemoContext, worker: User, grid_worker: User) -> None:
    from linli.volunteers.models import VolunteerProfile

    elders = list(
        Resident.objects.filter(community=ctx.main, birth_year__lte=1950).order_by("id")[:4]
    )
    volunteer = (
        VolunteerProfile.objects.filter(community=ctx.main, resident__user__isnull=False)
        .select_related("resident__user")
        .order_by("id")
        .first()
    )
    specs = [
        ("elderly", "想要一件厚棉衣过冬", "冬天的棉袄", "一位独居老人希望有一件厚实的冬衣。"),
        ("elderly", "想学会用手机视频和孙子聊天", "教老人用智能手机", "一位老人想学会视频通话。"),
        ("child", "想要一套课外读物", "儿童课外读物", "一名小学生希望有一套课外书。"),
        ("elderly", "希望有人每周来陪我聊聊天", "每周陪伴聊天", "一位空巢老人希望有人定期探访。"),
    ]
    wishes = []
    for n, (elder, (group, title, public_title, public_text)) in enumerate(
        zip(elders, specs, strict=False)
    ):
        w = services.wish_post(
            actor=grid_worker,
            community=ctx.main,
            group=group,
            title=title,
            resident=elder,
            channel="visit",
            idempotency_key=f"demo-wish-{n}",
        )
        if n < 3:
            services.wish_publish(
                actor=worker, wish=w, public_title=public_title, public_text=public_text
            )
        wishes.append(w)
    if volunteer is None or volunteer.resident.user is None or len(wishes) < 3:
        return
    vol_user = volunteer.resident.user
    services.wish_claim(actor=vol_user, wish=wishes[1])
    services.wish_claim(actor=vol_user, wish=wishes[0])
    services.wish_fulfil(
        actor=vol_user, wish=wishes[0], note="已送去一件新棉衣，老人很高兴。", photo=_photo()
    )
    services.wish_confirm(actor=grid_worker, wish=wishes[0], channel="visit")


def seed(ctx: DemoContext) -> None:
    worker = ctx.users[Role.COMMUNITY_WORKER]
    grid_worker = ctx.users[Role.GRID_WORKER]
    users = list(
        User.objects.filter(resident__community=ctx.main, resident__is_active=True)
        .exclude(username="resident")
        .order_by("id")[:110]
    )
    _satisfaction(ctx, users, worker)
    _needs(ctx, users, worker, grid_worker)
    services.survey_from_template(
        actor=worker, community=ctx.main, template="activity", idempotency_key="demo-activity"
    )
    _wishes(ctx, worker, grid_worker)
