"""Rate limits (linli/core/ratelimit.py): fixed windows in Django's cache, a pinned
clock, 429 + Retry-After, and the per-number SMS cap in notify."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from linli.core import ratelimit
from linli.core.errors import RateLimited
from linli.core.notify import MemorySender, Message, send_on_commit

# 2026-03-02 09:00:10 UTC: ten seconds into a minute.
T0 = 1_772_442_010.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock(T0)
    with ratelimit.use_clock(c):
        yield c


def test_per_minute_cap_refuses_the_next_attempt_and_resets(clock: Clock) -> None:
    for _ in range(5):
        ratelimit.check("requests.submit", user=7)
    with pytest.raises(RateLimited) as err:
        ratelimit.check("requests.submit", user=7)
    assert err.value.status == 429
    assert err.value.retry_after == 50  # the rest of this minute
    assert "分钟后再试" in str(err.value.message)
    ratelimit.check("requests.submit", user=8)  # another user has their own counter
    clock.t += 50  # a new minute
    ratelimit.check("requests.submit", user=7)


def test_refused_attempts_are_not_counted(clock: Clock) -> None:
    for _ in range(5):
        ratelimit.check("requests.submit", user=7)
    for _ in range(20):
        with pytest.raises(RateLimited):
            ratelimit.check("requests.submit", user=7)
    # 25 more over the day: the refusals above did not eat into the daily 30.
    for _ in range(5):
        clock.t += 60
        for _ in range(5):
            ratelimit.check("requests.submit", user=7)
    clock.t += 60
    with pytest.raises(RateLimited) as err:
        ratelimit.check("requests.submit", user=7)
    assert (err.value.retry_after or 0) > 3600  # the daily cap: until the next UTC day
    assert "小时后再试" in str(err.value.message)


def test_every_dimension_counts(clock: Clock) -> None:
    for i in range(10):
        ratelimit.check("requests.open311_submit", key=f"k{i}", ip="203.0.113.9")
    with pytest.raises(RateLimited):
        ratelimit.check("requests.open311_submit", key="k99", ip="203.0.113.9")
    ratelimit.check("requests.open311_submit", key="k99", ip="203.0.113.10")


def test_settings_override_and_switch(clock: Clock, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"requests.submit": {"user": (1, None)}}
    ratelimit.check("requests.submit", user=1)
    with pytest.raises(RateLimited):
        ratelimit.check("requests.submit", user=1)
    settings.LINLI_RATE_LIMITS_ENABLED = False
    ratelimit.check("requests.submit", user=1)


@pytest.mark.django_db(transaction=True)
def test_sms_flood_to_one_number_is_capped(clock: Clock) -> None:
    MemorySender.outbox.clear()
    for i in range(40):
        clock.t += 60  # spread out: only the daily cap applies
        with transaction.atomic():
            send_on_commit(Message("sms", "13800000001", "诉求进度", f"#{i} 已收到"))
            send_on_commit(Message("inapp", "resident", "诉求进度", f"#{i} 已收到"))
    sms = [m for m in MemorySender.outbox if m.channel == "sms"]
    assert len(sms) == ratelimit.LIMITS["notify.sms"]["key"].per_day == 20
    assert len([m for m in MemorySender.outbox if m.channel == "inapp"]) == 40
    # Within one minute a burst is cut short too, and other numbers are unaffected.
    clock.t += 86_400
    MemorySender.outbox.clear()
    for _ in range(10):
        with transaction.atomic():
            send_on_commit(Message("sms", "13800000001", "x", "y"))
            send_on_commit(Message("sms", "13800000002", "x", "y"))
    assert [m.to for m in MemorySender.outbox].count("13800000001") == 5
    assert [m.to for m in MemorySender.outbox].count("13800000002") == 5
    MemorySender.outbox.clear()
