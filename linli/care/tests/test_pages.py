"""Pages work without JavaScript: each role sees its page, forms post and redirect,
refusals show a message and change nothing, strangers get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.care import services
from linli.care.models import Alert, Visit
from linli.care.rules import Point, Verdict
from linli.care.tests.conftest import Care

pytestmark = pytest.mark.django_db


def _client(care: Care, who: str) -> Client:
    c = Client()
    c.force_login(care.world.user(who))
    return c


def _alert(care: Care) -> Alert:
    now = timezone.now()
    a = services.raise_alert(
        device=care.sos,
        verdict=Verdict("sos", "一键呼救 1 次", [Point(1, now, 1, "sos")]),
        subject=care.subject,
        now=now,
    )
    assert a is not None
    return a


def test_grid_worker_task_list_shows_urgent_alert_first(care: Care) -> None:
    a = _alert(care)
    r = _client(care, "grid_worker").get("/care/")
    body = r.content.decode()
    assert r.status_code == 200
    assert f'id="alert-{a.pk}"' in body and "我已收到，马上处理" in body
    assert body.index("紧急报警") < body.index("走访已超期")


@pytest.mark.parametrize(
    "path",
    [
        "/care/",
        "/care/roster/",
        "/care/alerts/",
        "/care/devices/",
        "/care/events/",
        "/care/settings/",
    ],
)
def test_staff_pages_render(care: Care, path: str) -> None:
    _alert(care)
    r = _client(care, "secretary").get(path)
    assert r.status_code == 200, path
    assert b'lang="zh-Hans"' in r.content


def test_subject_and_visit_pages(care: Care) -> None:
    c = _client(care, "grid_worker")
    r = c.get(f"/care/s/{care.subject.pk}/")
    assert r.status_code == 200 and "13900001111" in r.content.decode()
    r = c.get(f"/care/s/{care.subject.pk}/visit/")
    assert r.status_code == 200 and 'name="present"' in r.content.decode()
    r = c.post(
        f"/care/s/{care.subject.pk}/visit/",
        {
            "present": "1",
            "checklist": ["spirit", "meals"],
            "needs": "要装扶手",
            "idempotency_key": "abc",
        },
    )
    v = Visit.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/care/v/{v.pk}/"
    assert v.checklist == ["meals", "spirit"]
    r = c.get(r["Location"])
    assert "转为诉求" in r.content.decode()


def test_visit_form_without_presence_is_refused(care: Care) -> None:
    r = _client(care, "grid_worker").post(f"/care/s/{care.subject.pk}/visit/", {"needs": "x"})
    assert r.status_code == 200 and "请选择是否见到本人" in r.content.decode()
    assert not Visit.objects.exists()


def test_other_grid_worker_cannot_open_the_subject(care: Care) -> None:
    c = _client(care, "other_grid_worker")
    assert c.get(f"/care/s/{care.subject.pk}/").status_code == 404
    assert c.post(f"/care/s/{care.subject.pk}/visit/", {"present": "1"}).status_code == 404
    assert not Visit.objects.exists()


def test_street_officer_sees_masked_family_phone(care: Care) -> None:
    r = _client(care, "street_officer").get(f"/care/s/{care.subject.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "139****1111" in body and "13900001111" not in body


def test_alert_acknowledge_and_resolve_by_form(care: Care) -> None:
    a = _alert(care)
    c = _client(care, "grid_worker")
    r = c.post(f"/care/alerts/{a.pk}/act/", {"action": "acknowledge"})
    assert r.status_code == 302
    r = c.post(f"/care/alerts/{a.pk}/act/", {"action": "resolve", "outcome": ""}, follow=True)
    assert "请选择处置结果" in r.content.decode()
    c.post(f"/care/alerts/{a.pk}/act/", {"action": "resolve", "outcome": "fine"})
    a.refresh_from_db()
    assert a.status == "resolved" and a.outcome == "fine"


def test_acknowledge_by_someone_off_the_ladder_shows_a_message(care: Care) -> None:
    a = _alert(care)
    # A colleague in the same grid sees the alert but is not on its ladder.
    from conftest import make_user
    from linli.accounts.models import Membership, Role

    u = make_user("grid_colleague")
    Membership.objects.create(user=u, role=Role.GRID_WORKER, unit=care.world.grid)
    c = Client()
    c.force_login(u)
    r = c.get(f"/care/alerts/{a.pk}/")
    assert r.status_code == 200 and 'id="ack"' not in r.content.decode()
    r = c.post(f"/care/alerts/{a.pk}/act/", {"action": "acknowledge"}, follow=True)
    assert "响应名单" in r.content.decode()
    a.refresh_from_db()
    assert a.status == "open"


def test_resident_reports_away_and_back(care: Care) -> None:
    c = _client(care, "resident")
    r = c.get("/care/")
    assert "报备外出" in r.content.decode()
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    c.post(f"/care/s/{care.subject.pk}/away/", {"until": day, "reason": "住院"})
    care.subject.refresh_from_db()
    assert care.subject.away_until is not None and care.subject.away_reason == "住院"
    assert "我已回家" in c.get("/care/").content.decode()
    c.post(f"/care/s/{care.subject.pk}/away/", {"clear": "1"})
    care.subject.refresh_from_db()
    assert care.subject.away_until is None


def test_device_registration_shows_the_secret_once(care: Care) -> None:
    c = _client(care, "secretary")
    hh = care.subject.household_id
    r = c.post("/care/devices/", {"kind": "door", "serial": "DC-9", "household": hh})
    body = r.content.decode()
    assert r.status_code == 200 and 'id="secret"' in body
    assert 'id="secret"' not in c.get("/care/devices/").content.decode()


def test_enrol_from_the_roster_page(care: Care) -> None:
    from conftest import make_resident

    r2 = make_resident(
        care.world.residents["neighbour"].household, "赵六", tags=["empty_nest"], birth_year=1940
    )
    c = _client(care, "secretary")
    body = c.get("/care/roster/").content.decode()
    assert "赵六" in body
    r = c.post(
        "/care/roster/enrol/",
        {
            "community": care.world.community.pk,
            "resident": r2.pk,
            "worker": care.world.user("grid2_worker").pk,
        },
    )
    assert r.status_code == 302


def test_anonymous_is_sent_to_login(client: Client, care: Care) -> None:
    r = client.get("/care/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_english(care: Care) -> None:
    c = _client(care, "grid_worker")
    r = c.get("/care/?lang=en", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
