"""Pages (plain HTML forms, no JavaScript) and the JSON API through the real stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linli.mutualaid import matching, services
from linli.mutualaid.models import Match, MatchStatus, Need
from linli.mutualaid.tests import factories as f

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_resident_flow_through_pages(world):
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    me = _client(world.user("resident"))
    assert me.get("/mutualaid/").status_code == 200
    r = me.post(
        "/mutualaid/needs/new/",
        {
            "category": "plumbing",
            "title": "水管漏水",
            "minutes": "60",
            "settle_in": "minutes",
            "idempotency_key": "page-1",
        },
    )
    need = Need.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/mutualaid/needs/{need.pk}/"
    page = me.get(r["Location"]).content.decode()
    assert "技能对口" in page and "请TA帮忙" in page
    c = matching.suggest(need)[0].candidate
    me.post(f"/mutualaid/needs/{need.pk}/propose/", {"kind": c.kind, "candidate": c.id})
    m = Match.objects.get()
    assert m.status == MatchStatus.NEED_ACCEPTED
    # The helper sees it on their page and accepts.
    helper_page = _client(helper.user).get("/mutualaid/").content.decode()
    assert "水管漏水" in helper_page
    _client(helper.user).post(f"/mutualaid/matches/{m.pk}/", {"action": "accept", "next": "home"})
    # Accepting again on the page shows the refusal, nothing changes.
    r = _client(helper.user).post(f"/mutualaid/matches/{m.pk}/", {"action": "accept"}, follow=True)
    assert "无需再次接受" in r.content.decode()
    me.post(f"/mutualaid/matches/{m.pk}/", {"action": "settle", "rating": "5", "minutes": "75"})
    m.refresh_from_db()
    assert m.status == MatchStatus.SETTLED and m.settled_amount == 75 and m.rating == 5


def test_staff_queue_and_代办(world):
    staff = _client(world.user("worker"))
    r = staff.post(
        "/mutualaid/needs/new/",
        {
            "resident_phone": "13812341234",
            "channel": "visit",
            "category": "errand",
            "title": "代买药",
            "minutes": "30",
            "settle_in": "points",
        },
    )
    need = Need.objects.get()
    assert (
        r.status_code == 302
        and need.channel == "visit"
        and need.requester == world.residents["resident"]
    )
    page = staff.get("/mutualaid/queue/").content.decode()
    assert "代买药" in page and "匹配用时" in page
    assert _client(world.user("resident")).get("/mutualaid/queue/").status_code == 404
    # Another community's staff cannot see the need.
    assert (
        _client(world.user("other_secretary")).get(f"/mutualaid/needs/{need.pk}/").status_code
        == 404
    )


def test_public_partner_list_has_no_personal_data(world):
    p, member = f.partner(world)
    services.offering_save(
        actor=member, partner=p, kind="discount", category="meals", title="老人9折"
    )
    c = services.contribution_report(
        actor=member, partner=p, title="义诊", served_on=p.created_at.date(), people_served=12
    )
    services.contribution_confirm(actor=world.user("secretary"), contribution=c)
    anon = Client()
    page = anon.get("/mutualaid/public/partners/").content.decode()
    assert "康健药房" in page and "老人9折" in page and "服务 12 人次" in page
    for private in ("张三", "13812341234", "pharmacy"):
        assert private not in page
    data = anon.get("/api/v1/mutualaid/partners/public").json()
    assert data[0]["name"] == "康健药房" and data[0]["points"] == 10
    assert "pharmacy" not in json.dumps(data, ensure_ascii=False)


def test_partner_pages(world):
    p, member = f.partner(world)
    mine = _client(member)
    assert mine.get(f"/mutualaid/partners/{p.pk}/").status_code == 200
    mine.post(
        f"/mutualaid/partners/{p.pk}/",
        {
            "what": "contribution",
            "title": "送药上门",
            "people_served": "3",
            "points": "9",
            "idempotency_key": "c-1",
        },
    )
    c = p.contributions.get()
    r = mine.post(f"/mutualaid/contributions/{c.pk}/", {}, follow=True)
    assert "不能给自己" in r.content.decode()
    c.refresh_from_db()
    assert c.status == "reported"
    _client(world.user("secretary")).post(f"/mutualaid/contributions/{c.pk}/", {"next": "list"})
    c.refresh_from_db()
    assert c.status == "confirmed"
    assert _client(world.user("neighbour")).get(f"/mutualaid/partners/{p.pk}/").status_code == 404


def test_api_flow(world):
    f.rules(world)
    helper = f.volunteer(world, "赵六", world.building2, ["plumbing"])
    f.refresh(world)
    me = _client(world.user("resident"))
    body = {"category": "plumbing", "title": "水管漏水", "minutes": 60}
    r = me.post(
        "/api/v1/mutualaid/needs",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "api-1"},
    )
    assert r.status_code == 201, r.content
    again = me.post(
        "/api/v1/mutualaid/needs",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "api-1"},
    )
    assert again.json()["id"] == r.json()["id"] and Need.objects.count() == 1
    nid = r.json()["id"]
    sugg = me.get(f"/api/v1/mutualaid/needs/{nid}/suggestions").json()
    assert sugg[0]["reasons"][0]["text"].startswith("技能对口")
    r = me.post(
        f"/api/v1/mutualaid/needs/{nid}/matches",
        {"kind": sugg[0]["kind"], "candidate_id": sugg[0]["candidate_id"]},
        content_type="application/json",
    )
    mid = r.json()["id"]
    assert r.json()["status"] == "need_accepted"
    hc = _client(helper.user)
    assert hc.get("/api/v1/mutualaid/matches/helping").json()[0]["actions"] == [
        "agree_helper",
        "decline",
    ]
    assert hc.post(f"/api/v1/mutualaid/matches/{mid}/accept").json()["status"] == "agreed"
    twice = hc.post(f"/api/v1/mutualaid/matches/{mid}/accept")
    assert twice.status_code == 409 and "无需再次接受" in twice.json()["message"]
    r = me.post(
        f"/api/v1/mutualaid/matches/{mid}/settle", {"rating": 4}, content_type="application/json"
    )
    assert r.json()["status"] == "settled" and r.json()["settled_amount"] == 60
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/mutualaid/matches/{match_id}/settle" in schema["paths"]
