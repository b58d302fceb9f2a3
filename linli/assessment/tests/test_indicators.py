"""Each indicator of a month against the count worked out by hand from the records
made in ``conftest.march`` (and below): requests, the satisfaction survey, expert
scores, participation, conflict resolution, awareness, deliberation normativity,
openness and the integrity count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.assessment import indicators
from linli.assessment.models import ExpertScore
from linli.assessment.tests.conftest import AT, MARCH
from linli.communities.models import Household, Resident
from linli.deliberation.models import Council, Meeting, Topic, TopicComment, TopicTransition
from linli.mediation.models import Case
from linli.notices.models import Notice, NoticeRead
from linli.requests import stats
from linli.requests.models import EventKind, RequestEvent
from linli.surveys.models import Question, Survey, Tally
from linli.surveys.services.answers import ANSWERED


def _survey(world: Any) -> None:
    s = Survey.objects.create(
        community=world.community,
        title="3月满意度",
        kind="satisfaction",
        status="closed",
        opens_at=AT - timedelta(days=5),
        closes_at=AT + timedelta(days=5),
    )
    q = Question.objects.create(
        community=world.community, survey=s, position=1, code="q1", kind="rating", text="总体满意度"
    )
    for option, n in ((ANSWERED, 10), (5, 4), (4, 3), (2, 3)):
        Tally.objects.create(community=world.community, survey=s, question=q, option=option, n=n)


def _people(world: Any) -> None:
    hh = Household.objects.get(building=world.building, room="101")
    Resident.objects.create(
        community=world.community, grid=world.grid, household=hh, name="王老", birth_year=1950
    )
    Resident.objects.create(
        community=world.community, grid=world.grid, household=hh, name="小明", birth_year=2015
    )


def _mediation(world: Any) -> None:
    common = {
        "community": world.community,
        "kind": "noise",
        "title": "噪音",
        "facts": "楼上噪音",
        "channel": "visit",
        "opened_by": world.user("worker"),
        "opened_at": AT,
    }
    Case.objects.create(
        **common,
        status="closed",
        outcome="agreement",
        closed_at=AT + timedelta(days=3),
        agreement_effective_on=(AT + timedelta(days=3)).date(),
    )
    Case.objects.create(**common)


def _notice(world: Any) -> None:
    n = Notice.objects.create(
        community=world.community,
        title="停水通知",
        body="周五停水",
        summary="周五停水",
        audience="community",
        channels=["web"],
        status="published",
        publish_at=AT,
        created_by=world.user("worker"),
    )
    NoticeRead.objects.create(
        community=world.community,
        notice=n,
        user=world.user("resident"),
        resident=world.residents["resident"],
    )
    NoticeRead.objects.create(  # staff reads do not count
        community=world.community, notice=n, user=world.user("worker")
    )


def _deliberation(world: Any) -> None:
    t = Topic.objects.create(
        community=world.community,
        title="加装电梯",
        description="说明",
        source="resident",
        proposer=world.user("resident"),
        step="publicised",
        published_at=AT + timedelta(days=4),
        objections_until=AT + timedelta(days=11),
    )
    steps = ["proposed", "discussing", "reviewing", "resolving", "publicised"]
    for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False)):
        TopicTransition.objects.create(
            community=world.community,
            topic=t,
            from_step=a,
            to_step=b,
            actor=world.user("secretary"),
            at=AT + timedelta(days=i),
        )
    TopicComment.objects.create(
        community=world.community,
        topic=t,
        author=world.user("neighbour"),
        resident=world.residents["neighbour"],
        body="同意",
    )
    council = Council.objects.create(community=world.community, kind="council", name="议事会")
    Meeting.objects.create(
        community=world.community,
        council=council,
        title="三月议事会",
        mode="offline",
        starts_at=AT,
        ends_at=AT + timedelta(hours=2),
        status="held",
        minutes="纪要",
        concluded_at=AT + timedelta(days=5),  # minutes late: not on time
    )


def _integrity(world: Any, march: Any) -> None:
    r1, r2, r3 = march.requests[:3]
    RequestEvent.objects.create(
        request=r1,
        community=world.community,
        at=AT,
        kind=EventKind.RECATEGORISED,
        actor=world.user("secretary"),
        note="改类",
    )
    RequestEvent.objects.create(  # auto-closed: no actor
        request=r2,
        community=world.community,
        at=AT + timedelta(days=9),
        kind=EventKind.TRANSITION,
        from_status="resolved",
        to_status="closed",
    )
    RequestEvent.objects.create(  # closed by the resident's rating
        request=r3,
        community=world.community,
        at=AT + timedelta(days=3),
        kind=EventKind.TRANSITION,
        from_status="resolved",
        to_status="closed",
        actor=world.user("resident"),
    )


def test_month_figures_match_hand_counts(world: Any, march: Any) -> None:
    _survey(world)
    _people(world)
    _mediation(world)
    _notice(world)
    _deliberation(world)
    _integrity(world, march)
    ExpertScore.objects.create(
        community=world.community,
        month=MARCH,
        kind="professional",
        score=70,
        basis="检查",
        assessor=world.user("street_officer"),
    )
    stats.refresh(community_ids=[world.community.pk])
    data = indicators.month_figures([world.community.pk, world.other_community.pk], MARCH)
    f = data.figures[world.community.pk]
    expected = {
        "req_total": 6,
        "req_responded": 3,
        "req_resolved": 4,
        "req_on_time": 3,
        "req_rated": 3,
        "req_good": 2,
        "survey_n": 10,
        "survey_good": 7,
        "sat_n": 13,
        "sat_good": 9,
        "expert_n": 1,
        "expert_sum": 70,
        "participants": 2,  # 张三 (reported), 李四 (reported, commented)
        "adults": 3,  # 张三, 李四, 王老 — not 小明 (born 2015)
        "conflict_settled": 2,  # one agreement + one resolved dispute request
        "conflict_n": 4,
        "aware_read": 1,
        "aware_audience": 4,  # every active resident of the community
        "topics_normative": 1,
        "topics_done": 1,
        "disclosed_on_time": 1,  # the topic; the meeting's minutes came 5 days late
        "disclosures_due": 2,
        "integrity_n": 2,  # one 改类, one auto-close
        "integrity_base": 2,  # two closings in the month
    }
    assert {k: f[k] for k in expected} == expected
    # The other community had nothing.
    assert all(v == 0 for k, v in data.figures[world.other_community.pk].items() if k != "adults")
    d = data.detail[world.community.pk]
    assert d["buildings"][str(world.building.pk)][0] == 6
    assert d["funnel"][:3] == [3, 2, 2]  # adults, with an account, took part
    assert sum(d["sla"]) == 4 and d["sla"][1] == 4  # all resolved in 2 days: the 1–3 day bucket
    assert sum(d["categories"].values()) == 6


def test_integrity_items_list_each_change(world: Any, march: Any) -> None:
    _integrity(world, march)
    start, end = indicators.month_range(MARCH)
    items = indicators.integrity_items([world.community.pk], start, end)
    assert sorted(i.kind for i in items) == ["auto_closed", "recategorised"]
    assert {i.ref for i in items} == {
        f"request:{march.requests[0].pk}",
        f"request:{march.requests[1].pk}",
    }
