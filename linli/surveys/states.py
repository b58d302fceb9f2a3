"""The surveys app's state machines, declared once with :mod:`linli.core.transitions`.

* ``SURVEY`` — 草稿 (draft) → 进行中 (open) → 已结束 (closed) → 结果已公布 (published);
  closed → open again while the closing time has not passed. Answering is a self-loop
  on ``open`` (``answer`` for oneself, ``answer_for`` by staff entering a paper or
  phone answer, 代办): it changes no state, but it is the one place that says who may
  answer when, so the page's form and the service agree.
* ``WISH`` — 待审核 (submitted) → 待认领 (published, by staff, with a text free of
  personal details) → 已认领 (claimed by a volunteer or partner) → 已圆梦待确认
  (fulfilled, with a photo) → 心愿已实现 (confirmed by the wisher). Staff may reject a
  submitted wish; a claimer may release the claim; the wisher may withdraw it until
  it is claimed.

Services change these fields only through ``<machine>.apply``; pages take their buttons
from ``can`` / ``flags``; the permission-matrix tests iterate over the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.scope import scope_of
from linli.core.errors import DomainError, InvalidTransition, ValidationFailed
from linli.core.transitions import Machine, is_system, predicate, transition
from linli.core.types import Actor
from linli.surveys.models import Audience, Group, Survey, SurveyStatus, Wish, WishStatus
from linli.surveys.permissions import (
    MANAGER_ROLES,
    PARTNER_ROLES,
    PROXY_ROLES,
    RESULT_ROLES,
    community_ids,
)

S = SurveyStatus
W = WishStatus
ELDERLY_AGE = 60

# --------------------------------------------------------------------------- audience


def in_audience(resident_id: int | None, survey: Survey) -> bool:
    """Is this resident among the people the survey asks? (Public surveys: anyone.)
    One small query per group; cached on the survey object for the request."""
    if survey.audience == Audience.PUBLIC:
        return True
    if resident_id is None:
        return False
    memo: dict[int, bool] = survey.__dict__.setdefault("_audience_memo", {})
    if resident_id in memo:
        return memo[resident_id]
    from linli.communities.models import Resident

    r = (
        Resident.objects.filter(pk=resident_id, community_id=survey.community_id, is_active=True)
        .values("household__building_id", "birth_year")
        .first()
    )
    if r is not None:
        survey.__dict__.setdefault("_resident_rows", {})[resident_id] = r
    ok = r is not None
    if ok and survey.audience == Audience.BUILDINGS:
        ok = r is not None and r["household__building_id"] in set(survey.audience_buildings)
    elif ok and survey.audience == Audience.GROUPS:
        ok = any(_in_group(resident_id, survey.community_id, g, r) for g in survey.audience_groups)
    memo[resident_id] = ok
    return ok


def _in_group(
    resident_id: int, community_id: int, group: str, row: Mapping[str, Any] | None
) -> bool:
    if group == Group.ELDERLY:
        return row is not None and date.today().year - row["birth_year"] >= ELDERLY_AGE
    if group == Group.COUNCIL:
        from linli.deliberation.models import CouncilMember

        return CouncilMember.objects.filter(
            community_id=community_id, resident_id=resident_id, is_active=True
        ).exists()
    if group == Group.VOLUNTEERS:
        from linli.volunteers.models import VolunteerProfile

        return VolunteerProfile.objects.filter(
            community_id=community_id, resident_id=resident_id, is_active=True
        ).exists()
    return False


# --------------------------------------------------------------------------- predicates


@predicate
def manages(actor: Actor, obj: Survey) -> bool:
    return obj.community_id in community_ids(actor, MANAGER_ROLES)


@predicate
def proxies(actor: Actor, obj: Survey) -> bool:
    return obj.community_id in community_ids(actor, PROXY_ROLES)


@predicate
def reads_results(actor: Actor, obj: Survey) -> bool:
    return obj.community_id in community_ids(actor, RESULT_ROLES)


@predicate
def may_answer(actor: Actor, survey: Survey) -> bool:
    """A resident in the survey's audience; anyone at all for a public link."""
    if survey.audience == Audience.PUBLIC:
        return True
    scope = scope_of(actor)
    return scope.community_id == survey.community_id and in_audience(scope.resident_id, survey)


@predicate
def sees_survey(actor: Actor, survey: Survey) -> bool:
    """Staff of the community see every survey; residents in the audience (anyone, for
    a public link) see it once it has opened (a draft is the staff's)."""
    if reads_results(actor, survey) or proxies(actor, survey):
        return True
    if survey.status == S.DRAFT:
        return False
    # A public-link survey is open to anyone who has the link.
    return may_answer(actor, survey)


def in_window(actor: Actor, survey: Survey) -> DomainError | None:
    now = timezone.now()
    if survey.opens_at is not None and now < survey.opens_at:
        return InvalidTransition(_("问卷尚未开始，请在开始时间后再填写。"))
    if survey.closes_at is not None and now >= survey.closes_at:
        return InvalidTransition(_("问卷已截止，不能再提交答卷。"))
    return None


def can_open(actor: Actor, survey: Survey) -> DomainError | None:
    from linli.surveys.logic import QuestionSpec, validate_definition

    specs = [QuestionSpec.from_obj(q) for q in survey.questions.all()]
    if not specs:
        return ValidationFailed(_("问卷还没有题目，不能发布。"))
    try:
        validate_definition(specs, survey.pages or [], anonymous=survey.anonymous)
    except ValidationFailed as exc:
        return exc
    if survey.closes_at is not None and survey.closes_at <= timezone.now():
        return ValidationFailed(_("截止时间已过，请先修改截止时间。"), field="closes_at")
    return None


def not_past_close(actor: Actor, survey: Survey) -> DomainError | None:
    if survey.closes_at is not None and survey.closes_at <= timezone.now():
        return InvalidTransition(_("截止时间已过，不能重新开放；请复制问卷另行发布。"))
    return None


SURVEY: Machine[Survey] = Machine(
    name="surveys.survey",
    model=Survey,
    transitions=[
        transition(
            "open", gettext_lazy("发布问卷"), [S.DRAFT], S.OPEN, who=manages, guard=can_open
        ),
        transition("close", gettext_lazy("结束问卷"), [S.OPEN], S.CLOSED, who=manages | is_system),
        transition(
            "reopen",
            gettext_lazy("重新开放"),
            [S.CLOSED],
            S.OPEN,
            who=manages,
            guard=not_past_close,
        ),
        transition(
            "publish_results", gettext_lazy("公布结果"), [S.CLOSED], S.PUBLISHED, who=manages
        ),
        transition(
            "answer",
            gettext_lazy("填写问卷"),
            [S.OPEN],
            S.OPEN,
            who=may_answer,
            guard=in_window,
            forbidden=gettext_lazy("您不在本问卷的调查范围内。"),
        ),
        transition(
            "answer_for", gettext_lazy("代录答卷"), [S.OPEN], S.OPEN, who=proxies, guard=in_window
        ),
    ],
    visible=sees_survey,
    state_label=lambda s: str(s.get_status_display()),
)

ANSWER_ACTIONS = ("answer", "answer_for")

# --------------------------------------------------------------------------- wishes


@predicate
def manages_wish(actor: Actor, wish: Wish) -> bool:
    return wish.community_id in community_ids(actor, MANAGER_ROLES)


@predicate
def proxies_wish(actor: Actor, wish: Wish) -> bool:
    return wish.community_id in community_ids(actor, PROXY_ROLES)


@predicate
def own_wish(actor: Actor, wish: Wish) -> bool:
    rid = scope_of(actor).resident_id
    return rid is not None and rid == wish.wisher_id


@predicate
def claimer(actor: Actor, wish: Wish) -> bool:
    return wish.claimed_by_id is not None and wish.claimed_by_id == getattr(actor, "pk", None)


def is_volunteer(actor: Actor, community_id: int) -> bool:
    from linli.volunteers.models import VolunteerProfile

    scope = scope_of(actor)
    if scope.resident_id is None or scope.community_id != community_id:
        return False
    memo: dict[int, bool] = scope.__dict__.setdefault("_surveys_volunteer", {})
    if community_id not in memo:
        memo[community_id] = VolunteerProfile.objects.filter(
            community_id=community_id, resident_id=scope.resident_id, is_active=True
        ).exists()
    return memo[community_id]


@predicate
def may_claim(actor: Actor, wish: Wish) -> bool:
    """A volunteer of the community (not the wisher) or a partner organisation's staff."""
    if own_wish(actor, wish):
        return False
    return is_volunteer(actor, wish.community_id) or wish.community_id in community_ids(
        actor, PARTNER_ROLES
    )


@predicate
def sees_wish(actor: Actor, wish: Wish) -> bool:
    if own_wish(actor, wish) or proxies_wish(actor, wish) or claimer(actor, wish):
        return True
    if wish.status not in (W.PUBLISHED, W.CLAIMED, W.FULFILLED, W.CONFIRMED):
        return False
    scope = scope_of(actor)
    return scope.community_id == wish.community_id or wish.community_id in community_ids(
        actor, PARTNER_ROLES
    )


WISH: Machine[Wish] = Machine(
    name="surveys.wish",
    model=Wish,
    transitions=[
        transition(
            "publish", gettext_lazy("审核通过并公开"), [W.SUBMITTED], W.PUBLISHED, who=manages_wish
        ),
        transition(
            "reject",
            gettext_lazy("不予公开"),
            [W.SUBMITTED],
            W.REJECTED,
            who=manages_wish,
            reason_required=True,
        ),
        transition(
            "withdraw",
            gettext_lazy("撤回心愿"),
            [W.SUBMITTED, W.PUBLISHED],
            W.WITHDRAWN,
            who=own_wish | proxies_wish,
        ),
        transition(
            "claim",
            gettext_lazy("认领心愿"),
            [W.PUBLISHED],
            W.CLAIMED,
            who=may_claim,
            forbidden=gettext_lazy("只有本社区的志愿者或共建单位可以认领心愿。"),
        ),
        transition(
            "release",
            gettext_lazy("放弃认领"),
            [W.CLAIMED],
            W.PUBLISHED,
            who=claimer | manages_wish,
        ),
        transition("fulfil", gettext_lazy("完成心愿"), [W.CLAIMED], W.FULFILLED, who=claimer),
        transition(
            "confirm",
            gettext_lazy("确认心愿已实现"),
            [W.FULFILLED],
            W.CONFIRMED,
            who=own_wish | proxies_wish,
        ),
    ],
    visible=sees_wish,
    state_label=lambda w: str(w.get_status_display()),
)

__all__ = ["ANSWER_ACTIONS", "SURVEY", "WISH", "in_audience"]
