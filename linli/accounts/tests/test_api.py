from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import ApiToken
from linli.accounts.services import api_token_issue

pytestmark = pytest.mark.django_db


def test_openapi_schema_and_docs_are_served(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"].startswith("Linli")
    assert "/api/v1/communities/residents" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_unknown_api_route_is_json_404(client) -> None:
    r = client.get("/api/v1/no/such/thing")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json() == {"code": "not_found", "message": "接口不存在。"}


def test_unauthenticated_is_401_json(client) -> None:
    r = client.get("/api/v1/accounts/me")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_token_auth_and_scoped_roster(world) -> None:
    _t, key = api_token_issue(user=world.user("grid_worker"), name="巡查App")
    c = Client()
    me = c.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert me["username"] == "grid_worker" and me["is_staff"] is True
    page = c.get("/api/v1/communities/residents", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    names = {i["name"] for i in page["items"]}
    assert names == {"张三"}
    assert page["items"][0]["phone_masked"] == "138****1234"
    assert "disabled" not in page["items"][0]["tags"]
    foreign = c.get(
        f"/api/v1/communities/residents/{world.residents['stranger'].pk}",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    bad = c.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer ll_wrong")
    assert bad.status_code == 401
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert c.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_sensitive_api_without_grant_is_403_in_chinese(world) -> None:
    c = Client()
    c.force_login(world.user("grid_worker"))
    r = c.post(f"/api/v1/communities/residents/{world.residents['resident'].pk}/sensitive/phone")
    assert r.status_code == 403 and r.json()["code"] == "grant_required"
    assert "授权" in r.json()["message"]


def test_session_api_needs_csrf_for_writes(world) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.user("resident"))
    r = c.patch(
        "/api/v1/accounts/me/preferences", {"elderly_mode": True}, content_type="application/json"
    )
    assert r.status_code in (401, 403)
    world.user("resident").refresh_from_db()
    assert world.user("resident").elderly_mode is False


def test_preferences_validation(world) -> None:
    _t, key = api_token_issue(user=world.user("resident"), name="app")
    c = Client()
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        {"language": "fr"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 400 and r.json()["field"] == "language"
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        {"elderly_mode": "maybe"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        {"elderly_mode": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 200 and r.json()["elderly_mode"] is True


def test_api_error_messages_follow_accept_language(client) -> None:
    r = client.get("/api/v1/accounts/me", HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["message"] == "Please log in or provide a valid access token."
    r = client.get("/api/v1/accounts/me", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert r.json()["message"] == "请先登录或提供有效的访问令牌。"


def test_bearer_token_writes_need_no_csrf_but_cookie_writes_do(world) -> None:
    _t, key = api_token_issue(user=world.user("resident"), name="app")
    c = Client(enforce_csrf_checks=True)
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        {"elderly_mode": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 200 and r.json()["elderly_mode"] is True
    c.force_login(world.user("neighbour"))  # now a session cookie without a CSRF token
    r = c.patch(
        "/api/v1/accounts/me/preferences", {"elderly_mode": True}, content_type="application/json"
    )
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    world.user("neighbour").refresh_from_db()
    assert world.user("neighbour").elderly_mode is False


def test_numbers_beyond_the_database_range_are_a_400_not_a_crash(world) -> None:
    _t, key = api_token_issue(user=world.user("secretary"), name="app")
    c = Client()
    huge = 10**30
    r = c.get(f"/api/v1/communities/residents?offset={huge}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 400 and r.json()["code"] == "out_of_range"
    r = c.get(f"/api/v1/communities/residents/{huge}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code in (400, 404)
    c.force_login(world.user("secretary"))
    page = c.get(f"/communities/residents/{huge}/")
    assert page.status_code in (400, 404)
    assert "数值超出" in page.content.decode() or "找不到" in page.content.decode()
