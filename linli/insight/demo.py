"""Demo for 阳光社区: two long, rambling reports (the staff list shows their summaries;
one was filed under the wrong category and the worker corrects it and moves it, 改类),
the newest open requests get their category suggestion (what the triage panel shows),
and the community worker records a few corrections through the service — the start of
the history a community model is retrained from."""

from __future__ import annotations

from linli.accounts.models import Role
from linli.core.demo import DemoContext
from linli.core.types import Actor
from linli.insight.models import Correction
from linli.insight.services import correction_record, suggestion_for
from linli.requests import catalog
from linli.requests.models import OPEN_STATUSES, ServiceRequest
from linli.requests.services import request_submit

SUGGESTED = 12
CORRECTED = 4


LONG_LIFT = (
    "您好，我是{b}的老住户了，在这里住了快二十年，一直觉得小区挺好的，物业也算负责。"
    "今天下午带孙子从幼儿园回来，结果电梯走到一半突然停了，我们祖孙俩在里面关了二十多分钟才出来，"
    "按了警铃半天也没人应，孩子吓得直哭。我家住十六楼，腿脚又不好，麻烦尽快派人来看看。"
)
LONG_WATER = (
    "社区的同志你们好，跟你们反映个事。最近一个礼拜，每天早上六点到九点，"
    "{b}家里的水龙头一拧开就只有细细一点水，热水器都点不着火，洗漱做饭都耽误，"
    "问了楼上楼下都一样。物业电话打过两次，说是在查，也没个准话。"
)


def _long_reports(ctx: DemoContext, worker: Actor) -> None:
    user = ctx.users[Role.RESIDENT]
    home = user.resident.household.building
    request_submit(
        actor=user,
        category=catalog.active_by_code("fac-elevator"),
        building=home,
        description=LONG_LIFT.format(b=home.name),
    )
    # Filed under 物业服务质量 by the resident; the worker records the right leaf and
    # moves the request with a reason (the correction form's 改类).
    wrong = request_submit(
        actor=user,
        category=catalog.active_by_code("ho-service"),
        building=home,
        description=LONG_WATER.format(b=home.name),
    )
    correction_record(
        actor=worker,
        request=wrong,
        category_code="fac-water",
        recategorise_reason="描述的是早高峰水压不足，属于供水问题，原类别选成了物业服务",
    )


def seed(ctx: DemoContext) -> None:
    worker = ctx.users[Role.COMMUNITY_WORKER]
    _long_reports(ctx, worker)
    reqs = list(
        ServiceRequest.objects.filter(community=ctx.main, status__in=list(OPEN_STATUSES))
        .select_related("category", "community")
        .order_by("-created_at", "-id")[:SUGGESTED]
    )
    done = 0
    corrected = set(
        Correction.objects.filter(community=ctx.main).values_list("request_id", flat=True)
    )
    for req in reqs:
        sug = suggestion_for(req)
        if done < CORRECTED and sug.category_code and req.pk not in corrected:
            # The worker confirms or corrects: the request's own category is the label
            # (the demo texts were written for their categories).
            correction_record(actor=worker, request=req, category_code=req.category.code)
            done += 1
