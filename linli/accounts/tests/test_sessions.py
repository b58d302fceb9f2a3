"""Sessions and accounts (issue 9, finding 11): staff idle timeout, TOTP for staff,
password change, password reset by an SMS code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, TestCase, override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.core.models import AuditEvent
from linli.core.notify import MemorySender

pytestmark = pytest.mark.django_db

PW = "pw-Linli-2026"
T0 = 1_800_000_000.0  # a fixed clock for TOTP


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    cache.clear()
    MemorySender.outbox.clear()
    yield
    MemorySender.outbox.clear()
    cache.clear()


# --- idle timeout -----------------------------------------------------------------


def _age_session(c: Client, seconds: int) -> None:
    s = c.session
    s["linli_seen"] = int(time.time()) - seconds
    s.save()


def test_staff_session_ends_after_30_idle_minutes(world) -> None:
    c = Client()
    c.force_login(world.user("secretary"))
    assert c.get("/workbench/").status_code == 200
    _age_session(c, 29 * 60)
    assert c.get("/workbench/").status_code == 200  # activity keeps it alive …
    _age_session(c, 31 * 60)
    r = c.get("/workbench/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert "_auth_user_id" not in c.session  # … idleness ends it


def test_resident_session_has_no_idle_timeout(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    assert c.get("/me/").status_code == 200
    _age_session(c, 3 * 24 * 3600)
    assert c.get("/me/").status_code == 200


# --- TOTP for staff -----------------------------------------------------------------


def _code(device: TOTPDevice, at: float) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at
    return f"{totp.token():0{device.digits}d}"


def _wait_out_throttle() -> None:
    TOTPDevice.objects.update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=10))


@pytest.fixture
def clock(monkeypatch: Any) -> dict[str, float]:
    now = {"t": T0}
    import django_otp.plugins.otp_totp.models as totp_models

    monkeypatch.setattr(totp_models.time, "time", lambda: now["t"])
    return now


def _password_login(ident: str) -> Client:
    c = Client()
    r = c.post("/accounts/login/", {"username": ident, "password": PW})
    assert r.status_code == 302
    return c


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_staff_enrol_then_verify_at_login(world, clock) -> None:
    c = _password_login("secretary")
    r = c.get("/workbench/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/enrol/")
    page = c.get("/accounts/mfa/enrol/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.user("secretary"))
    assert device.confirmed is False
    r = c.post(
        "/accounts/mfa/enrol/", {"code": "000000" if _code(device, T0) != "000000" else "111111"}
    )
    assert r.status_code == 200 and "验证码不正确" in r.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert c.get("/workbench/").status_code == 302  # still not let in
    # A failure throttles the device (django-otp: 1 s, 2 s, 4 s …): even the right code
    # is refused at once …
    assert c.post("/accounts/mfa/enrol/", {"code": _code(device, T0)}).status_code == 200
    _wait_out_throttle()
    # … and accepted once the delay has passed.
    r = c.post("/accounts/mfa/enrol/", {"code": _code(device, T0)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert c.get("/workbench/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.mfa_enrol").count() == 1

    # Next login: the password alone is not enough.
    clock["t"] = T0 + 90
    c2 = _password_login("secretary")
    r = c2.get("/workbench/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/verify/")
    r = c2.post("/accounts/mfa/verify/", {"code": "12345x"})
    assert r.status_code == 200 and "验证码不正确" in r.content.decode()
    assert c2.get("/workbench/").status_code == 302
    api = c2.get("/api/v1/accounts/me")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"
    clock["t"] = T0 + 120
    _wait_out_throttle()
    r = c2.post("/accounts/mfa/verify/", {"code": _code(device, T0 + 120)})
    assert r.status_code == 302
    assert c2.get("/workbench/").status_code == 200


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_residents_are_never_asked_for_a_code(world) -> None:
    c = _password_login("resident")
    assert c.get("/me/").status_code == 200


@override_settings(LINLI_STAFF_MFA_REQUIRED=False)
def test_mfa_not_required_lets_unenrolled_staff_in(world) -> None:
    c = _password_login("secretary")
    assert c.get("/workbench/").status_code == 200


# --- password change ----------------------------------------------------------------


def test_password_change(world) -> None:
    c = Client()
    c.force_login(world.user("resident"))
    assert c.get("/accounts/password/change/").status_code == 200
    r = c.post(
        "/accounts/password/change/",
        {
            "old_password": "wrong",
            "new_password1": "Zq8-linli-new",
            "new_password2": "Zq8-linli-new",
        },
    )
    assert r.status_code == 200
    r = c.post(
        "/accounts/password/change/",
        {"old_password": PW, "new_password1": "Zq8-linli-new", "new_password2": "Zq8-linli-new"},
    )
    assert r.status_code == 302
    assert c.get("/me/").status_code == 200  # still signed in
    world.user("resident").refresh_from_db()
    assert world.user("resident").check_password("Zq8-linli-new")


# --- password reset by SMS ----------------------------------------------------------


def _with_phone(world) -> Any:
    u = world.user("resident")
    u.phone = "13812341234"
    u.save()
    return u


def _ask(c: Client, phone: str) -> Any:
    # SMS go out on commit: run those callbacks inside the test's transaction.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return c.post("/accounts/password/reset/", {"phone": phone}, follow=True)


def _sms_code() -> str:
    assert MemorySender.outbox, "no SMS sent"
    m = re.search(r"\b(\d{6})\b", MemorySender.outbox[-1].body)
    assert m
    return m.group(1)


def _confirm(c: Client, phone: str, code: str, pw: str = "Zq8-linli-reset") -> Any:
    return c.post(
        "/accounts/password/reset/confirm/",
        {"phone": phone, "code": code, "new_password1": pw, "new_password2": pw},
    )


def _clean_html(r: Any) -> str:
    html = r.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r"1381234\d{4}|1390000\d{4}", "PHONE", html)


def test_reset_by_sms_code(world) -> None:
    from linli.accounts.models import PasswordResetCode

    user = _with_phone(world)
    c = Client()
    r = _ask(c, "13812341234")
    assert r.status_code == 200
    assert len(MemorySender.outbox) == 1 and MemorySender.outbox[0].to == "13812341234"
    code = _sms_code()
    # Stored hashed only.
    row = PasswordResetCode.objects.get(user=user)
    assert code not in row.code_hash
    r = _confirm(c, "13812341234", code)
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Zq8-linli-reset")
    assert AuditEvent.objects.filter(action="accounts.password_reset").count() == 1
    # Single use.
    r = _confirm(c, "13812341234", code, pw="Another-pw-77")
    assert r.status_code == 200 and "验证码不正确或已过期" in r.content.decode()
    user.refresh_from_db()
    assert user.check_password("Zq8-linli-reset")


def test_reset_answer_is_the_same_for_unknown_phones(world) -> None:
    _with_phone(world)
    known = _ask(Client(), "13812341234")
    unknown = _ask(Client(), "13900001111")
    assert known.status_code == unknown.status_code == 200
    assert _clean_html(known) == _clean_html(unknown)
    assert len(MemorySender.outbox) == 1  # only the real account got a message
    r = _confirm(Client(), "13900001111", "123456")
    assert r.status_code == 200 and "验证码不正确或已过期" in r.content.decode()


def test_reset_code_expires_after_ten_minutes(world) -> None:
    from linli.accounts.models import PasswordResetCode

    user = _with_phone(world)
    _ask(Client(), "13812341234")
    code = _sms_code()
    PasswordResetCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _confirm(Client(), "13812341234", code).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PW)


def test_reset_code_allows_ten_attempts(world) -> None:
    user = _with_phone(world)
    _ask(Client(), "13812341234")
    code = _sms_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(10):
        assert _confirm(Client(), "13812341234", wrong).status_code == 200
    # The right code no longer works: the code is spent.
    assert _confirm(Client(), "13812341234", code).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PW)


def test_reset_codes_are_rate_limited_per_phone(world) -> None:
    from linli.core import ratelimit

    _with_phone(world)
    now = {"t": T0}
    with ratelimit.use_clock(lambda: now["t"]):
        assert _ask(Client(), "13812341234").status_code == 200
        r = _ask(Client(), "13812341234")  # within the same minute
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert len(MemorySender.outbox) == 1
        for i in range(1, 5):
            now["t"] = T0 + 120 * i
            assert _ask(Client(), "13812341234").status_code == 200
        assert len(MemorySender.outbox) == 5
        now["t"] = T0 + 120 * 6
        assert _ask(Client(), "13812341234").status_code == 429  # 5 a day
        assert len(MemorySender.outbox) == 5
        # An unknown number is limited exactly the same way (no enumeration).
        assert _ask(Client(), "13900001111").status_code == 200
        assert _ask(Client(), "13900001111").status_code == 429
