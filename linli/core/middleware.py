"""Turn DomainError into a page (or JSON under /api/) and carry the user's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from linli.core.errors import DomainError, ValidationFailed

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


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, OverflowError | DataError):
            # A number beyond what the database stores (an id of 10**30 in a URL or
            # form) is bad input: answer 400, the transaction has rolled back.
            exc = ValidationFailed(_("数值超出允许范围。"), code="out_of_range")
        if not isinstance(exc, DomainError):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(exc.as_dict(), status=exc.status)
        return render(
            request,
            "core/error.html",
            {"error": exc, "language": translation.get_language()},
            status=exc.status,
        )
