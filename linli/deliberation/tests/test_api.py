"""/api/v1/deliberation/: topics, comments, staff transitions, meetings, councils."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linli.core.models import AuditEvent
from linli.deliberation.models import Topic, TopicComment
from linli.deliberation.services import (
    AttendanceEntry,
    agenda_add,
    meeting_record_attendance,
    meeting_schedule,
)
from linli.deliberation.tests.conftest import CouncilWorld, future
from linli.voting.models import Ballot

pytestmark = pytest.mark.django_db
API = "/api/v1/deliberation"


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def test_topic_flow_comment_and_staff_transitions(client: Any, cw: CouncilWorld) -> None:
    w = cw.w
    client.force_login(w.user("resident"))
    r = _post(
        client,
        f"{API}/topics",
        {"title": "加装电梯", "description": "3幢老人多，上下楼困难，建议加装电梯。"},
    )
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    assert r.json()["step"] == "proposed" and r.json()["next_steps"] == []
    assert r.json()["community_id"] == w.community.pk
    # Commenting before 商议 is refused with the service's message, nothing stored.
    r = _post(client, f"{API}/topics/{tid}/comments", {"body": "我支持"})
    assert r.status_code == 409 and "商议" in r.json()["message"]
    assert not TopicComment.objects.exists()
    # A resident cannot move the topic.
    r = _post(client, f"{API}/topics/{tid}/transition", {"to": "discussing"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"

    client.force_login(w.user("secretary"))
    d = client.get(f"{API}/topics/{tid}").json()
    assert {s["to"] for s in d["next_steps"]} == {"discussing", "rejected"}
    # Skipping 提议 → 决议 is refused; rejecting needs a reason.
    r = _post(client, f"{API}/topics/{tid}/vote", {"closes_at": future(3).isoformat()})
    assert r.status_code == 409 and "不能跳过步骤" in r.json()["message"]
    r = _post(client, f"{API}/topics/{tid}/transition", {"to": "rejected"})
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert not Ballot.objects.exists()
    r = _post(client, f"{API}/topics/{tid}/transition", {"to": "discussing"})
    assert r.status_code == 200 and r.json()["step"] == "discussing"

    client.force_login(w.user("neighbour"))
    r = _post(client, f"{API}/topics/{tid}/comments", {"body": "同意，按楼层分摊费用。"})
    assert r.status_code == 201 and r.json()["body"] == "同意，按楼层分摊费用。"
    r = _post(client, f"{API}/topics/{tid}/comments", {"body": "x"})
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    d = client.get(f"{API}/topics/{tid}").json()
    assert d["comments"] == 1 and d["can_comment"] is True and d["can_manage"] is False
    assert [t["comments"] for t in client.get(f"{API}/topics").json()] == [1]
    assert client.get(f"{API}/topics", {"step": "proposed"}).json() == []

    client.force_login(w.user("stranger"))  # another community: not found
    assert client.get(f"{API}/topics/{tid}").status_code == 404
    assert client.get(f"{API}/topics").json() == []
    r = _post(client, f"{API}/topics/{tid}/comments", {"body": "路过看看"})
    assert r.status_code == 404

    client.force_login(w.user("secretary"))
    assert _post(client, f"{API}/topics/{tid}/transition", {"to": "reviewing"}).status_code == 200
    # A council member writes the review notes; a short note is refused.
    client.force_login(cw.users[0])
    r = _post(
        client, f"{API}/topics/{tid}/reviews", {"aspect": "law", "conclusion": "ok", "body": "行"}
    )
    assert r.status_code == 400 and "审议意见" in r.json()["message"]
    for aspect in ["feasibility", "budget", "law"]:
        r = _post(
            client,
            f"{API}/topics/{tid}/reviews",
            {"aspect": aspect, "conclusion": "ok", "body": "已核实，可行。"},
        )
        assert r.status_code == 201, r.content
    assert len(client.get(f"{API}/topics/{tid}").json()["review_notes"]) == 3
    client.force_login(w.user("secretary"))
    r = _post(client, f"{API}/topics/{tid}/vote", {"closes_at": future(3).isoformat()})
    assert r.status_code == 200, r.content
    assert r.json()["step"] == "resolving" and r.json()["ballot_id"] is not None
    # Publicising before the vote has closed is refused.
    r = _post(client, f"{API}/topics/{tid}/publicise", {"minutes": "会议纪要"})
    assert r.status_code == 409 and "表决尚未结束" in r.json()["message"]
    history = client.get(f"{API}/topics/{tid}").json()["history"]
    assert [(h["from_step"], h["to_step"]) for h in history] == [
        ("proposed", "discussing"),
        ("discussing", "reviewing"),
        ("reviewing", "resolving"),
    ]
    assert AuditEvent.objects.filter(action="deliberation.topic_transition").count() == 3


def test_meetings_and_council_composition(client: Any, cw: CouncilWorld) -> None:
    w = cw.w
    sec = w.user("secretary")
    m = meeting_schedule(
        actor=sec,
        council=cw.council,
        title="六月议事会",
        starts_at=future(10),
        ends_at=future(10.1),
        location="社区活动室",
    )
    topic = Topic.objects.create(
        community=w.community,
        title="楼道堆物整治",
        description="楼道堆物多，存在消防隐患。",
        source="resident",
        proposer=w.user("resident"),
        step="discussing",
    )
    agenda_add(actor=sec, meeting=m, topic=topic)
    meeting_record_attendance(
        actor=sec,
        meeting=m,
        entries=[
            AttendanceEntry(cw.members[0].pk, "proxy", "赵大"),
            AttendanceEntry(cw.members[1].pk, "online"),
        ],
    )

    client.force_login(w.user("resident"))
    rows = client.get(f"{API}/meetings").json()
    assert [r["id"] for r in rows] == [m.pk] and rows[0]["council"] == cw.council.name
    d = client.get(f"{API}/meetings/{m.pk}").json()
    assert d["agenda"] == [
        {"order": 1, "topic_id": topic.pk, "title": "楼道堆物整治", "step": "discussing"}
    ]
    assert [(a["mode"], a["proxy_name"]) for a in d["attendance"]] == [
        ("proxy", "赵大"),
        ("online", ""),
    ]

    councils = client.get(f"{API}/councils").json()
    assert len(councils) == 1 and councils[0]["complies"] is True
    assert len(councils[0]["members"]) == 7
    # Residents see who sits on the council, not their birth year or tenure.
    assert all(mem["birth_year"] is None for mem in councils[0]["members"])

    # Break a rule behind the services' back: the check reports it with the numbers.
    cw.residents[1].household.tenure = "owner"
    cw.residents[1].household.save()
    cw.residents[4].household.tenure = "owner"
    cw.residents[4].household.save()
    client.force_login(sec)
    c = client.get(f"{API}/councils", {"community": w.community.pk}).json()[0]
    assert c["complies"] is False and "租户" in c["violations"][0]["message"]
    assert {mem["tenure"] for mem in c["members"]} == {"owner"}
    assert all(mem["birth_year"] for mem in c["members"])

    client.force_login(w.user("stranger"))
    assert client.get(f"{API}/meetings/{m.pk}").status_code == 404
    assert client.get(f"{API}/meetings").json() == []
    assert client.get(f"{API}/councils", {"community": w.community.pk}).status_code == 404
    client.logout()
    assert client.get(f"{API}/topics").status_code == 401
