"""Notices: audience, scheduled publishing, pluggable senders, read receipts, 知晓率."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from django.utils import timezone

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from linli.core.notify import MemorySender
from linli.notices.models import NoticeRead
from linli.notices.selectors import notice_awareness, notice_get_for, notice_list_for_resident
from linli.notices.services import notice_create, notice_mark_read, notice_publish, notice_withdraw

pytestmark = pytest.mark.django_db


def make(w, **kw):
    defaults = dict(
        actor=w.user("secretary"),
        community=w.community,
        title="停水通知",
        body="因管道检修，6月3日8:00–12:00停水。",
        summary="6月3日上午停水4小时，请提前储水。",
    )
    defaults.update(kw)
    return notice_create(**defaults)


def test_publish_and_read_receipts_give_awareness_rate(world):
    n = notice_publish(actor=world.user("secretary"), notice=make(world))
    # Audience: the 2 residents of 阳光社区 (张三, 李四).
    assert notice_awareness(n).audience == 2
    notice_mark_read(actor=world.user("resident"), notice=n)
    notice_mark_read(actor=world.user("resident"), notice=n)  # idempotent
    notice_mark_read(actor=world.user("secretary"), notice=n)  # staff read does not count
    a = notice_awareness(n)
    assert (a.readers, a.audience, a.rate) == (1, 2, Fraction(1, 2))
    assert NoticeRead.objects.filter(notice=n).count() == 2
    with pytest.raises(NotFound):
        notice_mark_read(actor=world.user("stranger"), notice=n)


def test_building_audience_and_visibility(world):
    n = notice_publish(
        actor=world.user("secretary"),
        notice=make(world, audience="buildings", building_ids=[world.building.pk]),
    )
    assert list(notice_list_for_resident(viewer=world.user("resident"))) == [n]
    assert list(notice_list_for_resident(viewer=world.user("neighbour"))) == []
    with pytest.raises(NotFound):
        notice_get_for(viewer=world.user("neighbour"), pk=n.pk)
    assert notice_awareness(n).audience == 1


def test_scheduled_notice_hidden_until_publish_time(world):
    n = notice_publish(
        actor=world.user("secretary"),
        notice=make(world),
        publish_at=timezone.now() + timedelta(days=1),
    )
    assert list(notice_list_for_resident(viewer=world.user("resident"))) == []
    with pytest.raises(NotFound):
        notice_get_for(viewer=world.user("resident"), pk=n.pk)
    assert notice_get_for(viewer=world.user("worker"), pk=n.pk) == n


def test_no_backdating_and_no_double_publish(world):
    n = make(world)
    with pytest.raises(ValidationFailed, match="早于"):
        notice_publish(
            actor=world.user("secretary"), notice=n, publish_at=timezone.now() - timedelta(days=3)
        )
    notice_publish(actor=world.user("secretary"), notice=n)
    with pytest.raises(InvalidTransition):
        notice_publish(actor=world.user("secretary"), notice=n)


def test_bad_input_and_permissions(world):
    with pytest.raises(ValidationFailed, match="通俗摘要"):
        make(world, summary="")
    with pytest.raises(ValidationFailed, match="渠道"):
        make(world, channels=["fax"])
    with pytest.raises(ValidationFailed, match="楼栋"):
        make(world, audience="buildings", building_ids=[world.other_building.pk])
    for key in ["resident", "grid_worker", "other_secretary", "property"]:
        with pytest.raises(PermissionDenied):
            make(world, actor=world.user(key))


def test_sms_and_wechat_go_through_the_pluggable_sender_after_commit(
    world, django_capture_on_commit_callbacks
):
    MemorySender.outbox.clear()
    n = make(world, channels=["web", "sms", "wechat"])
    with django_capture_on_commit_callbacks(execute=True):
        notice_publish(actor=world.user("secretary"), notice=n)
    sent = {(m.channel, m.to) for m in MemorySender.outbox}
    phones = {world.residents["resident"].phone, world.residents["neighbour"].phone}
    assert sent == {(c, p) for c in ("sms", "wechat") for p in phones}
    assert all("停水" in m.body for m in MemorySender.outbox)


def test_council_audience_and_withdraw(world):
    h = make_household(world.building2, "808")
    u = make_user("councillor")
    r = make_resident(h, "议事员", user=u)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    n = notice_publish(
        actor=world.user("secretary"),
        notice=make(world, audience="council", audience_resident_ids=[r.pk]),
    )
    assert list(notice_list_for_resident(viewer=u)) == [n]
    assert list(notice_list_for_resident(viewer=world.user("resident"))) == []
    with pytest.raises(ValidationFailed):
        notice_withdraw(actor=world.user("secretary"), notice=n, reason="")
    notice_withdraw(actor=world.user("secretary"), notice=n, reason="内容有误")
    assert list(notice_list_for_resident(viewer=u)) == []


def test_pages_render_list_detail_poster_and_manage(client, world):
    n = notice_publish(
        actor=world.user("secretary"), notice=make(world, channels=["web", "poster"])
    )
    client.force_login(world.user("resident"))
    r = client.get("/notices/")
    assert "停水通知" in r.content.decode() and "未读" in r.content.decode()
    r = client.get(f"/notices/{n.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "6月3日上午停水4小时" in body and "read-aloud.js" in body
    assert "<script>" not in body  # CSP: no inline scripts
    assert NoticeRead.objects.filter(notice=n, user=world.user("resident")).exists()
    assert "未读" not in client.get("/notices/").content.decode()
    r = client.get(f"/notices/{n.pk}/poster/")
    assert r.status_code == 200 and "notices.css" in r.content.decode()
    client.force_login(world.user("stranger"))
    assert client.get(f"/notices/{n.pk}/").status_code == 404
    client.force_login(world.user("secretary"))
    r = client.get("/notices/manage/")
    assert "50.0%" in r.content.decode()
    r = client.post(
        "/notices/new/",
        {
            "community": world.community.pk,
            "title": "垃圾分类宣传",
            "summary": "周六上午在广场宣传垃圾分类。",
            "body": "欢迎参加。",
            "audience": "community",
            "channels": ["web", "poster"],
        },
    )
    assert r.status_code == 302
