"""Dates as residents say them (12月7日前, in Beijing time) and English for what the
system itself defines (starter categories, 同意/反对/弃权, page titles)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone, translation

from linli.core.dates import friendly_due
from linli.core.tests.test_home import _ballot, _submit
from linli.requests.models import ServiceRequest

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    """What the reader sees: the page without its tags (``datetime=`` keeps the minute)."""
    return re.sub(r"<[^>]+>", "", html)


def _utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_friendly_due_is_the_beijing_day_around_midnight() -> None:
    today = date(2026, 11, 30)
    # 23:59 in Beijing on 7 December is 15:59 UTC: still the 7th.
    assert friendly_due(_utc(2026, 12, 7, 15, 59), today=today) == "12月7日前"
    # Exactly midnight starting the 8th means "by the end of the 7th".
    assert friendly_due(_utc(2026, 12, 7, 16, 0), today=today) == "12月7日前"
    # 00:01 in Beijing on the 8th (16:01 UTC on the 7th): the 8th, not the UTC day.
    assert friendly_due(_utc(2026, 12, 7, 16, 1), today=today) == "12月8日前"
    # 05:11 Beijing time, the kind of minute the pages used to show.
    assert friendly_due(_utc(2026, 12, 6, 21, 11), today=today) == "12月7日前"
    # Another year says the year; nothing says the minute.
    assert friendly_due(_utc(2027, 1, 3, 2, 0), today=today) == "2027年1月3日前"
    assert friendly_due(None) == ""
    with translation.override("en"):
        assert friendly_due(_utc(2026, 12, 7, 15, 59), today=today) == "by Dec 7"


def test_resident_request_page_says_the_day_staff_page_keeps_the_minute(
    client: Any, world: Any
) -> None:
    req = _submit(world)
    due = _utc(2026, 12, 6, 21, 11)  # 2026-12-07 05:11 in Beijing
    ServiceRequest.objects.filter(pk=req.pk).update(next_due_at=due)
    client.force_login(world.user("resident"))
    html = _text(client.get(f"/requests/{req.pk}/").content.decode())
    assert "12月7日前" in html
    assert "05:11" not in html and "2026-12-07" not in html
    client.force_login(world.user("secretary"))
    staff = client.get(f"/requests/desk/{req.pk}/").content.decode()
    assert "2026-12-07 05:11" in staff


def test_ballot_list_says_the_closing_day(client: Any, world: Any) -> None:
    closes = timezone.now() + timedelta(days=3)
    _ballot(world, "加装电梯", closes_at=closes)
    client.force_login(world.user("resident"))
    html = _text(client.get("/voting/").content.decode())
    day = timezone.localtime(closes).date()
    if timezone.localtime(closes).time() == datetime.min.time():
        day -= timedelta(days=1)
    assert f"{day.month}月{day.day}日前" in html
    assert timezone.localtime(closes).strftime("%Y-%m-%d %H:%M") not in html


def test_demo_morning_shift_matches_its_text_whatever_the_hour(client: Any, world: Any) -> None:
    """The demo's 垃圾分类 shift says 早 7:00–9:00 and shows 07:00–09:00, whether the
    demo is built at 05:30 or 23:30 Beijing time."""
    from linli.volunteers import services
    from linli.volunteers.demo import morning_shift

    for now in (_utc(2026, 11, 29, 21, 30), _utc(2026, 11, 30, 15, 30)):
        with mock.patch("django.utils.timezone.now", return_value=now):
            start, end = morning_shift()
        local = timezone.localtime(start)
        assert (local.hour, local.minute) == (7, 0)
        assert timezone.localtime(end).hour == 9
        assert local.date() == timezone.localtime(now).date() + timedelta(days=1)
    start, end = morning_shift()
    a = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="garbage",
        title="垃圾分类桶边督导（早班）",
        location="3幢",
        starts_at=start,
        ends_at=end,
        capacity=6,
        earn_kind="",
        description="早 7:00–9:00 桶边指导居民分类投放。",
    )
    client.force_login(world.user("resident"))
    html = client.get(f"/volunteers/{a.pk}/").content.decode()
    assert "07:00 – 09:00" in html
    listing = client.get("/volunteers/").content.decode()
    assert "07:00–09:00" in listing


def test_english_mode_translates_system_defined_data(client: Any, world: Any) -> None:
    req = _submit(world)
    b = _ballot(world, "加装电梯")
    client.force_login(world.user("resident"))
    client.cookies["django_language"] = "en"
    html = client.get(f"/requests/{req.pk}/").content.decode()
    assert f"Request #{req.pk}" in html and "Requests #" not in html
    assert "Street or stairwell light broken" in html and "路灯/楼道灯损坏" not in html
    mine = client.get("/requests/mine/").content.decode()
    assert "Street or stairwell light broken" in mine
    ballot = client.get(f"/voting/{b.pk}/").content.decode()
    for en in ("For", "Against", "Abstain"):
        assert f"<span>{en}</span>" in ballot
    for zh in ("同意", "反对", "弃权"):
        assert f"<span>{zh}</span>" not in ballot
    client.force_login(world.user("secretary"))
    client.cookies["django_language"] = "en"
    staff = client.get(f"/requests/desk/{req.pk}/").content.decode()
    assert f"Ticket #{req.pk}" in staff and "Street or stairwell light broken" in staff
    queue = client.get("/requests/desk/").content.decode()
    assert "Facilities" in queue and "公用设施" not in queue
