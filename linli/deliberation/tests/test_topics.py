"""The five steps as a state machine: no skipping, reasons on rejection, who/when
recorded with an audit event; comments only in 商议; the vote in 决议."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.core import ratelimit
from linli.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.deliberation.models import Topic, TopicTransition
from linli.deliberation.services import (
    TRANSITIONS,
    action_item_create,
    objection_answer,
    objection_file,
    review_note_add,
    topic_accept,
    topic_close,
    topic_comment,
    topic_open_vote,
    topic_propose,
    topic_publicise,
    topic_reject,
    topic_submit_for_review,
    topic_transition,
)
from linli.deliberation.tests.conftest import future
from linli.voting.models import Ballot
from linli.voting.services import ballot_close, vote_cast

pytestmark = pytest.mark.django_db
S = Topic.Step


def propose(w, title="加装电梯"):
    return topic_propose(
        actor=w.user("resident"),
        community=w.community,
        title=title,
        description="3幢老人多，上下楼困难，建议加装电梯，费用按楼层分摊。",
    )


def review_all(topic, actor):
    for aspect in ["feasibility", "budget", "law"]:
        review_note_add(
            actor=actor, topic=topic, aspect=aspect, conclusion="ok", body="已核实，可行。"
        )


def test_skipping_from_proposed_to_resolving_is_refused(world):
    topic = propose(world)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition) as exc:
        topic_open_vote(
            actor=world.user("secretary"), topic=topic, opens_at=timezone.now(), closes_at=future(3)
        )
    assert "不能跳过步骤" in str(exc.value.message) and "「提议」" in str(exc.value.message)
    topic.refresh_from_db()
    assert topic.step == S.PROPOSED
    assert not Ballot.objects.exists()
    assert AuditEvent.objects.count() == events
    for to in [S.REVIEWING, S.CLOSED]:
        with pytest.raises(InvalidTransition):
            topic_transition(actor=world.user("secretary"), topic=topic, to=to)


def test_transition_table_is_the_only_way(world):
    """Every (from, to) pair not in the table is refused by topic_transition."""
    sec = world.user("secretary")
    for frm in S.values:
        for to in S.values:
            if (frm, to) in TRANSITIONS or to in (S.RESOLVING, S.PUBLICISED):
                continue
            with ratelimit.suspended():  # dozens of topics by one proposer: set-up only
                t = propose(world, f"议题{frm}{to}")
            now = timezone.now()
            Topic.objects.filter(pk=t.pk).update(
                step=frm, published_at=now, objections_until=now + timedelta(days=7)
            )
            t.refresh_from_db()
            with pytest.raises(InvalidTransition):
                topic_transition(actor=sec, topic=t, to=to)
            t.refresh_from_db()
            assert t.step == frm


def test_rejection_needs_a_reason(world):
    topic = propose(world)
    with pytest.raises(ValidationFailed, match="理由"):
        topic_reject(actor=world.user("secretary"), topic=topic, reason="  ")
    topic_reject(actor=world.user("secretary"), topic=topic, reason="属于物业合同范围，转物业处理")
    topic.refresh_from_db()
    assert topic.step == S.REJECTED
    tr = TopicTransition.objects.get(topic=topic)
    assert tr.reason.startswith("属于物业") and tr.actor == world.user("secretary")


def test_full_path_through_five_steps_with_council_vote(cw):
    w = cw.w
    sec = w.user("secretary")
    topic = propose(w)
    with pytest.raises(InvalidTransition, match="商议"):
        topic_comment(actor=w.user("neighbour"), topic=topic, body="支持！")
    topic_accept(actor=sec, topic=topic)
    topic_comment(actor=w.user("neighbour"), topic=topic, body="支持，低楼层也愿意分担一部分。")
    with pytest.raises(PermissionDenied):
        topic_comment(actor=w.user("stranger"), topic=topic, body="外社区的意见")
    topic_submit_for_review(actor=sec, topic=topic)
    # Review incomplete → cannot go to the vote.
    review_note_add(
        actor=cw.users[0], topic=topic, aspect="feasibility", conclusion="ok", body="结构可行"
    )
    with pytest.raises(InvalidTransition, match="预算"):
        topic_open_vote(actor=sec, topic=topic, opens_at=timezone.now(), closes_at=future(2))
    assert not Ballot.objects.exists()
    review_all(topic, sec)
    topic_open_vote(
        actor=sec, topic=topic, opens_at=timezone.now() - timedelta(minutes=1), closes_at=future(2)
    )
    topic.refresh_from_db()
    assert topic.step == S.RESOLVING and topic.ballot is not None
    ballot = topic.ballot
    assert ballot.eligibility == "council" and ballot.validity_rule == "members_two_thirds"
    assert sorted(ballot.voter_resident_ids) == sorted(r.pk for r in cw.residents)
    assert ballot.source_type == "deliberation.topic" and ballot.source_id == str(topic.pk)
    # Not closed yet → cannot publicise.
    with pytest.raises(InvalidTransition, match="表决尚未结束"):
        topic_publicise(actor=sec, topic=topic, minutes="纪要")
    for u in cw.users[:5]:
        vote_cast(actor=u, ballot=ballot, choices=[0])
    for u in cw.users[5:]:
        vote_cast(actor=u, ballot=ballot, choices=[1])
    ballot_close(actor=sec, ballot=ballot)
    with pytest.raises(ValidationFailed, match="纪要"):
        topic_publicise(actor=sec, topic=topic, minutes="")
    topic_publicise(actor=sec, topic=topic, minutes="7名成员全部参加表决，5票同意。")
    topic.refresh_from_db()
    assert topic.step == S.PUBLICISED and topic.result_passed is True
    assert topic.objections_until - topic.published_at == timedelta(days=7)
    assert topic.result_text
    # Objection window: residents object, staff answer; cannot close early.
    obj = objection_file(actor=w.user("neighbour"), topic=topic, body="分摊比例不合理")
    with pytest.raises(InvalidTransition, match="异议期"):
        topic_close(actor=sec, topic=topic)
    stale = Topic.objects.get(pk=topic.pk)  # loaded while the window is still open
    Topic.objects.filter(pk=topic.pk).update(objections_until=timezone.now() - timedelta(seconds=1))
    # The window closed after the caller loaded the topic: re-checked under the lock.
    with pytest.raises(InvalidTransition, match="公示期"):
        objection_file(actor=w.user("neighbour"), topic=stale, body="迟到的异议")
    topic.refresh_from_db()
    with pytest.raises(PermissionDenied):
        objection_file(actor=w.user("neighbour"), topic=topic, body="又一个异议")
    with pytest.raises(InvalidTransition, match="未答复"):
        topic_close(actor=sec, topic=topic)
    objection_answer(actor=sec, objection=obj, response="按楼层系数分摊，已在纪要中说明。")
    topic_close(actor=sec, topic=topic)
    topic.refresh_from_db()
    assert topic.step == S.CLOSED
    steps = list(TopicTransition.objects.filter(topic=topic).values_list("to_step", flat=True))
    assert steps == [S.DISCUSSING, S.REVIEWING, S.RESOLVING, S.PUBLICISED, S.CLOSED]
    actions = set(
        AuditEvent.objects.filter(
            target_type="deliberation.topic", target_id=str(topic.pk)
        ).values_list("action", flat=True)
    )
    assert "deliberation.topic_transition" in actions
    item = action_item_create(
        actor=sec,
        topic=topic,
        title="招标电梯公司",
        owner_name="社区居委会",
        deadline=timezone.localdate() + timedelta(days=30),
    )
    assert item.status == "open"


def test_failed_vote_publicised_but_no_action_items(cw):
    sec = cw.w.user("secretary")
    topic = propose(cw.w, "停车位划线")
    topic_accept(actor=sec, topic=topic)
    topic_submit_for_review(actor=sec, topic=topic)
    review_all(topic, sec)
    topic_open_vote(
        actor=sec, topic=topic, opens_at=timezone.now() - timedelta(minutes=1), closes_at=future(1)
    )
    topic.refresh_from_db()
    for u in cw.users[:3]:  # 3 of 7 take part: below 2/3 → invalid
        vote_cast(actor=u, ballot=topic.ballot, choices=[0])
    Ballot.objects.filter(pk=topic.ballot_id).update(
        closes_at=timezone.now() - timedelta(seconds=1)
    )
    ballot_close(actor=sec, ballot=topic.ballot)
    topic_publicise(actor=sec, topic=topic, minutes="参与人数不足。")
    topic.refresh_from_db()
    assert topic.result_passed is False
    with pytest.raises(InvalidTransition):
        action_item_create(
            actor=sec, topic=topic, title="划线", owner_name="物业", deadline=timezone.localdate()
        )


def test_only_staff_move_topics_and_wish_source_is_staff_only(world):
    topic = propose(world)
    for key in [
        "resident",
        "neighbour",
        "grid_worker",
        "supervisor",
        "other_secretary",
        "property",
    ]:
        with pytest.raises(PermissionDenied):
            topic_accept(actor=world.user(key), topic=topic)
    with pytest.raises(PermissionDenied):
        topic_propose(
            actor=world.user("resident"),
            community=world.community,
            title="微心愿：修长椅",
            description="小区长椅坏了，老人没地方坐。",
            source="wish",
        )
    t = topic_propose(
        actor=world.user("worker"),
        community=world.community,
        title="微心愿：修长椅",
        description="小区长椅坏了，老人没地方坐。",
        source="wish",
        source_ref="心愿-12",
    )
    assert t.source == "wish"
    with pytest.raises(PermissionDenied):
        topic_propose(
            actor=world.user("stranger"),
            community=world.community,
            title="外社区提议",
            description="我不住这里但是想提议一下。",
        )
