"""PB pages: the phone ballot works without JavaScript (server-side total), refusals
keep the choices, results are public once the vote has closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import World
from linli.projects import services
from linli.projects.models import PBBallot, PBProject, Programme
from linli.projects.tests.conftest import voting_programme

pytestmark = pytest.mark.django_db


def test_knapsack_vote_page_total_and_cast(world: World, client: Client) -> None:
    prog = voting_programme(world, kind="knapsack", k=None)
    ids = list(PBProject.objects.filter(programme=prog).order_by("pk").values_list("pk", flat=True))
    client.force_login(world.user("resident"))
    url = reverse("projects:pb_vote", args=[prog.pk])
    body = client.get(url).content.decode()
    assert 'type="checkbox"' in body and "计算合计" in body
    r = client.post(url, {"project": ids, "op": "total"})
    body = r.content.decode()
    assert "¥120,000.00" in body and "超出预算" in body and PBBallot.objects.count() == 0
    r = client.post(url, {"project": ids, "op": "cast"})
    body = r.content.decode()
    assert r.status_code == 200 and "超过总预算" in body and PBBallot.objects.count() == 0
    assert body.count("checked") == 3  # the choices are kept
    r = client.post(url, {"project": ids[:2], "op": "cast"})
    assert r.status_code == 302 and PBBallot.objects.count() == 1
    assert "已投票" in client.get(url).content.decode()


def test_results_public_after_close(world: World, client: Client) -> None:
    prog = voting_programme(world)
    ids = list(PBProject.objects.filter(programme=prog).order_by("pk").values_list("pk", flat=True))
    services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids[:2])
    url = reverse("projects:pb_results", args=[prog.pk])
    assert "入围投票的项目" in client.get(url).content.decode()  # anonymous, during the vote
    assert client.get(reverse("projects:pb_export", args=[prog.pk])).status_code == 404
    Programme.objects.filter(pk=prog.pk).update(voting_closes=timezone.now() - timedelta(seconds=1))
    prog.refresh_from_db()
    services.programme_advance(actor=world.user("secretary"), programme=prog, action="close_voting")
    body = client.get(url).content.decode()
    assert "两种方法的比较" in body and "有效支持度" in body and "张三" not in body
    r = client.get(reverse("projects:pb_export", args=[prog.pk]))
    assert r.status_code == 200 and b"vote_type;approval" in r.content
    client.force_login(world.user("secretary"))
    client.post(
        reverse("projects:pb_override", args=[prog.pk]),
        {"project": ids[2], "funded": "0", "reason": ""},
    )
    assert prog.overrides.count() == 0
    client.post(
        reverse("projects:pb_override", args=[prog.pk]),
        {"project": ids[2], "funded": "0", "reason": "施工条件不具备"},
    )
    client.logout()
    assert "施工条件不具备" in client.get(url).content.decode()


def test_paper_ballot_page(world: World, client: Client) -> None:
    prog = voting_programme(world)
    pid = PBProject.objects.filter(programme=prog).values_list("pk", flat=True).first()
    client.force_login(world.user("worker"))
    url = reverse("projects:pb_paper", args=[prog.pk])
    client.post(
        url,
        {
            "op": "cast",
            "project": [pid],
            "resident_phone": world.residents["neighbour"].phone,
            "second_username": "secretary",
            "second_password": "wrong",
        },
    )
    assert PBBallot.objects.count() == 0
    client.post(
        url,
        {
            "op": "cast",
            "project": [pid],
            "resident_phone": world.residents["neighbour"].phone,
            "second_username": "secretary",
            "second_password": "pw-Linli-2026",
        },
    )
    b = PBBallot.objects.get()
    assert b.channel == "paper" and b.resident_id == world.residents["neighbour"].pk
