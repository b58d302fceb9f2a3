from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.accounts.scope import scope_of

ELDERLY_COOKIE = "linli_elderly"


def elderly_mode_on(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.elderly_mode)
    return request.COOKIES.get(ELDERLY_COOKIE) == "1"


def ui(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    scope = scope_of(user)
    return {
        "elderly": elderly_mode_on(request),
        "is_staff_user": scope.is_staff,
        "viewer_scope": scope,
    }
