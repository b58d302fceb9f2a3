"""Pages and API through the test client."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from linli.voting.models import Ballot, Vote
from linli.voting.services import ballot_close
from linli.voting.tests.conftest import expire, make_ballot
from linli.voting.tests.test_ux import open_confirmed


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_resident_votes_on_the_page_and_checks_receipt(world, ballot):
    c = _client(world.users["resident"])
    page = c.get(reverse("voting:ballot_detail", args=[ballot.pk]))
    assert page.status_code == 200 and "提交投票" in page.content.decode()
    url = reverse("voting:vote", args=[ballot.pk])
    r = c.post(url, {"choice": "0", "idem": "abc"}, follow=True)
    body = r.content.decode()
    assert "投票成功" in body
    m = re.search(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", body)
    assert m is not None
    code = m.group(0)
    again = c.post(reverse("voting:vote", args=[ballot.pk]), {"choice": "1"}, follow=True)
    assert "已经投过票" in again.content.decode()
    assert Vote.objects.get(ballot=ballot).choices == [0]
    chk = c.get(reverse("voting:receipt", args=[ballot.pk]), {"code": code})
    assert "已计入统计" in chk.content.decode()


def test_tenant_sees_why_on_owners_ballot(world):
    b = make_ballot(world, eligibility="owners", validity_rule="art278", matter_class="ordinary")
    page = _client(world.users["neighbour"]).get(reverse("voting:ballot_detail", args=[b.pk]))
    assert "仅限业主" in page.content.decode()


def test_other_community_cannot_see_ballot(world, ballot):
    c = _client(world.users["stranger"])
    assert c.get(reverse("voting:ballot_detail", args=[ballot.pk])).status_code == 404
    assert ballot.title not in c.get(reverse("voting:ballot_list")).content.decode()


def test_result_page_explains_rule(world, ballot):
    _client(world.users["resident"]).post(reverse("voting:vote", args=[ballot.pk]), {"choice": "0"})
    expire(ballot)
    ballot_close(actor=world.users["secretary"], ballot=ballot)
    c = _client(world.users["neighbour"])
    body = c.get(reverse("voting:result", args=[ballot.pk])).content.decode()
    assert "杭州规则" in body and "1 / 2 = 50.00%" in body
    assert c.get(reverse("voting:verify", args=[ballot.pk])).content.decode().count("一致") >= 1
    txt = c.get(reverse("voting:receipts_txt", args=[ballot.pk])).content.decode()
    assert len(txt.strip().splitlines()) == 1


def test_staff_create_open_and_paper_vote(world):
    sec = _client(world.users["secretary"])
    r = sec.post(
        reverse("voting:ballot_new"),
        {
            "community": world.community.pk,
            "title": "小区停车收费方案",
            "description": "",
            "kind": "single",
            "options": "方案一\n方案二",
            "max_choices": 0,
            "eligibility": "households",
            "voter_resident_ids": "",
            "weighting": "head",
            "validity_rule": "households_75",
            "matter_class": "",
            "opens_at": "2020-01-01T08:00",
            "closes_at": "2099-01-01T08:00",
            "ratification_days": 0,
        },
    )
    assert r.status_code == 302, r.content.decode()
    b = Ballot.objects.get(title="小区停车收费方案")
    open_confirmed(sec, b)
    b.refresh_from_db()
    assert b.status == "open"
    bad = sec.post(
        reverse("voting:paper_vote", args=[b.pk]),
        {
            "resident": str(world.residents["resident"].pk),
            "second_username": "worker",
            "second_password": "wrong",
            "choice": "1",
        },
    )
    assert "密码不正确" in bad.content.decode()
    ok = sec.post(
        reverse("voting:paper_vote", args=[b.pk]),
        {
            "resident": world.residents["resident"].phone,
            "second_username": "worker",
            "second_password": "pw-Linli-2026",
            "choice": "1",
        },
    )
    assert ok.status_code == 302
    v = Vote.objects.get(ballot=b)
    assert v.channel == "paper" and v.second_staff == world.users["worker"]


def test_resident_cannot_reach_staff_pages(world, ballot):
    c = _client(world.users["resident"])
    assert c.get(reverse("voting:ballot_new")).status_code == 404
    assert c.get(reverse("voting:paper_vote", args=[ballot.pk])).status_code == 404
    c.post(reverse("voting:ballot_close", args=[ballot.pk]))
    ballot.refresh_from_db()
    assert ballot.status == "open"


def test_api_cast_and_errors(world, ballot):
    c = _client(world.users["resident"])
    url = f"/api/v1/voting/ballots/{ballot.pk}/votes"
    r = c.post(url, {"choices": [0], "idempotency_key": "k"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["receipt"]
    r2 = c.post(url, {"choices": [1]}, content_type="application/json")
    assert r2.status_code == 409 and r2.json()["code"] == "already_voted"
    me = c.get(f"/api/v1/voting/ballots/{ballot.pk}/me").json()
    assert me["voted"] and me["receipt"] == r.json()["receipt"]
    assert c.get(f"/api/v1/voting/ballots/{ballot.pk}/result").status_code == 403
    s = _client(world.users["stranger"])
    assert s.post(url, {"choices": [0]}, content_type="application/json").status_code == 404
    lst = c.get("/api/v1/voting/ballots").json()
    assert [b["id"] for b in lst] == [ballot.pk]
