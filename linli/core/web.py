"""Small helpers shared by the page views of every app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime

from linli.core.errors import DomainError, RateLimited


def int_or_none(raw: Any) -> int | None:
    """A query/form value as an int; missing or malformed input is None, never a 500."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    # Beyond a 64-bit key no row can match, and the database would reject the query.
    return value if -(2**63) <= value < 2**63 else None


def date_or_none(raw: Any) -> date | None:
    """A form's date; empty, malformed or impossible (2026-13-45) input is None.
    (Django's parse_date raises on a well-formed but impossible date.)"""
    if not raw or not isinstance(raw, str):
        return None
    try:
        return parse_date(raw.strip())
    except ValueError:
        return None


def datetime_or_none(raw: Any) -> datetime | None:
    """Like :func:`date_or_none`, for date-times (naive results are left naive)."""
    if not raw or not isinstance(raw, str):
        return None
    try:
        return parse_datetime(raw.strip())
    except ValueError:
        return None


def run_service(request: HttpRequest, fn: Callable[[], Any], ok: str) -> bool:
    """Run one service call for a form post. A refusal (DomainError) becomes an error
    message on the page — the service changed nothing — and success a confirmation.
    A rate-limit refusal propagates: the error page answers 429 with Retry-After."""
    try:
        fn()
    except RateLimited:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, ok)
    return True
