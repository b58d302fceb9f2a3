"""The questionnaires shipped with Linli: the monthly satisfaction survey (it feeds the
satisfaction indicator of the assessment, SPEC §8), a needs survey and an activity
feedback form. Staff start a draft from one and adapt it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.surveys.logic import QuestionSpec
from linli.surveys.models import SurveyKind

SATISFIED = ["非常不满意", "不满意", "一般", "满意", "非常满意"]


@dataclass(frozen=True)
class Template:
    key: str
    label: Any
    kind: str
    anonymous: bool
    series: str
    description: str
    make_title: Callable[[], str]
    make_questions: Callable[[], list[QuestionSpec]]
    pages: list[dict[str, Any]] = field(default_factory=list)

    def title(self) -> str:
        return self.make_title()

    def questions(self) -> list[QuestionSpec]:
        return self.make_questions()


def _satisfaction() -> list[QuestionSpec]:
    return [
        QuestionSpec("overall", "rating", "您对本月社区工作的总体满意度", page=1),
        QuestionSpec(
            "aspects",
            "matrix",
            "请为以下方面打分",
            page=1,
            rows=["环境卫生", "治安秩序", "物业服务", "办事效率", "邻里活动"],
            options=list(SATISFIED),
        ),
        QuestionSpec(
            "why_low",
            "text",
            "您不满意的主要原因是什么？",
            page=2,
            required=False,
            max_length=300,
            condition={"q": "overall", "op": "lt", "value": 3, "then": "show"},
        ),
        QuestionSpec("building", "building", "您住在哪一幢？", page=2, required=False),
        QuestionSpec("suggest", "text", "您对社区还有什么建议？", page=2, required=False),
    ]


def _needs() -> list[QuestionSpec]:
    return [
        QuestionSpec(
            "services",
            "multiple",
            "您最希望社区提供哪些服务？（最多选3项）",
            options=["老年助餐", "儿童托管", "健康义诊", "法律咨询", "家电维修", "文体活动"],
            min_choices=1,
            max_choices=3,
        ),
        QuestionSpec(
            "has_elderly",
            "single",
            "家中是否有70岁以上的老人？",
            options=["有", "没有"],
            jumps=[{"op": "eq", "value": 2, "to": "priority"}],
        ),
        QuestionSpec(
            "elderly_help",
            "multiple",
            "老人最需要哪些帮助？",
            options=["上门探访", "代买代办", "陪同就医", "智能手机教学"],
        ),
        QuestionSpec(
            "priority",
            "ranking",
            "请为下列改造项目排序（最需要的排第一）",
            page=2,
            options=["加装电梯", "停车位", "充电桩", "健身场地"],
        ),
        QuestionSpec(
            "hours",
            "number",
            "您每周能参与志愿服务几小时？",
            page=2,
            min_value=0,
            max_value=40,
            required=False,
        ),
        QuestionSpec("other", "text", "还有什么需求？", page=2, required=False),
    ]


def _activity() -> list[QuestionSpec]:
    return [
        QuestionSpec(
            "attended",
            "single",
            "您参加了这次活动吗？",
            options=["参加了", "没参加"],
            jumps=[{"op": "eq", "value": 2, "to": "why_not"}],
        ),
        QuestionSpec("rating", "rating", "您对这次活动的评价"),
        QuestionSpec("liked", "text", "最喜欢的环节是什么？", required=False),
        QuestionSpec(
            "why_not",
            "single",
            "没参加的原因",
            options=["时间不合适", "不感兴趣", "不知道活动"],
            condition={"q": "attended", "op": "eq", "value": 2, "then": "show"},
        ),
        QuestionSpec("next_date", "date", "您希望下次活动在哪天举行？", required=False),
    ]


TEMPLATES: dict[str, Template] = {
    "satisfaction": Template(
        key="satisfaction",
        label=gettext_lazy("月度满意度测评"),
        kind=SurveyKind.SATISFACTION,
        anonymous=True,
        series="monthly-satisfaction",
        description="每月一次的居民满意度测评，结果计入社区考核的满意度指标。",
        make_title=lambda: (
            _("%(y)s年%(m)s月居民满意度测评")
            % {"y": timezone.localdate().year, "m": timezone.localdate().month}
        ),
        make_questions=_satisfaction,
        pages=[{"title": "总体评价"}, {"title": "意见建议"}],
    ),
    "needs": Template(
        key="needs",
        label=gettext_lazy("居民需求调研"),
        kind=SurveyKind.NEEDS,
        anonymous=False,
        series="",
        description="了解居民最需要的服务和改造项目，作为年度为民办实事项目的依据。",
        make_title=lambda: _("居民需求调研"),
        make_questions=_needs,
        pages=[{"title": "服务需求"}, {"title": "改造项目"}],
    ),
    "activity": Template(
        key="activity",
        label=gettext_lazy("活动反馈"),
        kind=SurveyKind.ACTIVITY,
        anonymous=True,
        series="",
        description="活动结束后收集参与者的评价和建议。",
        make_title=lambda: _("活动反馈"),
        make_questions=_activity,
    ),
}
