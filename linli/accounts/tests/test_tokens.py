"""API tokens (issue 9, finding 10): expiry, scopes enforced centrally, audit events
for issue and revoke, self-service list/issue/revoke page, management command."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from linli.accounts.models import ApiToken
from linli.accounts.services import api_token_issue, api_token_revoke
from linli.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_token_expires(world) -> None:
    token, key = api_token_issue(user=world.user("resident"), name="app", scopes=["read"])
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    c = Client()
    assert c.get("/api/v1/accounts/me", headers=_auth(key)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = c.get("/api/v1/accounts/me", headers=_auth(key))
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    assert "过期" in r.json()["message"]


def test_read_only_token_cannot_write(world) -> None:
    _t, key = api_token_issue(user=world.user("resident"), name="app", scopes=["read"])
    c = Client()
    assert c.get("/api/v1/accounts/me", headers=_auth(key)).status_code == 200
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        json.dumps({"elderly_mode": True}),
        content_type="application/json",
        headers=_auth(key),
    )
    assert r.status_code == 403 and r.json()["code"] == "token_scope"
    assert "write:accounts" in r.json()["message"]
    world.user("resident").refresh_from_db()
    assert world.user("resident").elderly_mode is False


def test_write_scope_is_per_app(world) -> None:
    _t, key = api_token_issue(user=world.user("resident"), name="app", scopes=["write:requests"])
    c = Client()
    # No read scope: even a GET is refused.
    assert c.get("/api/v1/accounts/me", headers=_auth(key)).status_code == 403
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        json.dumps({"elderly_mode": True}),
        content_type="application/json",
        headers=_auth(key),
    )
    assert r.status_code == 403
    _t, key2 = api_token_issue(
        user=world.user("resident"), name="app2", scopes=["read", "write:accounts"]
    )
    r = c.patch(
        "/api/v1/accounts/me/preferences",
        json.dumps({"elderly_mode": True}),
        content_type="application/json",
        headers=_auth(key2),
    )
    assert r.status_code == 200


def test_unknown_scope_is_refused(world) -> None:
    from linli.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        api_token_issue(user=world.user("resident"), name="x", scopes=["write:everything"])


def test_issue_and_revoke_are_audited(world) -> None:
    user = world.user("resident")
    token, key = api_token_issue(user=user, name="app", scopes=["read"], actor=user)
    ev = AuditEvent.objects.filter(action="accounts.token_issue").last()
    assert ev is not None and ev.actor_id == user.pk
    assert ev.payload["prefix"] == token.prefix and key not in json.dumps(ev.payload)
    api_token_revoke(actor=user, token_id=token.pk)
    assert AuditEvent.objects.filter(action="accounts.token_revoke").count() == 1
    assert Client().get("/api/v1/accounts/me", headers=_auth(key)).status_code == 401


def test_cannot_revoke_someone_elses_token(world) -> None:
    from linli.core.errors import NotFound

    token, _key = api_token_issue(user=world.user("resident"), name="app")
    with pytest.raises(NotFound):
        api_token_revoke(actor=world.user("neighbour"), token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_self_service_page_issue_list_revoke(world) -> None:
    c = Client()
    user = world.user("resident")
    c.force_login(user)
    assert "/accounts/tokens/" in c.get("/accounts/profile/").content.decode()
    r = c.post(
        "/accounts/tokens/",
        {"name": "家里的平板", "scopes": ["read", "write:requests"], "days": "30"},
    )
    assert r.status_code == 200
    html = r.content.decode()
    key = re.search(r"ll_[A-Za-z0-9_\-]{20,}", html)
    assert key, html
    token = ApiToken.objects.get(user=user, name="家里的平板")
    assert token.scope_list == ["read", "write:requests"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    listing = c.get("/accounts/tokens/").content.decode()
    assert token.prefix in listing and "家里的平板" in listing
    assert key.group(0) not in listing  # the key is shown once only
    api = Client()  # no session cookie: the bearer token alone
    assert api.get("/api/v1/accounts/me", headers=_auth(key.group(0))).status_code == 200
    # Another resident cannot revoke it; the owner can.
    other = Client()
    other.force_login(world.user("neighbour"))
    assert other.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert c.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/accounts/me", headers=_auth(key.group(0))).status_code == 401


def test_token_api_list_and_revoke(world) -> None:
    user = world.user("resident")
    token, key = api_token_issue(user=user, name="app", scopes=["read", "write:accounts"])
    c = Client()
    items = c.get("/api/v1/accounts/tokens", headers=_auth(key)).json()
    assert [i["prefix"] for i in items] == [token.prefix]
    assert "key_hash" not in items[0]
    r = c.post(f"/api/v1/accounts/tokens/{token.pk}/revoke", headers=_auth(key))
    assert r.status_code == 200 and r.json()["revoked_at"]


def test_management_command_scopes_and_days(world) -> None:
    out = StringIO()
    call_command(
        "issue_api_token",
        "resident",
        "巡查",
        "--scopes",
        "read,write:requests",
        "--days",
        "7",
        stdout=out,
    )
    key = out.getvalue().strip()
    token = ApiToken.objects.get(name="巡查")
    assert key.startswith("ll_") and token.prefix == key[:8]
    assert token.scope_list == ["read", "write:requests"]
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEvent.objects.filter(action="accounts.token_issue").exists()


def test_token_api_issue_needs_a_session_not_a_token(world) -> None:
    user = world.user("resident")
    _t, key = api_token_issue(user=user, name="all")  # every scope
    r = Client().post(
        "/api/v1/accounts/tokens",
        json.dumps({"name": "more", "scopes": ["read"]}),
        content_type="application/json",
        headers=_auth(key),
    )
    assert r.status_code == 403 and not ApiToken.objects.filter(name="more").exists()
    c = Client()
    c.force_login(user)
    r = c.post(
        "/api/v1/accounts/tokens",
        json.dumps({"name": "more", "scopes": ["read"], "days": 10}),
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["key"].startswith("ll_")
    assert r.json()["scopes"] == ["read"]
