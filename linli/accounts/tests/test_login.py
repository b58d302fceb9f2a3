from __future__ import annotations

import pytest
from django.test import Client

from linli.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_by_phone_and_by_username(world) -> None:
    world.users["resident"].phone = "13812341234"
    world.users["resident"].save()
    c = Client()
    r = c.post("/accounts/login/", {"username": "13812341234", "password": "pw-Linli-2026"})
    assert r.status_code == 302
    assert c.get("/me/").status_code == 200
    c2 = Client()
    r = c2.post("/accounts/login/", {"username": "secretary", "password": "pw-Linli-2026"})
    assert r.status_code == 302
    assert c2.get("/", follow=True).request["PATH_INFO"] == "/workbench/"


def test_wrong_password_gets_chinese_message_and_no_session(world) -> None:
    c = Client()
    r = c.post("/accounts/login/", {"username": "resident", "password": "wrong"})
    assert r.status_code == 200
    assert "密码不正确" in r.content.decode()
    assert "_auth_user_id" not in c.session
    assert c.get("/me/").status_code == 302


def test_lockout_after_five_failures_even_with_right_password(world) -> None:
    c = Client()
    for _ in range(5):
        c.post("/accounts/login/", {"username": "resident", "password": "wrong"})
    r = c.post("/accounts/login/", {"username": "resident", "password": "pw-Linli-2026"})
    assert r.status_code == 429
    assert "锁定" in r.content.decode()
    assert "_auth_user_id" not in c.session


def test_forged_csrf_is_refused_in_chinese_and_changes_nothing(world) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.user("resident"))
    before = AuditEvent.objects.count()
    r = c.post(
        "/accounts/profile/",
        {
            "show_name_publicly": "on",
            "phone_visibility": "public",
            "skills_visibility": "public",
            "csrfmiddlewaretoken": "forged",
        },
    )
    assert r.status_code == 403
    assert "页面已过期" in r.content.decode()
    assert AuditEvent.objects.count() == before
    assert (
        not hasattr(world.residents["resident"], "privacy")
        or world.residents["resident"].privacy.phone_visibility == "staff"
    )


def test_elderly_mode_is_remembered_on_the_account(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    assert 'class="elderly"' not in c.get("/me/").content.decode()
    c.post("/prefs/elderly/", {"next": "/me/"})
    world.user("resident").refresh_from_db()
    assert world.user("resident").elderly_mode is True
    c2 = Client()  # a new device: the account carries the setting
    c2.force_login(world.user("resident"))
    html = c2.get("/me/").content.decode()
    assert 'class="elderly"' in html and "elderly.css" in html


def test_language_switch_to_english(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    c.post("/prefs/language/", {"language": "en", "next": "/me/"})
    html = c.get("/me/").content.decode()
    assert '<html lang="en"' in html
    assert "Elderly mode" in html
    c.post("/prefs/language/", {"language": "zh-hans", "next": "/me/"})
    assert "长辈模式" in c.get("/me/").content.decode()


def test_open_redirect_is_refused(world) -> None:
    c = Client()
    r = c.post("/prefs/elderly/", {"next": "https://evil.example/"})
    assert r["Location"] == "/"
