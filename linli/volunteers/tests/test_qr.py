"""QR check-in: the venue code (staff page) and the volunteer's own pass, as SVG images
without inline styles, each encoding exactly its signed link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.core.errors import NotFound, ValidationFailed
from linli.volunteers import services
from linli.volunteers.models import Activity, SignUpStatus
from linli.volunteers.qr import svg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(world: Any) -> Activity:
    now = timezone.now()
    return services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="cleanup",
        title="楼道清洁",
        location="1幢",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        capacity=5,
    )


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _assert_clean_svg(body: bytes) -> None:
    root = ElementTree.fromstring(body)  # noqa: S314 (our own output, well-formed XML)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")
    for el in root.iter():
        assert "style" not in el.attrib
        assert not el.tag.endswith("script")


def test_staff_page_shows_venue_qr_encoding_the_signed_link(world: Any, activity: Activity) -> None:
    c = _client(world.user("grid_worker"))
    page = c.get(reverse("volunteers:activity_detail", args=[activity.pk])).content.decode()
    assert 'id="checkin-qr"' in page
    assert ' style="' not in page and "<script>" not in page
    link = re.search(r'id="checkin-url"><a href="([^"]+)"', page)
    assert link is not None  # the plain link stays visible as a fallback
    url = link.group(1)
    assert "/volunteers/checkin/" in url
    resp = c.get(reverse("volunteers:checkin_qr", args=[activity.pk]))
    assert resp.status_code == 200
    assert resp["Content-Type"] == "image/svg+xml"
    assert "no-store" in resp["Cache-Control"]
    _assert_clean_svg(resp.content)
    # The image is exactly the QR of the link printed beside it.
    assert resp.content == svg_bytes(url)
    assert resp.content != svg_bytes(url + "x")


def test_venue_qr_is_staff_only(world: Any, activity: Activity) -> None:
    url = reverse("volunteers:checkin_qr", args=[activity.pk])
    assert _client(world.user("resident")).get(url).status_code == 404
    assert _client(world.user("stranger")).get(url).status_code == 404
    page = _client(world.user("resident")).get(
        reverse("volunteers:activity_detail", args=[activity.pk])
    )
    assert b"checkin-qr" not in page.content


def test_volunteer_pass_qr_and_staff_scan(world: Any, activity: Activity) -> None:
    r = world.residents["resident"]
    s = services.signup(actor=world.user("resident"), activity=activity, resident=r)
    me = _client(world.user("resident"))
    page = me.get(reverse("volunteers:activity_detail", args=[activity.pk])).content.decode()
    assert 'id="pass-qr"' in page and f"#{s.pk}" in page
    assert ' style="' not in page
    m = re.search(r'id="pass-url" href="([^"]+)"', page)
    assert m is not None
    pass_url = m.group(1)
    img = me.get(reverse("volunteers:pass_qr", args=[s.pk]))
    assert img.status_code == 200 and img["Content-Type"] == "image/svg+xml"
    _assert_clean_svg(img.content)
    assert img.content == svg_bytes(pass_url)
    # Nobody else gets someone's pass image.
    assert (
        _client(world.user("neighbour")).get(reverse("volunteers:pass_qr", args=[s.pk])).status_code
        == 404
    )
    path = pass_url.split("testserver", 1)[1]
    # A resident scanning someone's pass learns nothing and changes nothing.
    assert _client(world.user("neighbour")).post(path).status_code == 404
    s.refresh_from_db()
    assert s.status == SignUpStatus.REGISTERED
    staff = _client(world.user("grid_worker"))
    shown = staff.get(path)
    assert shown.status_code == 200 and r.name in shown.content.decode()
    resp = staff.post(path)
    assert resp.status_code == 302
    s.refresh_from_db()
    assert s.status == SignUpStatus.CHECKED_IN and s.checked_in_by == world.user("grid_worker")
    # Once checked in, the pass is no longer offered on the volunteer's page.
    page = me.get(reverse("volunteers:activity_detail", args=[activity.pk])).content.decode()
    assert 'id="pass-qr"' not in page


def test_pass_and_venue_tokens_do_not_mix(world: Any, activity: Activity) -> None:
    r = world.residents["resident"]
    s = services.signup(actor=world.user("resident"), activity=activity, resident=r)
    with pytest.raises(ValidationFailed):
        services.check_in_by_token(actor=world.user("resident"), token=services.pass_token(s))
    with pytest.raises(ValidationFailed):
        services.check_in_by_pass(
            actor=world.user("grid_worker"), token=services.checkin_token(activity)
        )
    with pytest.raises(NotFound):  # staff of another community
        services.check_in_by_pass(actor=world.user("stranger"), token=services.pass_token(s))
