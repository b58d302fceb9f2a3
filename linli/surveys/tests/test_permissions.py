"""Role × state matrices for surveys and wishes, driven off the machines' tables: for
every user of the world fixture, every state and every action, ``machine.can`` agrees
with the rule written out here, and the service accepts exactly then."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import WORLD_USERS
from linli.core.errors import DomainError
from linli.surveys import services
from linli.surveys.models import Question, Survey, SurveyStatus, Wish, WishClaim, WishStatus
from linli.surveys.states import SURVEY, WISH
from linli.surveys.tests.conftest import GOOD, skip_specs

pytestmark = pytest.mark.django_db

MANAGERS = {"worker", "secretary", "platform_admin"}
PROXIES = MANAGERS | {"grid_worker", "grid2_worker", "liaison"}
RESIDENTS = {"resident", "neighbour"}

SURVEY_RULES: dict[str, tuple[set[str], set[str]]] = {
    "open": (MANAGERS, {SurveyStatus.DRAFT}),
    "close": (MANAGERS, {SurveyStatus.OPEN}),
    "reopen": (MANAGERS, {SurveyStatus.CLOSED}),
    "publish_results": (MANAGERS, {SurveyStatus.CLOSED}),
    "answer": (RESIDENTS, {SurveyStatus.OPEN}),
    "answer_for": (PROXIES, {SurveyStatus.OPEN}),
}


def _survey(world: Any, status: str) -> Survey:
    s = Survey.objects.create(community=world.community, title="矩阵测试", status=status)
    Question.objects.bulk_create(
        [
            Question(
                community=world.community,
                survey=s,
                position=i + 1,
                **{k: v for k, v in q.as_dict().items()},
            )
            for i, q in enumerate(skip_specs())
        ]
    )
    return s


def test_survey_table_is_covered() -> None:
    assert set(SURVEY_RULES) == set(SURVEY.table)


@pytest.mark.parametrize("status", [s.value for s in SurveyStatus])
def test_survey_matrix(world: Any, status: str) -> None:
    s = _survey(world, status)
    for who in WORLD_USERS:
        user = world.users[who]
        for action, (roles, states) in SURVEY_RULES.items():
            expected = who in roles and status in states
            assert SURVEY.can(user, s, action) is expected, (who, status, action)


@pytest.mark.parametrize("status", [s.value for s in SurveyStatus])
def test_survey_services_agree(world: Any, status: str) -> None:
    fns = {
        "open": services.survey_open,
        "close": services.survey_close,
        "reopen": services.survey_reopen,
        "publish_results": services.survey_publish_results,
    }
    for who in WORLD_USERS:
        user = world.users[who]
        for action, fn in fns.items():
            s = _survey(world, status)
            allowed = SURVEY.can(user, s, action)
            try:
                fn(actor=user, survey=s)
                done = True
            except DomainError:
                done = False
            assert done is allowed, (who, status, action)
        s = _survey(world, status)
        allowed = SURVEY.can(user, s, "answer")
        try:
            services.survey_answer(actor=user, survey=s, answers=GOOD)
            done = True
        except DomainError:
            done = False
        assert done is allowed, (who, status, "answer")


WISH_RULES: dict[str, tuple[set[str], set[str]]] = {
    "publish": (MANAGERS, {WishStatus.SUBMITTED}),
    "reject": (MANAGERS, {WishStatus.SUBMITTED}),
    "withdraw": (PROXIES | {"resident"}, {WishStatus.SUBMITTED, WishStatus.PUBLISHED}),
    # The neighbour is a volunteer; social_org and property are partners.
    "claim": ({"neighbour", "social_org", "property", "platform_admin"}, {WishStatus.PUBLISHED}),
    "release": (MANAGERS | {"neighbour"}, {WishStatus.CLAIMED}),
    "fulfil": ({"neighbour"}, {WishStatus.CLAIMED}),
    "confirm": (PROXIES | {"resident"}, {WishStatus.FULFILLED}),
}


def _wish(world: Any, status: str) -> Wish:
    claimed = status in (WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.CONFIRMED)
    w = Wish.objects.create(
        community=world.community,
        wisher=world.residents["resident"],
        group="elderly",
        title="想要棉衣",
        public_title="冬衣" if status != WishStatus.SUBMITTED else "",
        status=status,
        channel="web",
        claimed_by=world.users["neighbour"] if claimed else None,
    )
    if claimed:
        WishClaim.objects.create(
            community=world.community, wish=w, claimer=world.users["neighbour"]
        )
    return w


def test_wish_table_is_covered() -> None:
    assert set(WISH_RULES) == set(WISH.table)


@pytest.mark.parametrize("status", [s.value for s in WishStatus])
def test_wish_matrix(world: Any, status: str) -> None:
    from linli.volunteers.models import VolunteerProfile

    VolunteerProfile.objects.create(
        community=world.community, resident=world.residents["neighbour"]
    )
    w = _wish(world, status)
    for who in WORLD_USERS:
        user = world.users[who]
        for action, (roles, states) in WISH_RULES.items():
            expected = who in roles and status in states
            assert WISH.can(user, w, action) is expected, (who, status, action)


@pytest.mark.parametrize(
    "status", [WishStatus.PUBLISHED, WishStatus.SUBMITTED, WishStatus.FULFILLED]
)
def test_wish_services_agree(world: Any, status: str) -> None:
    from linli.volunteers.models import VolunteerProfile

    VolunteerProfile.objects.create(
        community=world.community, resident=world.residents["neighbour"]
    )
    fns = {
        "claim": lambda u, w: services.wish_claim(actor=u, wish=w),
        "withdraw": lambda u, w: services.wish_withdraw(actor=u, wish=w),
        "confirm": lambda u, w: services.wish_confirm(actor=u, wish=w, channel="phone"),
        "publish": lambda u, w: services.wish_publish(actor=u, wish=w, public_title="冬衣"),
    }
    for who in WORLD_USERS:
        user = world.users[who]
        for action, fn in fns.items():
            w = _wish(world, status)
            allowed = WISH.can(user, w, action)
            try:
                fn(user, w)
                done = True
            except DomainError:
                done = False
            assert done is allowed, (who, status, action)
