"""Staff sessions: an idle timeout and the TOTP step (django-otp).

Whether the signed-in user is staff, and whether they have a confirmed TOTP device, is
worked out once at login (``on_login``) and kept in the session, so an ordinary page
costs no extra query. Residents are left alone: their session keeps Django's default
lifetime and they are never asked for a code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

STAFF_KEY = "linli_staff"
SEEN_KEY = "linli_seen"
DEVICE_KEY = "linli_mfa_device"
# The last-seen time is rewritten at most this often (not a session write per request).
SEEN_RESOLUTION = 60

# Reachable before the code is given (or while enrolling).
_EXEMPT_PREFIXES = ("/accounts/mfa/", "/accounts/logout/", "/static/", "/prefs/", "/i18n/")


def is_staff_user(user: Any) -> bool:
    from linli.accounts.scope import scope_of

    if user.is_staff or user.is_superuser:
        return True
    return bool(scope_of(user).is_staff)


def has_confirmed_device(user: Any) -> bool:
    from django_otp import user_has_device

    return bool(user_has_device(user, confirmed=True))


def on_login(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    """``user_logged_in``: note staff status and TOTP enrolment in the new session."""
    session = getattr(request, "session", None)
    if session is None:
        return
    staff = is_staff_user(user)
    session[STAFF_KEY] = staff
    session[SEEN_KEY] = int(time.time())
    if staff:
        session[DEVICE_KEY] = has_confirmed_device(user)


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._check(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return None
        staff = session.get(STAFF_KEY)
        if staff is None:  # a session from before this middleware
            staff = session[STAFF_KEY] = is_staff_user(user)
        if not staff:
            return None
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        if seen is not None and now - int(seen) > settings.LINLI_STAFF_IDLE_TIMEOUT:
            logout(request)
            return self._refuse(
                request,
                "session_expired",
                _("您已较长时间未操作，为保护居民信息已自动退出，请重新登录。"),
                reverse(settings.LOGIN_URL),
                status=401,
            )
        if seen is None or now - int(seen) >= SEEN_RESOLUTION:
            session[SEEN_KEY] = now
        return self._mfa(request, user, session)

    def _mfa(self, request: HttpRequest, user: Any, session: Any) -> HttpResponse | None:
        if request.path.startswith(_EXEMPT_PREFIXES):
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        device = session.get(DEVICE_KEY)
        if device is None:
            device = session[DEVICE_KEY] = has_confirmed_device(user)
        if device:
            return self._refuse(
                request,
                "mfa_required",
                _("请先输入动态验证码完成两步验证。"),
                reverse("accounts:mfa_verify"),
            )
        if settings.LINLI_STAFF_MFA_REQUIRED:
            return self._refuse(
                request,
                "mfa_required",
                _("工作人员账户须先启用两步验证（动态验证码）。"),
                reverse("accounts:mfa_enrol"),
            )
        return None

    def _refuse(
        self, request: HttpRequest, code: str, message: str, url: str, status: int = 403
    ) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "message": message}, status=status)
        if code == "session_expired":
            messages.info(request, message)
        nxt = request.get_full_path() if request.method == "GET" else ""
        return redirect(f"{url}?{urlencode({'next': nxt})}" if nxt else url)
