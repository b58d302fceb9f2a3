"""The time the booking rules compare against (opening hours, pick-up window, no-show
grace, bans). One function so tests can move the clock without patching Django."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
