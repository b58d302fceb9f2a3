"""Getting in: sign in by SMS code, and activation codes issued at the service window."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, TestCase, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.core.models import AuditEvent
from linli.core.notify import MemorySender

pytestmark = pytest.mark.django_db

PHONE = "13812341234"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    cache.clear()
    MemorySender.outbox.clear()
    yield
    MemorySender.outbox.clear()
    cache.clear()


def _with_phone(world: Any, key: str = "resident", phone: str = PHONE) -> Any:
    u = world.user(key)
    u.phone = phone
    u.save()
    return u


def _ask(c: Client, phone: str) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return c.post("/accounts/login/code/", {"phone": phone}, follow=True)


def _sms_code() -> str:
    assert MemorySender.outbox, "no SMS sent"
    m = re.search(r"\b(\d{6})\b", MemorySender.outbox[-1].body)
    assert m
    return m.group(1)


def _enter(c: Client, phone: str, code: str) -> Any:
    return c.post("/accounts/login/code/confirm/", {"phone": phone, "code": code})


def _html(r: Any) -> str:
    html = r.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r"1381234\d{4}|1390000\d{4}", "PHONE", html)


# --- SMS-code login -----------------------------------------------------------------


def test_login_page_links_to_code_login_activation_and_reset(world) -> None:
    html = Client().get("/accounts/login/").content.decode()
    for url, text in [
        ("/accounts/login/code/", "短信验证码登录"),
        ("/accounts/activate/", "激活账号"),
        ("/accounts/password/reset/", "忘记密码"),
    ]:
        assert f'href="{url}' in html and text in html


def test_code_login_signs_a_resident_in_once(world) -> None:
    from linli.accounts.models import PasswordResetCode

    user = _with_phone(world)
    c = Client()
    r = _ask(c, PHONE)
    assert r.status_code == 200 and r.request["PATH_INFO"] == "/accounts/login/code/confirm/"
    assert len(MemorySender.outbox) == 1 and MemorySender.outbox[0].to == PHONE
    assert "登录验证码" in MemorySender.outbox[0].body
    code = _sms_code()
    row = PasswordResetCode.objects.get(user=user)
    assert row.purpose == "login" and code not in row.code_hash
    r = _enter(c, PHONE, code)
    assert r.status_code == 302
    assert int(c.session["_auth_user_id"]) == user.pk
    assert c.get("/me/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.login_by_code").count() == 1
    # Single use.
    c2 = Client()
    r = _enter(c2, PHONE, code)
    assert r.status_code == 400 and "验证码不正确或已过期" in r.content.decode()
    assert "_auth_user_id" not in c2.session


def test_code_login_wrong_and_expired_codes_are_refused(world) -> None:
    from linli.accounts.models import PasswordResetCode

    _with_phone(world)
    _ask(Client(), PHONE)
    code = _sms_code()
    wrong = "000000" if code != "000000" else "111111"
    c = Client()
    r = _enter(c, PHONE, wrong)
    assert r.status_code == 400 and "_auth_user_id" not in c.session
    assert PasswordResetCode.objects.get().attempts == 1
    PasswordResetCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = _enter(c, PHONE, code)
    assert r.status_code == 400 and "_auth_user_id" not in c.session


def test_login_code_cannot_reset_a_password_nor_a_reset_code_sign_in(world) -> None:
    user = _with_phone(world)
    _ask(Client(), PHONE)
    code = _sms_code()
    r = Client().post(
        "/accounts/password/reset/confirm/",
        {"phone": PHONE, "code": code, "new_password1": "Zq8-x-77", "new_password2": "Zq8-x-77"},
    )
    assert r.status_code == 200 and "验证码不正确或已过期" in r.content.decode()
    user.refresh_from_db()
    assert not user.check_password("Zq8-x-77")
    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post("/accounts/password/reset/", {"phone": PHONE})
    c = Client()
    assert _enter(c, PHONE, _sms_code()).status_code == 400
    assert "_auth_user_id" not in c.session


def test_code_login_answers_the_same_for_unknown_phones_and_is_rate_limited(world) -> None:
    from linli.core import ratelimit

    _with_phone(world)
    now = {"t": 1_800_000_000.0}
    with ratelimit.use_clock(lambda: now["t"]):
        known = _ask(Client(), PHONE)
        unknown = _ask(Client(), "13900001111")
        assert known.status_code == unknown.status_code == 200
        assert _html(known) == _html(unknown)
        assert len(MemorySender.outbox) == 1
        # Same minute: refused, for a known and an unknown number alike.
        assert _ask(Client(), PHONE).status_code == 429
        assert _ask(Client(), "13900001111").status_code == 429
        assert len(MemorySender.outbox) == 1


def test_code_login_for_enrolled_staff_still_asks_for_the_totp_code(world) -> None:
    secretary = _with_phone(world, "secretary", "13900002222")
    TOTPDevice.objects.create(user=secretary, name="app", confirmed=True)
    c = Client()
    _ask(c, "13900002222")
    r = _enter(c, "13900002222", _sms_code())
    assert r.status_code == 302
    r = c.get("/workbench/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/verify/")


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_code_login_for_unenrolled_staff_must_enrol_when_required(world) -> None:
    _with_phone(world, "worker", "13900003333")
    c = Client()
    _ask(c, "13900003333")
    assert _enter(c, "13900003333", _sms_code()).status_code == 302
    r = c.get("/workbench/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/enrol/")


# --- activation codes ---------------------------------------------------------------


def _issue(world: Any, staff: str, resident_key: str = "resident") -> tuple[Any, str]:
    c = Client()
    c.force_login(world.user(staff))
    r = c.post(f"/accounts/activation/issue/{world.residents[resident_key].pk}/")
    m = re.search(
        r'id="activation-code"><strong><code>([A-Z0-9]{4})-([A-Z0-9]{4})<', r.content.decode()
    )
    return r, (m.group(1) + m.group(2)) if m else ""


def _make_accountless(world: Any, key: str = "resident") -> Any:
    from linli.communities.models import Resident

    resident = world.residents[key]
    Resident.objects.filter(pk=resident.pk).update(user=None)
    resident.refresh_from_db()
    return resident


def _activate(code: str, pw: str = "Zq8-linli-act", phone: str = "") -> tuple[Client, Any]:
    c = Client()
    r = c.post(
        "/accounts/activate/",
        {"code": code, "phone": phone, "password1": pw, "password2": pw},
    )
    return c, r


@pytest.mark.parametrize("staff", ["worker", "secretary", "grid_worker"])
def test_staff_issue_a_code_and_the_resident_activates_an_account(world, staff) -> None:
    from linli.accounts.models import ActivationCode

    resident = _make_accountless(world)
    r, code = _issue(world, staff)
    assert r.status_code == 200 and len(code) == 8
    assert r["Cache-Control"] == "no-store"
    row = ActivationCode.objects.get(resident=resident)
    assert row.community_id == world.community.pk and code not in row.code_hash
    assert row.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert AuditEvent.objects.filter(action="accounts.activation_issue").count() == 1
    c, r = _activate(code.lower()[:4] + "-" + code.lower()[4:], phone="13900004444")
    assert r.status_code == 302
    resident.refresh_from_db()
    user = resident.user
    assert user is not None and user.phone == "13900004444"
    assert user.check_password("Zq8-linli-act")
    assert int(c.session["_auth_user_id"]) == user.pk
    assert c.get("/me/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.activation_redeem").count() == 1
    # Reused: refused, nothing changes.
    c2, r = _activate(code, pw="Other-pw-888")
    assert r.status_code == 400 and "激活码不正确" in r.content.decode()
    user.refresh_from_db()
    assert user.check_password("Zq8-linli-act")


def test_activation_without_a_phone_gives_a_login_name(world) -> None:
    resident = _make_accountless(world)
    _r, code = _issue(world, "secretary")
    c, r = _activate(code)
    assert r.status_code == 302
    resident.refresh_from_db()
    username = resident.user.username
    assert resident.user.phone is None
    assert username in c.get("/me/", follow=True).content.decode()
    assert (
        Client()
        .post("/accounts/login/", {"username": username, "password": "Zq8-linli-act"})
        .status_code
        == 302
    )


def test_wrong_and_expired_activation_codes_are_refused(world) -> None:
    from linli.accounts.models import ActivationCode

    resident = _make_accountless(world)
    _r, code = _issue(world, "worker")
    wrong = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    c, r = _activate(wrong)
    assert r.status_code == 400 and "_auth_user_id" not in c.session
    ActivationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    c, r = _activate(code)
    assert r.status_code == 400 and "_auth_user_id" not in c.session
    resident.refresh_from_db()
    assert resident.user_id is None
    assert not AuditEvent.objects.filter(action="accounts.activation_redeem").exists()


def test_a_new_code_replaces_the_earlier_one(world) -> None:
    _make_accountless(world)
    _r, first = _issue(world, "worker")
    _r, second = _issue(world, "worker")
    assert _activate(first)[1].status_code == 400
    assert _activate(second)[1].status_code == 302


def test_a_phone_taken_by_another_account_does_not_spend_the_code(world) -> None:
    _with_phone(world, "neighbour", "13900005555")
    _make_accountless(world)
    _r, code = _issue(world, "worker")
    _c, r = _activate(code, phone="13900005555")
    assert r.status_code == 400 and "已绑定其他账号" in r.content.decode()
    assert _activate(code)[1].status_code == 302


def test_existing_account_gets_its_password_set(world) -> None:
    user = world.user("resident")
    _r, code = _issue(world, "worker")
    c, r = _activate(code, pw="Fresh-pw-2027")
    assert r.status_code == 302 and int(c.session["_auth_user_id"]) == user.pk
    user.refresh_from_db()
    assert user.check_password("Fresh-pw-2027")


@pytest.mark.parametrize(
    "staff", ["other_secretary", "other_grid_worker", "resident", "property", "street_officer"]
)
def test_only_staff_of_the_residents_community_issue_codes(world, staff) -> None:
    from linli.accounts.models import ActivationCode

    c = Client()
    c.force_login(world.user(staff))
    url = f"/accounts/activation/issue/{world.residents['resident'].pk}/"
    assert c.get(url).status_code == 404
    assert c.post(url).status_code == 404
    assert not ActivationCode.objects.exists()
    assert not AuditEvent.objects.filter(action="accounts.activation_issue").exists()


def test_activation_attempts_are_rate_limited_per_address(world) -> None:
    from linli.core import ratelimit

    with ratelimit.use_clock(lambda: 1_800_000_000.0):
        for _ in range(10):
            assert _activate("ABCDEFGH")[1].status_code == 400
        assert _activate("ABCDEFGH")[1].status_code == 429
