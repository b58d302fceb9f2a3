"""Password reset and sign-in by an SMS code, and the TOTP enrolment write.

The reset answers the same whether or not the phone number belongs to an account (no
account enumeration): the rate limits count per number either way, and only a real,
active account gets a code. A code is 6 digits, kept only as an HMAC, valid for 10
minutes, spent by its first correct use, and dead after 10 wrong attempts. Sending is
limited per number (1 a minute, 5 a day) and per client address, through the shared
counters in ``linli.core.ratelimit``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import PasswordResetCode, User
from linli.core import ratelimit
from linli.core.errors import ValidationFailed
from linli.core.notify import Message
from linli.core.writes import governed_write

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 10
RESET_LIMIT = "accounts.password_reset"
LOGIN_LIMIT = "accounts.login_code"

# Declared here, next to the action it guards (overridable with LINLI_RATE_LIMITS).
ratelimit.LIMITS.setdefault(
    RESET_LIMIT,
    {
        "key": ratelimit.Limit(per_minute=1, per_day=5),  # per phone number
        "ip": ratelimit.Limit(per_minute=10, per_day=100),
    },
)
ratelimit.LIMITS.setdefault(LOGIN_LIMIT, dict(ratelimit.LIMITS[RESET_LIMIT]))

_PHONE = re.compile(r"^1\d{10}$")


def normalise_phone(raw: str) -> str:
    phone = re.sub(r"[\s\-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE.match(phone):
        raise ValidationFailed(_("请输入 11 位手机号。"), field="phone")
    return phone


def _digest(salt: str, phone: str, code: str) -> str:
    msg = f"{salt}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


def _invalid_code() -> ValidationFailed:
    return ValidationFailed(_("验证码不正确或已过期，请重新获取。"), field="code")


def _issue_code(*, phone: str, ip: str | None, purpose: str, limit: str) -> None:
    """The shared step 1 of reset and code login: count the attempt for the number and
    the address (the same for every number), then — only for an active account — keep
    an HMAC of a fresh 6-digit code and send it by SMS on commit."""
    phone = normalise_phone(phone)
    ratelimit.check(limit, key=phone, ip=ip)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    now = timezone.now()
    if purpose == PasswordResetCode.Purpose.LOGIN:
        action, subject = "accounts.login_code", _("登录验证码")
        body = _(
            "【邻里】您的登录验证码是 %(code)s，10 分钟内有效。"
            "如非本人操作，请忽略本短信，切勿告诉他人。"
        )
    else:
        action, subject = "accounts.password_reset_code", _("密码重置")
        body = _(
            "【邻里】您的密码重置验证码是 %(code)s，10 分钟内有效。"
            "如非本人操作，请忽略本短信，切勿告诉他人。"
        )
    with governed_write(actor=None, action=action, community_id=None) as w:
        # A new code replaces any earlier one of the same purpose.
        PasswordResetCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
            used_at=now
        )
        row = PasswordResetCode.objects.create(
            user=user,
            phone=phone,
            purpose=purpose,
            salt=salt,
            code_hash=_digest(salt, phone, code),
            expires_at=now + CODE_TTL,
        )
        w.target = row
        w.payload["user"] = user.pk
        w.notify(Message(channel="sms", to=phone, subject=subject, body=body % {"code": code}))


def _check_code(*, phone: str, code: str, purpose: str) -> PasswordResetCode:
    """The current code of ``purpose`` for ``phone`` if ``code`` matches it. Every wrong
    code counts an attempt (committed even though the call fails). Does not spend it."""
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        row = (
            PasswordResetCode.objects.select_for_update()
            .select_related("user")
            .filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or row.attempts >= MAX_ATTEMPTS:
            raise _invalid_code()
        if not hmac.compare_digest(row.code_hash, _digest(row.salt, phone, code)):
            row.attempts += 1
            fields = ["attempts", "updated_at"]
            if row.attempts >= MAX_ATTEMPTS:
                row.used_at = now  # spent: a new code must be requested
                fields.append("used_at")
            row.save(update_fields=fields)
            wrong = True
        else:
            wrong = False
    if wrong:  # the attempt is committed above, then refused
        raise _invalid_code()
    return row


def _spend(row: PasswordResetCode) -> None:
    """Inside the caller's governed write: mark the code used, or refuse if a
    concurrent use won."""
    now = timezone.now()
    spent = PasswordResetCode.objects.filter(
        pk=row.pk, used_at__isnull=True, attempts__lt=MAX_ATTEMPTS
    ).update(used_at=now, updated_at=now)
    if spent != 1:
        raise _invalid_code()


def password_reset_request(*, phone: str, ip: str | None = None) -> None:
    """Send a reset code to ``phone`` if it belongs to an active account. Raises
    ``RateLimited`` (429) when the number or address has asked too often — the same
    for every number — and otherwise returns nothing either way."""
    _issue_code(phone=phone, ip=ip, purpose=PasswordResetCode.Purpose.RESET, limit=RESET_LIMIT)


def password_reset_confirm(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password with a valid code. Every wrong code counts an attempt (kept
    even though the call fails); a rejected password does not spend the code."""
    phone = normalise_phone(phone)
    row = _check_code(phone=phone, code=code, purpose=PasswordResetCode.Purpose.RESET)
    user = row.user
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="new_password1") from exc
    with governed_write(actor=user, action="accounts.password_reset", community_id=None) as w:
        _spend(row)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        w.target = user
    return user


def login_code_request(*, phone: str, ip: str | None = None) -> None:
    """Step 1 of signing in by SMS code: the same answer, limits and machinery as the
    password reset (its own counters, the same caps)."""
    _issue_code(phone=phone, ip=ip, purpose=PasswordResetCode.Purpose.LOGIN, limit=LOGIN_LIMIT)


def login_code_confirm(*, phone: str, code: str) -> User:
    """Step 2: the account whose current login code this is (the code is spent, the
    sign-in audited). The caller logs the user in; staff then still pass their TOTP
    step (``StaffSessionMiddleware``)."""
    phone = normalise_phone(phone)
    row = _check_code(phone=phone, code=code, purpose=PasswordResetCode.Purpose.LOGIN)
    user = row.user
    if not user.is_active:
        raise _invalid_code()
    with governed_write(actor=user, action="accounts.login_by_code", community_id=None) as w:
        _spend(row)
        w.target = user
    return user


def mfa_confirm(*, user: User, device: Any) -> None:
    """Confirm a TOTP device the user has just proved they hold (audited)."""
    with governed_write(actor=user, action="accounts.mfa_enrol", community_id=None) as w:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        w.target = device
