"""The time the booking rules compare against (opening hours, pick-up window, no-show
grace, bans). One function so tests can move the clock, and the demo can record a past
month of bookings through the ordinary services (:func:`frozen`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_at: ContextVar[datetime | None] = ContextVar("linli_resources_clock", default=None)


def now() -> datetime:
    return _at.get() or timezone.now()


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Act as if it were ``at`` (this thread/context only): for seeding history."""
    token = _at.set(at)
    try:
        yield
    finally:
        _at.reset(token)
