"""Role × state matrices driven off the tables in ``states.py``: for every action of
every machine, who may run it from which state is read from the table itself, and the
pages' buttons (``available``) are exactly the accepted actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import InvalidTransition, PermissionDenied
from linli.deliberation.models import ActionItem, Meeting, ReviewNote, Topic
from linli.deliberation.services import meeting_schedule, topic_propose
from linli.deliberation.states import ACTION_ITEM, MEETING, TOPIC, topic_action_for
from linli.deliberation.tests.conftest import future

pytestmark = pytest.mark.django_db

ROLES = [
    "resident",
    "councillor",
    "stranger",
    "liaison",
    "grid_worker",
    "worker",
    "secretary",
    "other_secretary",
    "street_officer",
    "property",
    "supervisor",
    "platform_admin",
]
# Who runs the council's business (the tables' ``who``): community staff only.
MANAGERS = {"worker", "secretary", "platform_admin"}


@pytest.fixture
def users(cw: Any) -> dict[str, Any]:
    u = {k: cw.w.user(k) for k in ROLES if k != "councillor"}
    u["councillor"] = cw.users[0]
    return u


def _expected(machine: Any, role: str, state: str, action: str, guard_ok: bool) -> type | None:
    t = machine[action]
    if role not in MANAGERS:
        return PermissionDenied
    if state not in t.sources:
        return InvalidTransition
    return None if guard_ok else InvalidTransition


def _topic_in(cw: Any, step: str) -> Topic:
    w = cw.w
    topic = topic_propose(
        actor=w.user("secretary"),
        community=w.community,
        title="停车位划线",
        description="小区停车混乱，建议重新划线并编号。",
        source="staff",
    )
    now = timezone.now()
    # Publicised topics: the objection window has passed, so 办结 may go ahead.
    Topic.objects.filter(pk=topic.pk).update(
        step=step, published_at=now - timedelta(days=8), objections_until=now - timedelta(days=1)
    )
    if step == Topic.Step.REVIEWING:
        for aspect in ("feasibility", "budget", "law"):
            ReviewNote.objects.create(
                topic=topic,
                community=w.community,
                author=w.user("secretary"),
                aspect=aspect,
                conclusion="ok",
                body="已核实",
            )
    topic.refresh_from_db()
    return topic


@pytest.mark.parametrize("step", Topic.Step.values)
def test_topic_role_by_step_matrix_from_the_table(
    cw: Any, users: dict[str, Any], step: str
) -> None:
    topic = _topic_in(cw, step)
    for role, user in users.items():
        accepted = []
        for action in TOPIC.table:
            # The only guard that cannot hold here: 公示 without a ballot.
            guard_ok = action != "publicise"
            want = _expected(TOPIC, role, step, action, guard_ok)
            err = TOPIC.refusal(user, topic, action)
            got = None if err is None else type(err)
            assert got == want, (role, step, action, err)
            if want is None:
                accepted.append(action)
        assert TOPIC.available(user, topic) == accepted, (role, step)
        assert TOPIC.flags(user, topic) == {f"can_{a}": a in accepted for a in TOPIC.table}


def test_publicise_guard_names_the_missing_ballot(cw: Any) -> None:
    topic = _topic_in(cw, Topic.Step.RESOLVING)
    err = TOPIC.refusal(cw.w.user("secretary"), topic, "publicise")
    assert isinstance(err, InvalidTransition) and "尚未发起表决" in str(err.message)


def test_review_gate_and_reasons_come_from_the_table(cw: Any) -> None:
    topic = _topic_in(cw, Topic.Step.REVIEWING)
    sec = cw.w.user("secretary")
    ReviewNote.objects.filter(topic=topic, aspect="budget").update(conclusion="not_ok")
    err = TOPIC.refusal(sec, topic, "open_vote")
    assert isinstance(err, InvalidTransition) and "不通过" in str(err.message)
    ReviewNote.objects.filter(topic=topic, aspect="budget").delete()
    err = TOPIC.refusal(sec, topic, "open_vote")
    assert isinstance(err, InvalidTransition) and "预算" in str(err.message)
    # Every move back or out needs a reason; moves forward do not.
    needs_reason = {a for a, t in TOPIC.table.items() if t.reason_required}
    assert needs_reason == {"reject", "send_back", "review_reject", "reopen"}


def test_every_step_pair_maps_to_at_most_one_action() -> None:
    steps = Topic.Step.values
    pairs = [(f, t) for f in steps for t in steps if topic_action_for(f, t)]
    assert len(pairs) == sum(len(t.sources) for t in TOPIC.table.values())
    # No skipping: nothing leads from 提议 straight to 决议 or 公示.
    assert topic_action_for("proposed", "resolving") is None
    assert topic_action_for("proposed", "publicised") is None


@pytest.mark.parametrize("status", Meeting.Status.values)
def test_meeting_role_by_status_matrix_from_the_table(
    cw: Any, users: dict[str, Any], status: str
) -> None:
    m = meeting_schedule(
        actor=cw.w.user("secretary"),
        council=cw.council,
        title="议事会",
        starts_at=future(1),
        ends_at=future(1.1),
        location="活动室",
    )
    # Started an hour ago, so ending it is allowed by the "started" guard.
    Meeting.objects.filter(pk=m.pk).update(
        status=status,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    m.refresh_from_db()
    for role, user in users.items():
        for action in MEETING.table:
            want = _expected(MEETING, role, status, action, True)
            err = MEETING.refusal(user, m, action)
            assert (None if err is None else type(err)) == want, (role, status, action)


def test_meeting_cannot_end_before_it_starts(cw: Any) -> None:
    m = meeting_schedule(
        actor=cw.w.user("secretary"),
        council=cw.council,
        title="议事会",
        starts_at=future(1),
        ends_at=future(1.1),
        location="活动室",
    )
    err = MEETING.refusal(cw.w.user("secretary"), m, "hold")
    assert isinstance(err, InvalidTransition) and "尚未开始" in str(err.message)


@pytest.mark.parametrize("status", ActionItem.Status.values)
def test_action_item_role_by_status_matrix_from_the_table(
    cw: Any, users: dict[str, Any], status: str
) -> None:
    topic = _topic_in(cw, Topic.Step.PUBLICISED)
    owner = users["councillor"]
    item = ActionItem.objects.create(
        community=cw.w.community,
        topic=topic,
        title="划线",
        owner_name="物业",
        owner_user=owner,
        deadline=timezone.localdate() + timedelta(days=30),
        status=status,
        progress_percent=100 if status == "done" else 10,
        done_at=timezone.now() if status == "done" else None,
    )
    for role, user in users.items():
        for action in ACTION_ITEM.table:
            t = ACTION_ITEM[action]
            if role not in MANAGERS and user != owner:
                want: type | None = PermissionDenied
            elif status not in t.sources:
                want = InvalidTransition
            else:
                want = None
            err = ACTION_ITEM.refusal(user, item, action)
            assert (None if err is None else type(err)) == want, (role, status, action)
    # A finished item offers no move to anyone.
    if status == "done":
        assert all(ACTION_ITEM.available(u, item) == [] for u in users.values())
