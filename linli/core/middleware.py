"""Turn DomainError into a page (or JSON under /api/) and carry the user's language."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed

logger = logging.getLogger(__name__)

LANGUAGE_COOKIE = "django_language"


class UserLanguageMiddleware:
    """Runs before LocaleMiddleware: a ``?lang=`` link switches language without
    JavaScript or POST (remembered in the cookie the language switcher also sets)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        lang = request.GET.get("lang")
        if lang in ("zh-hans", "en"):
            request.COOKIES[LANGUAGE_COOKIE] = lang
        elif LANGUAGE_COOKIE not in request.COOKIES and not request.path.startswith("/api/"):
            # Simplified Chinese is the product's default whatever the browser asks for:
            # many residents' phones report an English locale they never chose. English
            # is an explicit choice (switcher, ?lang=en or the account's setting).
            # API clients negotiate with Accept-Language as usual.
            request.META["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
        response = self.get_response(request)
        if lang in ("zh-hans", "en"):
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
        return response


_HUGE_NUMBER = re.compile(r"^[+-]?\d{19,}$")


class NumberRangeMiddleware:
    """Refuse, before any view runs, URLs whose path segments or query values are
    integers too long for a 64-bit database column (19+ digits). Such ids, offsets and
    limits can only be bad input; without this the database driver overflows in
    whichever query first uses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parts = [p for p in request.path.split("/") if p]
        values = [v for vs in request.GET.lists() for v in vs[1]]
        if any(_HUGE_NUMBER.match(x) for x in (*parts, *values)):
            err = ValidationFailed(_("数值超出允许范围。"), code="out_of_range")
            if request.path.startswith("/api/"):
                return JsonResponse(err.as_dict(), status=400)
            return render(request, "core/error.html", {"error": err}, status=400)
        return self.get_response(request)


def invalid_characters() -> ValidationFailed:
    return ValidationFailed(
        _("输入包含无效字符（空字符），请删除后重新提交。"), code="invalid_characters"
    )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def request_has_nul(request: HttpRequest) -> bool:
    """A NUL byte in the path, the query, a form field or a JSON body. Files are not
    looked at (a photo's bytes hold NULs); a body that cannot be read here is left for
    the view to refuse as before."""
    if "\x00" in request.path or any(
        _has_nul(k) or any(_has_nul(v) for v in vs) for k, vs in request.GET.lists()
    ):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    ctype = request.content_type or ""
    try:
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any(
                _has_nul(k) or any(_has_nul(v) for v in vs) for k, vs in request.POST.lists()
            )
        if ctype == "application/json" or ctype.endswith("+json"):
            body = request.body
            if b"\x00" in body:
                return True
            # Only a body with an escaped NUL (\u0000) is worth decoding here.
            if b"\\u0000" in body.lower():
                return _has_nul(json.loads(body))
    except Exception:  # noqa: BLE001 — malformed bodies are the view's to refuse
        return False
    return False


class InvalidCharactersMiddleware:
    """Refuse input holding a NUL byte before any view runs, with a message that says
    so (PostgreSQL cannot store NUL in text; its DataError used to surface as "数值超出
    允许范围"). Nothing is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            err = invalid_characters()
            if request.path.startswith("/api/"):
                return JsonResponse(err.as_dict(), status=400)
            return render(request, "core/error.html", {"error": err}, status=400)
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user (pages and API
    answers hold personal data; a shared computer's browser cache or a proxy must not
    keep them), unless the view chose its own caching (e.g. a photo's private max-age)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DataError) and "NUL" in str(exc):
            exc = invalid_characters()  # PostgreSQL refused a NUL byte in text
        elif isinstance(exc, OverflowError | DataError):
            # A number beyond what the database stores (an id of 10**30 in a URL or
            # form) is bad input: answer 400, the transaction has rolled back.
            exc = ValidationFailed(_("数值超出允许范围。"), code="out_of_range")
        elif isinstance(exc, FileNotFoundError):
            # A stored file (a photo) is gone from media storage: the page says "not
            # found" instead of failing with a server error; operators see the log.
            logger.warning("missing file for %s: %s", request.path, exc)
            exc = NotFound()
        if not isinstance(exc, DomainError):
            return None
        if request.path.startswith("/api/"):
            return with_retry_after(JsonResponse(exc.as_dict(), status=exc.status), exc)
        return with_retry_after(
            render(
                request,
                "core/error.html",
                {"error": exc, "language": translation.get_language()},
                status=exc.status,
            ),
            exc,
        )


def with_retry_after(response: HttpResponse, exc: Exception) -> HttpResponse:
    """A rate-limit refusal (429) tells the client when to try again."""
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(exc, RateLimited) and retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response
