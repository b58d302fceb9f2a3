"""A meeting's online link is shown to every resident as a link: only http(s)
addresses are accepted (issue 9, finding 13: ``javascript:`` was stored)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from linli.core.errors import ValidationFailed
from linli.deliberation.models import Meeting, MeetingSeries
from linli.deliberation.services import meeting_schedule, meeting_series_create
from linli.deliberation.tests.conftest import future

pytestmark = pytest.mark.django_db

BAD = [
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://meeting.example.cn/1",
    "//evil.example/x",
    "meeting.example.cn/123",
]


@pytest.mark.parametrize("url", BAD)
def test_only_http_links_are_accepted(cw, url: str) -> None:
    sec = cw.w.user("secretary")
    start = future(10)
    with pytest.raises(ValidationFailed, match="http") as err:
        meeting_schedule(
            actor=sec,
            council=cw.council,
            title="线上议事",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            mode="online",
            online_url=url,
        )
    assert err.value.field == "online_url"
    with pytest.raises(ValidationFailed, match="http"):
        meeting_series_create(
            actor=sec,
            council=cw.council,
            title="线上例会",
            weekday=2,
            start_time=time(19, 0),
            mode="hybrid",
            location="议事厅",
            online_url=url,
        )
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()


def test_https_link_is_kept(cw) -> None:
    start = future(10)
    m = meeting_schedule(
        actor=cw.w.user("secretary"),
        council=cw.council,
        title="线上议事",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        mode="online",
        online_url=" https://meeting.example.cn/123?pwd=1 ",
    )
    assert m.online_url == "https://meeting.example.cn/123?pwd=1"


def test_meeting_form_refuses_javascript_link(client, cw) -> None:
    w = cw.w
    client.force_login(w.user("secretary"))
    start = future(10)
    resp = client.post(
        f"/deliberation/meetings/new/?community={w.community.pk}",
        {
            "title": "线上议事",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "mode": "online",
            "online_url": "javascript:alert(1)",
        },
        follow=True,
    )
    assert "会议链接只能是以 http:// 或 https:// 开头的网址" in resp.content.decode()
    assert not Meeting.objects.exists()


def test_stored_unsafe_link_is_not_rendered_as_a_link(client, cw) -> None:
    """A row saved before the check (or written around the service) is shown as text."""
    start = future(10)
    m = meeting_schedule(
        actor=cw.w.user("secretary"),
        council=cw.council,
        title="线上议事",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        mode="online",
        online_url="https://meeting.example.cn/1",
    )
    Meeting.objects.filter(pk=m.pk).update(online_url="javascript:alert(1)")
    client.force_login(cw.w.user("secretary"))
    body = client.get(f"/deliberation/meetings/{m.pk}/").content.decode()
    assert 'href="javascript:' not in body
