"""Pages: the form posts through the service, buttons follow the state machine, the
workbench marks overdue steps, the public list shows filed projects without names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import World
from linli.projects.models import MicroProject

pytestmark = pytest.mark.django_db


def login(client: Client, user: object) -> Client:
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_propose_form_without_js(world: World, client: Client) -> None:
    login(client, world.user("resident"))
    r = client.get(reverse("projects:micro_new"))
    assert r.status_code == 200 and 'name="line_amount"' in r.content.decode()
    data = {
        "community": world.community.pk,
        "title": "小花园",
        "problem": "空地堆满杂物",
        "plan": "清理并种花",
        "place": "2幢南侧",
        "line_item": ["花苗", "土", ""],
        "line_amount": ["3000", "2500", ""],
        "idempotency_key": "form-1",
    }
    r = client.post(reverse("projects:micro_new"), data)
    p = MicroProject.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("projects:micro_detail", args=[p.pk])
    assert p.budget_fen == 550_000
    r = client.post(reverse("projects:micro_new"), data)  # double submit: same project
    assert MicroProject.objects.count() == 1
    # Once filed, the form offers it as the earlier round of a recurring project.
    now = timezone.now()
    MicroProject.objects.filter(pk=p.pk).update(
        status="filed", submitted_at=now, review_due=now, filed_at=now
    )
    assert 'name="continues"' in client.get(reverse("projects:micro_new")).content.decode()
    from linli.core import ratelimit

    with ratelimit.suspended():
        r = client.post(
            reverse("projects:micro_new"),
            {**data, "idempotency_key": "form-2", "continues": str(p.pk)},
        )
    assert r.status_code == 302
    assert MicroProject.objects.exclude(pk=p.pk).get().series_id == p.pk


def test_propose_form_refusal_keeps_input(world: World, client: Client) -> None:
    login(client, world.user("resident"))
    r = client.post(
        reverse("projects:micro_new"),
        {
            "community": world.community.pk,
            "title": "太贵的项目",
            "problem": "p",
            "plan": "q",
            "place": "x",
            "line_item": ["电梯"],
            "line_amount": ["600000"],
        },
    )
    body = r.content.decode()
    assert r.status_code == 200 and "不在微更新项目的范围" in body and "太贵的项目" in body
    assert MicroProject.objects.count() == 0


def test_detail_buttons_and_workbench(
    world: World, client: Client, submitted: MicroProject
) -> None:
    login(client, world.user("worker"))
    body = client.get(reverse("projects:micro_detail", args=[submitted.pk])).content.decode()
    assert 'value="approve"' in body and 'value="reject"' in body and 'value="file"' not in body
    MicroProject.objects.filter(pk=submitted.pk).update(
        review_due=timezone.now() - timedelta(hours=2)
    )
    body = client.get(reverse("projects:workbench")).content.decode()
    assert 'class="overdue"' in body and "已超时" in body
    client.post(reverse("projects:micro_act", args=[submitted.pk]), {"action": "reject"})
    submitted.refresh_from_db()
    assert submitted.status == "proposed"  # no reason: refused, nothing changed
    client.post(
        reverse("projects:micro_act", args=[submitted.pk]), {"action": "approve"}, follow=True
    )
    submitted.refresh_from_db()
    assert submitted.status == "reviewed"
    login(client, world.user("street_officer"))
    client.post(reverse("projects:micro_act", args=[submitted.pk]), {"action": "file"})
    submitted.refresh_from_db()
    assert submitted.status == "filed"
    client.logout()
    body = client.get(reverse("projects:public_list")).content.decode()
    assert submitted.title in body and "张三" not in body


def test_outsiders_get_404(world: World, client: Client, gathering: MicroProject) -> None:
    login(client, world.user("stranger"))
    assert client.get(reverse("projects:micro_detail", args=[gathering.pk])).status_code == 404
    assert client.get(reverse("projects:workbench")).status_code == 404


def test_cosign_page(world: World, client: Client, gathering: MicroProject) -> None:
    login(client, world.user("neighbour"))
    body = client.get(reverse("projects:micro_detail", args=[gathering.pk])).content.decode()
    assert "我家联名支持" in body
    client.post(reverse("projects:micro_cosign", args=[gathering.pk]))
    assert gathering.cosigners.count() == 2


def test_staff_cosigns_for_resident(world: World, client: Client, gathering: MicroProject) -> None:
    login(client, world.user("worker"))
    client.post(
        reverse("projects:micro_cosign", args=[gathering.pk]),
        {"resident_phone": world.residents["neighbour"].phone, "channel": "phone"},
    )
    row = gathering.cosigners.get(resident=world.residents["neighbour"])
    assert row.channel == "phone"


def test_public_map_marks_buildings_by_status_and_filters_the_list(
    world: World, client: Client
) -> None:
    """The public list draws each community's site plan (SVG, no tiles, no JS): a
    building with projects is a link to its projects, coloured and marked with a symbol
    for its most pressing status, with a text legend; no names of people."""
    from linli.projects.models import DeliveryPhase
    from linli.projects.tests.conftest import propose

    now = timezone.now()

    def filed(title: str, building: object, status: str = "filed") -> MicroProject:
        p = propose(world, title=title, building_id=building.pk)  # type: ignore[attr-defined]
        MicroProject.objects.filter(pk=p.pk).update(
            status=status, submitted_at=now, review_due=now, filed_at=now
        )
        return p

    a = filed("楼道扶手", world.building, "delivered")
    late = filed("车棚改造", world.building, "in_progress")
    DeliveryPhase.objects.create(
        community=world.community,
        project=late,
        position=1,
        name="施工",
        owner="物业",
        starts_on=timezone.localdate() - timedelta(days=20),
        due_on=timezone.localdate() - timedelta(days=2),
    )
    b = filed("小花园", world.building2, "filed")
    body = client.get(reverse("projects:public_list")).content.decode()
    assert "<svg" in body and "项目分布图" in body
    # 1幢: one delivered and one late project -> late (red, "!"), two projects.
    assert f'href="?building={world.building.pk}#projects" class="pm-late"' in body
    assert "1幢!</text>" in body
    assert f'href="?building={world.building2.pk}#projects" class="pm-filed"' in body
    assert "2幢○</text>" in body
    for word in ("已停止资助", "进度滞后", "实施中", "已备案·待实施", "已验收", "暂无项目"):
        assert word in body  # the legend in words
    assert "张三" not in body
    # Tapping 1幢 lists its two projects only.
    resp = client.get(reverse("projects:public_list"), {"building": world.building.pk})
    text = resp.content.decode()
    assert a.title in text and late.title in text and b.title not in text
    assert 'aria-current="true"' in text and "显示全部项目" in text
    # A cut project turns its building grey with ✕.
    MicroProject.objects.filter(pk=b.pk).update(funding_cut=True)
    text = client.get(reverse("projects:public_list")).content.decode()
    assert f'href="?building={world.building2.pk}#projects" class="pm-cut"' in text
