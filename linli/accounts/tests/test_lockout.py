"""Login lockout (issue 9, finding 4): keyed on the account, capped per IP across
accounts, client IP read from a proxy header only when the proxy is trusted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PW = "pw-Linli-2026"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _login(c: Client, ident: str, pw: str, **extra: str) -> int:
    return c.post("/accounts/login/", {"username": ident, "password": pw}, **extra).status_code  # type: ignore[arg-type]


def test_phone_and_username_share_one_counter(world) -> None:
    u = world.user("resident")
    u.phone = "13812341234"
    u.save()
    c = Client()
    codes = [_login(c, "13812341234", "wrong") for _ in range(5)]
    assert codes[:4] == [200] * 4  # the fifth failure locks
    # The username is the same account: already locked, even with the right password.
    r = c.post("/accounts/login/", {"username": "resident", "password": PW})
    assert r.status_code == 429
    assert "锁定" in r.content.decode()
    assert "_auth_user_id" not in c.session


def test_mixed_identifiers_are_counted_together(world) -> None:
    u = world.user("resident")
    u.phone = "13812341234"
    u.save()
    c = Client()
    for ident in ["resident", "13812341234", "resident", "13812341234"]:
        assert _login(c, ident, "wrong") == 200
    assert _login(c, "resident", "wrong") == 429
    assert _login(c, "13812341234", PW) == 429


def test_one_ip_guessing_across_many_accounts_is_refused(world) -> None:
    c = Client()
    codes = [_login(c, f"1390000{i:04d}", "123456") for i in range(40)]
    assert codes[:20] == [200] * 20
    assert set(codes[20:]) == {429}
    # Even a real account with its right password is refused from that address now …
    r = c.post("/accounts/login/", {"username": "secretary", "password": PW})
    assert r.status_code == 429 and "_auth_user_id" not in c.session
    assert "尝试次数过多" in r.content.decode()
    # … while another address is not affected.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert _login(other, "secretary", PW) == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(world) -> None:
    c = Client()
    for i in range(5):
        _login(c, "resident", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    # A forged header cannot buy fresh attempts: the lockout still holds.
    assert _login(c, "resident", PW, HTTP_X_FORWARDED_FOR="203.0.113.99") == 429


@override_settings(LINLI_TRUSTED_PROXIES=["127.0.0.1"])
def test_forwarded_for_is_used_behind_a_trusted_proxy(world) -> None:
    proxy = Client()  # the test client's REMOTE_ADDR is 127.0.0.1: our proxy
    for _ in range(5):
        _login(proxy, "resident", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert _login(proxy, "resident", PW, HTTP_X_FORWARDED_FOR="203.0.113.7") == 429
    # Another client behind the same proxy is not locked out by the first one.
    assert _login(proxy, "resident", PW, HTTP_X_FORWARDED_FOR="198.51.100.8") == 302


@override_settings(LINLI_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_client_ip_helper_takes_the_address_the_proxy_saw() -> None:
    from django.test import RequestFactory

    from linli.accounts.lockout import client_ip

    rf = RequestFactory()
    # A client-supplied left part is ignored: the right-most untrusted address counts.
    req = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    assert client_ip(req) == "203.0.113.9"
    req = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(req) == "192.0.2.1"
    req = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(req) == "10.0.0.5"
