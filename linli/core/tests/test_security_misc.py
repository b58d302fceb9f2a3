"""Issue 9, finding 13 (the shared parts): NUL bytes in input, the API docs under the
CSP, the CSP's base-uri, and ``Cache-Control: no-store`` on signed-in pages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from linli.ledger.models import LedgerTransaction

pytestmark = pytest.mark.django_db

BAD_CHARS = "输入包含无效字符"


def _refused(resp: Any) -> None:
    assert resp.status_code == 400
    if resp["Content-Type"].startswith("application/json"):
        body = json.loads(resp.content)["message"]
    else:
        body = resp.content.decode()
    assert BAD_CHARS in body and "数值超出允许范围" not in body


def test_nul_byte_in_query_form_and_api_is_refused_clearly(client: Any, world: Any) -> None:
    """A NUL byte anywhere a user types (query, form field, JSON) gets a 400 that says
    the input has an invalid character — not "number out of range" — and nothing is
    written."""
    client.force_login(world.user("resident"))
    _refused(client.get("/ledger/timebank/", {"q": "李\x00"}))
    _refused(client.get("/api/v1/ledger/me", {"x": "\x00"}))
    _refused(client.post("/ledger/donate/", {"idempotency_key": "k\x00", "points": "1"}))
    api = client.post(
        "/api/v1/ledger/donate",
        {"points": 1, "idempotency_key": "nul\x00key"},
        content_type="application/json",
    )
    _refused(api)
    assert api.json()["code"] == "invalid_characters"
    assert not LedgerTransaction.objects.exists()
    # An escaped "\\u0000" typed as text (a backslash, then u0000) is not a NUL byte.
    ok = client.post(
        "/api/v1/ledger/donate",
        {"points": 1, "idempotency_key": "\\u0000-literal"},
        content_type="application/json",
    )
    assert ok.json().get("code") != "invalid_characters"


def test_api_docs_load_only_local_assets(client: Any) -> None:
    """The Swagger UI page must work under our CSP (script/style from 'self' only):
    every script and stylesheet it references is served from our own origin."""
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(r.endswith("swagger-ui-bundle.js") for r in refs), refs
    assert any(r.endswith(".css") for r in refs), refs
    for ref in refs:
        assert ref.startswith("/static/"), ref
        assert client.get(ref).status_code == 200, ref
    assert "<script>" not in html  # no inline script (the CSP would block it)


def test_csp_restricts_base_uri_forms_and_framing(client: Any) -> None:
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]


def test_signed_in_pages_are_not_cached(client: Any, world: Any) -> None:
    """Pages and API answers for a signed-in user carry ``Cache-Control: no-store`` (a
    shared computer's browser cache or a proxy must not keep personal data); a
    response that set its own caching keeps it."""
    client.force_login(world.user("resident"))
    for url in ["/me/", "/ledger/", "/api/v1/ledger/me"]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "no-store" in resp["Cache-Control"], url
    client.logout()
    # Anonymous public pages are left to the normal caching rules.
    anon = client.get("/api/v1/docs")
    assert anon.status_code == 200 and not anon.has_header("Cache-Control")


def test_database_nul_refusal_is_reported_as_invalid_characters(rf: Any) -> None:
    """NULs that reach PostgreSQL some other way (psycopg raises DataError) get the same
    clear message, not "数值超出允许范围"."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import DataError
    from django.http import HttpResponse

    from linli.core.middleware import DomainErrorMiddleware

    mw = DomainErrorMiddleware(lambda r: HttpResponse())
    exc = DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    for path in ("/api/v1/ledger/donate", "/ledger/donate/"):
        request = rf.post(path)
        request.user = AnonymousUser()
        resp = mw.process_exception(request, exc)
        assert resp is not None
        _refused(resp)
    other = mw.process_exception(rf.get("/api/v1/x"), DataError("integer out of range"))
    assert other is not None and other.status_code == 400
    assert json.loads(other.content)["code"] == "out_of_range"
