"""Small helpers shared by the page views of every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from linli.core.errors import DomainError


def int_or_none(raw: Any) -> int | None:
    """A query/form value as an int; missing or malformed input is None, never a 500."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def run_service(request: HttpRequest, fn: Callable[[], Any], ok: str) -> bool:
    """Run one service call for a form post. A refusal (DomainError) becomes an error
    message on the page — the service changed nothing — and success a confirmation."""
    try:
        fn()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, ok)
    return True
