"""Role × step permission matrix for the 议事厅 predicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.deliberation.models import Topic
from linli.deliberation.permissions import (
    can_comment,
    can_manage,
    can_object,
    can_propose,
    can_review,
    can_supervise,
    can_view_community_hall,
)
from linli.deliberation.services import topic_propose

pytestmark = pytest.mark.django_db
S = Topic.Step
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

# Expected truth per role for each action (independent of step unless listed per step).
COMMENTERS = {"resident", "councillor", "worker", "secretary", "platform_admin"}
REVIEWERS = {"councillor", "worker", "secretary", "platform_admin"}
OBJECTORS = {"resident", "councillor"}
MANAGERS = {"worker", "secretary", "platform_admin"}
VIEWERS = {
    "resident",
    "councillor",
    "grid_worker",
    "worker",
    "secretary",
    "street_officer",
    "supervisor",
    "platform_admin",
}
SUPERVISORS = {"supervisor", "platform_admin"}


@pytest.fixture
def users(cw):
    u = {k: cw.w.user(k) for k in ROLES if k != "councillor"}
    u["councillor"] = cw.users[0]
    return u


@pytest.mark.parametrize("step", [s for s in S.values])
def test_role_by_step_matrix(cw, users, step):
    topic = topic_propose(
        actor=cw.w.user("secretary"),
        community=cw.w.community,
        title="停车位划线",
        description="小区停车混乱，建议重新划线并编号。",
        source="staff",
    )
    now = timezone.now()
    Topic.objects.filter(pk=topic.pk).update(
        step=step, published_at=now, objections_until=now + timedelta(days=7)
    )
    topic.refresh_from_db()
    for role, user in users.items():
        got = {
            "view": can_view_community_hall(user, topic),
            "comment": can_comment(user, topic),
            "review": can_review(user, topic),
            "object": can_object(user, topic),
            "manage": can_manage(user, topic),
            "propose": can_propose(user, cw.w.community),
            "supervise": can_supervise(user, cw.w.community),
        }
        want = {
            "view": role in VIEWERS,
            "comment": step == S.DISCUSSING and role in COMMENTERS,
            "review": step == S.REVIEWING and role in REVIEWERS,
            "object": step == S.PUBLICISED and role in OBJECTORS,
            "manage": role in MANAGERS,
            "propose": role in {"resident", "councillor", *MANAGERS},
            "supervise": role in SUPERVISORS,
        }
        assert got == want, (role, step)


def test_objection_window_closes(cw, users):
    topic = topic_propose(
        actor=cw.w.user("resident"),
        community=cw.w.community,
        title="加装电梯",
        description="老人上下楼困难，建议加装电梯。",
    )
    now = timezone.now()
    Topic.objects.filter(pk=topic.pk).update(
        step=S.PUBLICISED,
        published_at=now - timedelta(days=8),
        objections_until=now - timedelta(days=1),
    )
    topic.refresh_from_db()
    assert not can_object(users["resident"], topic)
