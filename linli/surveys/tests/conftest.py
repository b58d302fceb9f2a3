"""Helpers for the surveys tests: a small survey with skip logic, opened."""

from __future__ import annotations

from typing import Any

import pytest

from linli.surveys import services
from linli.surveys.logic import QuestionSpec
from linli.surveys.models import Survey


def skip_specs() -> list[QuestionSpec]:
    return [
        QuestionSpec(
            "q1",
            "single",
            "您家有老人吗？",
            options=["有", "没有"],
            jumps=[{"op": "eq", "value": 2, "to": "q4"}],
        ),
        QuestionSpec("q2", "rating", "助老服务满意度"),
        QuestionSpec(
            "q3", "multiple", "需要哪些帮助", options=["助餐", "探访", "就医"], max_choices=2
        ),
        QuestionSpec(
            "q4",
            "matrix",
            "环境评价",
            page=2,
            rows=["卫生", "绿化"],
            options=["差", "中", "好"],
        ),
        QuestionSpec("q5", "text", "建议", page=2, required=False, max_length=50),
        QuestionSpec(
            "q6",
            "number",
            "家里几口人",
            page=2,
            required=False,
            min_value=1,
            max_value=20,
            condition={"q": "q1", "op": "eq", "value": 1, "then": "show"},
        ),
    ]


def make_survey(world: Any, *, anonymous: bool = True, open_it: bool = True, **kw: Any) -> Survey:
    settings = services.Settings(title=kw.pop("title", "测试问卷"), anonymous=anonymous, **kw)
    s = services.survey_create(
        actor=world.users["worker"],
        community=world.community,
        settings=settings,
        questions=skip_specs(),
        pages=[{"title": "第一部分"}, {"title": "第二部分"}],
    )
    if open_it:
        services.survey_open(actor=world.users["worker"], survey=s)
    return s


GOOD = {
    "q1": "1",
    "q2": "4",
    "q3": ["1", "2"],
    "q4": {"1": "3", "2": "2"},
    "q5": "楼道灯坏了希望维修",
}


@pytest.fixture
def survey(world: Any) -> Survey:
    return make_survey(world)


def crowd(world: Any, n: int, *, building: Any = None, birth_year: int = 1980) -> list[Any]:
    """``n`` residents of the community without accounts (they answer on paper)."""
    from conftest import make_household, make_resident

    b = building or world.building
    out: list[Any] = []
    for i in range(n):
        h = make_household(b, f"{birth_year % 100}{len(out)}{i:02d}{b.pk}")
        out.append(make_resident(h, f"居民{i}", birth_year=birth_year))
    return out


def paper(world: Any, survey: Survey, resident: Any, answers: dict[str, Any]) -> Any:
    return services.survey_answer(
        actor=world.users["grid_worker"],
        survey=survey,
        answers=answers,
        resident=resident,
        channel="paper",
    )
