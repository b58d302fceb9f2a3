"""Login lockout (django-axes) keyed on the account, a per-IP cap across accounts, and
the client address as our own trusted proxy saw it.

* ``axes_username``: axes counts failures per *resolved account* (+ IP), so the phone
  number and the username of one person share one counter.
* ``ip_failures`` / ``note_failure``: at most ``LINLI_LOGIN_IP_LIMIT`` failed logins
  per client address per ``LINLI_LOGIN_IP_WINDOW`` seconds, whatever accounts they name
  (one address guessing one password for many accounts).
* ``client_ip``: ``REMOTE_ADDR``, unless that address is one of
  ``LINLI_TRUSTED_PROXIES``; only then is ``LINLI_PROXY_IP_HEADER`` (default
  ``X-Forwarded-For``) read, right to left, skipping our own proxies. A header sent by
  anybody else is ignored, so it cannot buy fresh attempts.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in spec if s.strip())


def _trusted(addr: str) -> bool:
    nets = _networks(tuple(getattr(settings, "LINLI_TRUSTED_PROXIES", ()) or ()))
    if not nets:
        return False
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def _valid(addr: str) -> bool:
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The client's address. Used by axes (``AXES_CLIENT_IP_CALLABLE``) and the per-IP
    login cap; other rate limits may use it too."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if not _trusted(remote):
        return remote
    header = getattr(settings, "LINLI_PROXY_IP_HEADER", "HTTP_X_FORWARDED_FOR")
    hops = [h.strip() for h in str(request.META.get(header, "")).split(",") if h.strip()]
    # Right to left: the right-most entries were appended by our own proxies; the first
    # one that is not ours is the client as our outermost proxy saw it. Anything left of
    # it was written by the client and proves nothing.
    for hop in reversed(hops):
        if not _valid(hop):
            return remote
        if not _trusted(hop):
            return hop
    return remote


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a login attempt names: ``user:<id>`` for a known phone or username,
    else the typed text (lower-cased), so unknown names are still counted."""
    ident = ""
    if credentials:
        ident = str(credentials.get("username") or "")
    elif request is not None:
        data = getattr(request, "data", None) or request.POST
        ident = str(data.get("username") or "")
    ident = ident.strip()
    memo: dict[str, str] = {}
    if request is not None:
        memo = request.__dict__.setdefault("_linli_axes_account", {})
        if ident in memo:
            return memo[ident]
    key = "ident:" + ident.lower()
    if ident:
        pk = (
            get_user_model()
            ._default_manager.filter(Q(username=ident) | Q(phone=ident))
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            key = f"user:{pk}"
    if request is not None:
        memo[ident] = key
    return key


def _ip_key(ip: str) -> str:
    return f"linli:login-fail-ip:{ip}"


def ip_failures(request: HttpRequest) -> int:
    return int(cache.get(_ip_key(client_ip(request))) or 0)


def ip_limited(request: HttpRequest) -> bool:
    return ip_failures(request) >= settings.LINLI_LOGIN_IP_LIMIT


def note_failure(request: HttpRequest) -> None:
    """Count one failed login for the client's address (a fixed window that starts with
    the first failure)."""
    key = _ip_key(client_ip(request))
    if cache.add(key, 1, timeout=settings.LINLI_LOGIN_IP_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=settings.LINLI_LOGIN_IP_WINDOW)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    if isinstance(request, HttpRequest):
        note_failure(request)
