"""Scheduled notices reach SMS/WeChat at their publish time, exactly once per channel."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linli.core.notify import MemorySender
from linli.notices.models import Notice, NoticeDelivery
from linli.notices.services import (
    notice_create,
    notice_publish,
    notice_withdraw,
    send_due_notices,
)


def _make(w: Any, channels: tuple[str, ...] = ("web", "sms", "wechat")) -> Notice:
    return notice_create(
        actor=w.user("secretary"),
        community=w.community,
        title="停水通知",
        body="因管道检修，6月3日8:00–12:00停水。",
        summary="6月3日上午停水4小时，请提前储水。",
        channels=channels,
    )


@pytest.fixture
def outbox() -> Any:
    MemorySender.outbox.clear()
    yield MemorySender.outbox
    MemorySender.outbox.clear()


def _phones(w: Any) -> set[str]:
    return {w.residents["resident"].phone, w.residents["neighbour"].phone} - {""}


@pytest.mark.django_db
def test_future_notice_is_pushed_at_its_time_once(
    world: Any, outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Give 李四 a phone so the two residents are two recipients.
    world.residents["neighbour"].phone = "13900001111"
    world.residents["neighbour"].save()
    at = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_publish(actor=world.user("secretary"), notice=_make(world), publish_at=at)
    assert outbox == [] and not NoticeDelivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        r = send_due_notices()  # not yet due
    assert (r.checked, r.sent) == (0, 0) and outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        r = send_due_notices(now=at + timedelta(minutes=1))
    assert (r.checked, r.sent, r.recipients) == (2, 2, 4)
    assert {(m.channel, m.to) for m in outbox} == {
        (c, p) for c in ("sms", "wechat") for p in _phones(world)
    }
    assert len(outbox) == 4
    assert set(n.deliveries.values_list("channel", flat=True)) == {"sms", "wechat"}

    with django_capture_on_commit_callbacks(execute=True):
        r = send_due_notices(now=at + timedelta(minutes=2))  # rerun: nothing more
    assert (r.checked, r.sent) == (0, 0) and len(outbox) == 4


@pytest.mark.django_db
def test_immediate_publish_marks_sent_so_the_scheduler_does_not_repeat(
    world: Any, outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_publish(actor=world.user("secretary"), notice=_make(world, ("web", "sms")))
    assert {(m.channel, m.to) for m in outbox} == {("sms", p) for p in _phones(world)}
    assert list(n.deliveries.values_list("channel", flat=True)) == ["sms"]
    before = len(outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_notices().sent == 0
    assert len(outbox) == before
    # Web-only notices have nothing to push.
    with django_capture_on_commit_callbacks(execute=True):
        notice_publish(actor=world.user("secretary"), notice=_make(world, ("web",)))
        assert send_due_notices().checked == 0
    assert len(outbox) == before


@pytest.mark.django_db
def test_withdrawn_or_stale_notices_are_not_pushed(
    world: Any, outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sec = world.user("secretary")
    at = timezone.now() + timedelta(hours=1)
    withdrawn = notice_publish(actor=sec, notice=_make(world), publish_at=at)
    notice_withdraw(actor=sec, notice=withdrawn, reason="时间有变")
    stale = notice_publish(actor=sec, notice=_make(world), publish_at=at)
    with django_capture_on_commit_callbacks(execute=True):
        r = send_due_notices(now=at + timedelta(days=4))  # beyond the 3-day lookback
    assert (r.checked, r.sent) == (0, 0) and outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        r = send_due_notices(now=at + timedelta(days=4), lookback_days=7)
    assert r.sent == 2 and set(stale.deliveries.values_list("channel", flat=True)) == {
        "sms",
        "wechat",
    }
    assert not withdrawn.deliveries.exists()


@pytest.mark.django_db
def test_database_refuses_a_second_sent_marker(world: Any) -> None:
    n = notice_publish(actor=world.user("secretary"), notice=_make(world))
    assert n.deliveries.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeDelivery.objects.create(notice=n, channel="sms")
    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeDelivery.objects.create(notice=n, channel="web")  # not a push channel


@pytest.mark.django_db
def test_command_runs_inline_and_enqueued(world: Any, outbox: Any) -> None:
    at = timezone.now() + timedelta(seconds=1)
    n = notice_publish(actor=world.user("secretary"), notice=_make(world), publish_at=at)
    Notice.objects.filter(pk=n.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("send_due_notices", stdout=out)
    assert "due=2 sent=2" in out.getvalue()
    out = StringIO()
    call_command("send_due_notices", "--enqueue", stdout=out)  # immediate backend in tests
    assert out.getvalue().startswith("enqueued")
    assert n.deliveries.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_send_once(world: Any, outbox: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    world.residents["neighbour"].phone = "13900001111"
    world.residents["neighbour"].save()
    at = timezone.now() + timedelta(seconds=1)
    n = notice_publish(actor=world.user("secretary"), notice=_make(world), publish_at=at)
    Notice.objects.filter(pk=n.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(send_due_notices().sent)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 2
    assert len(outbox) == 4  # 2 channels × 2 phones, never more
    assert n.deliveries.count() == 2
