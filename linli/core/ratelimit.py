"""Rate limits on writes, counted in Django's cache (Redis in production).

Every limit is declared in :data:`LIMITS`: a name → for each dimension (``user``, ``ip``,
``key`` — an API or Open311 key, or a phone number for outgoing SMS) a per-minute and a
per-day cap. :func:`check` counts one attempt in fixed windows (the current minute and
the current UTC day) with ``cache.add`` + ``cache.incr`` — atomic on Redis and on the
local-memory cache — and raises :class:`~linli.core.errors.RateLimited` with
``retry_after`` seconds when any cap is exceeded. A refused attempt is not counted (its
increments are undone), so waiting out the window always works.

It costs no SQL: services call it before they open their transaction, so a refusal
writes nothing. Deployments can override any cap with the ``LINLI_RATE_LIMITS`` setting
(same shape as :data:`LIMITS`) and switch the whole thing off with
``LINLI_RATE_LIMITS_ENABLED = False``. Tests pin the clock with :func:`use_clock`.

The local-memory cache is per process: fine for the single-process demo; production
settings point at Redis so every worker shares the counters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from linli.core.errors import RateLimited

MINUTE = 60
DAY = 86_400


@dataclass(frozen=True)
class Limit:
    per_minute: int | None = None
    per_day: int | None = None


# name → dimension → caps. Keep each name equal to the action it guards.
LIMITS: dict[str, dict[str, Limit]] = {
    # A resident reporting problems (app, API and page forms).
    "requests.submit": {"user": Limit(per_minute=5, per_day=30)},
    # Staff recording hotline/visit reports for residents (代办): a busy desk, not a flood.
    "requests.record": {"user": Limit(per_minute=30, per_day=1_000)},
    # Open311 clients: per key (a partner system) and per client address.
    "requests.open311_submit": {
        "key": Limit(per_minute=60, per_day=2_000),
        "ip": Limit(per_minute=10, per_day=500),
    },
    "deliberation.comment": {"user": Limit(per_minute=10, per_day=200)},
    "deliberation.topic": {"user": Limit(per_minute=3, per_day=20)},
    "ledger.claim": {"user": Limit(per_minute=5, per_day=50)},
    "volunteers.signup": {"user": Limit(per_minute=10, per_day=100)},
    # Staff write notices; the cap only stops a runaway script.
    "notices.create": {"user": Limit(per_minute=30, per_day=500)},
    # Surveys: staff building questionnaires; residents answering (one answer each is
    # also enforced by the database); public-link answers per client address.
    "surveys.create": {"user": Limit(per_minute=20, per_day=300)},
    # Answers exports made in the background (each can take a minute of a worker).
    "surveys.export": {"user": Limit(per_minute=5, per_day=60)},
    "surveys.answer": {
        "user": Limit(per_minute=10, per_day=200),
        "ip": Limit(per_minute=30, per_day=2_000),
    },
    # Staff entering a stack of paper questionnaires (代录): a busy desk, not a flood.
    "surveys.answer_for": {"user": Limit(per_minute=60, per_day=2_000)},
    # 微心愿: posting a wish and claiming one.
    "surveys.wish": {"user": Limit(per_minute=3, per_day=20)},
    "surveys.wish_claim": {"user": Limit(per_minute=10, per_day=100)},
    # Category suggestions while typing (each costs a model run) and staff corrections.
    "insight.classify": {"user": Limit(per_minute=60, per_day=2_000)},
    "insight.correct": {"user": Limit(per_minute=30, per_day=1_000)},
    # Outgoing SMS per phone number, whoever triggers them.
    "notify.sms": {"key": Limit(per_minute=5, per_day=20)},
}


_clock: Callable[[], float] = time.time
# Set while trusted bulk work runs in this context (seeding the demo, imports).
_suspended: ContextVar[bool] = ContextVar("linli_ratelimit_suspended", default=False)


@contextmanager
def suspended() -> Iterator[None]:
    """No limits inside this block (this thread/context only): for trusted bulk work
    that goes through the ordinary services, such as seeding the demo."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


@contextmanager
def use_clock(clock: Callable[[], float]) -> Iterator[None]:
    """Count with ``clock`` (seconds since the epoch) instead of the real time."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous


def _limits_for(name: str) -> Mapping[str, Limit]:
    override: Mapping[str, Any] = getattr(settings, "LINLI_RATE_LIMITS", {}) or {}
    if name in override:
        return {
            dim: caps if isinstance(caps, Limit) else Limit(*caps)
            for dim, caps in override[name].items()
        }
    return LIMITS.get(name, {})


def _ident(dim: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if dim == "user":
        pk = getattr(value, "pk", value)
        return None if pk is None else str(pk)
    return str(value)[:128]


def _epoch(now: float | datetime | None) -> float:
    if now is None:
        return _clock()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def _refused(retry_after: int) -> RateLimited:
    minutes = max(1, math.ceil(retry_after / 60))
    if retry_after <= 60:
        message = _("操作过于频繁，请 1 分钟后再试。")
    elif minutes < 120:
        message = _("操作过于频繁，请 %(n)d 分钟后再试。") % {"n": minutes}
    else:
        message = _("今天的操作次数已达上限，请 %(n)d 小时后再试。") % {
            "n": math.ceil(retry_after / 3600)
        }
    err = RateLimited(message, details={"retry_after": retry_after})
    err.retry_after = retry_after
    return err


def check(
    name: str,
    *,
    user: Any = None,
    ip: str | None = None,
    key: str | None = None,
    now: float | datetime | None = None,
) -> None:
    """Count one attempt at ``name`` for each given dimension; raise ``RateLimited``
    (with ``retry_after`` seconds) if any per-minute or per-day cap is exceeded.
    Dimensions passed as None, or without a cap for ``name``, are not counted."""
    if _suspended.get() or not getattr(settings, "LINLI_RATE_LIMITS_ENABLED", True):
        return
    limits = _limits_for(name)
    t = _epoch(now)
    counted: list[str] = []
    worst = 0
    for dim, value in (("user", user), ("ip", ip), ("key", key)):
        limit = limits.get(dim)
        ident = _ident(dim, value)
        if limit is None or ident is None:
            continue
        for period, cap in ((MINUTE, limit.per_minute), (DAY, limit.per_day)):
            if cap is None:
                continue
            window = int(t // period)
            ckey = f"rl:{name}:{dim}:{ident}:{period}:{window}"
            cache.add(ckey, 0, timeout=period + 60)
            try:
                n = cache.incr(ckey)
            except ValueError:  # evicted between add and incr: start again
                cache.add(ckey, 1, timeout=period + 60)
                n = 1
            counted.append(ckey)
            if n > cap:
                worst = max(worst, math.ceil((window + 1) * period - t))
    if worst:
        for ckey in counted:
            with suppress(ValueError):
                cache.decr(ckey)
        raise _refused(max(1, worst))


def allowed(name: str, **kw: Any) -> bool:
    """Like :func:`check`, for callers that drop the action instead of refusing."""
    try:
        check(name, **kw)
    except RateLimited:
        return False
    return True
