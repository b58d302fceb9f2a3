"""API tokens: issue (key shown once, only its SHA-256 kept), list, revoke, and the
bearer authentication the API layer calls, which also enforces expiry and scopes.

Scopes: ``read`` (any GET/HEAD/OPTIONS) and ``write:<app label>`` (any other method on
``/api/v1/<app label>/…``). Both are decided from columns of the token row that the
authenticating query reads anyway, so they add no statement to an API call.
"""

from __future__ import annotations

import hashlib
import importlib.util
import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import TOKEN_DEFAULT_DAYS, ApiToken, User
from linli.accounts.scope import build_scope
from linli.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row

READ = "read"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_DAYS = 365
# ``ApiToken.last_used_at`` is refreshed at most this often.
TOKEN_TOUCH_EVERY = timedelta(minutes=5)


class TokenExpired(DomainError):
    code = "token_expired"
    status = 401
    default_message = gettext_lazy("访问令牌已过期，请在“我的资料 → API 令牌”中重新签发。")


class TokenScopeMissing(DomainError):
    code = "token_scope"
    status = 403
    default_message = gettext_lazy("访问令牌没有此操作所需的权限范围。")


@lru_cache(maxsize=1)
def write_scopes() -> tuple[str, ...]:
    """``write:<label>`` for every app that mounts an API router under /api/v1/."""
    labels = [
        c.label
        for c in apps.get_app_configs()
        if c.name.startswith("linli.") and importlib.util.find_spec(f"{c.name}.api") is not None
    ]
    return tuple(f"write:{label}" for label in sorted(labels))


def all_scopes() -> tuple[str, ...]:
    return (READ, *write_scopes())


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _clean_scopes(scopes: Iterable[str] | None) -> list[str]:
    if scopes is None:
        return list(all_scopes())
    wanted = {s.strip() for s in scopes if s and s.strip()}
    unknown = wanted - set(all_scopes())
    if unknown:
        raise ValidationFailed(
            _("未知的权限范围：%(s)s。") % {"s": "、".join(sorted(unknown))}, field="scopes"
        )
    if not wanted:
        raise ValidationFailed(_("请至少选择一项权限范围。"), field="scopes")
    return [s for s in all_scopes() if s in wanted]


def api_token_issue(
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    days: int = TOKEN_DEFAULT_DAYS,
    actor: Actor = None,
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the row and the plain key (shown once).

    ``scopes`` None means every scope (kept for scripts and tests written before scopes
    existed); the self-service page and the command ask for them explicitly. ``actor``
    is who issues it (the user on the self-service page, None for the command)."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed(_("请填写令牌名称（不超过 60 个字）。"), field="name")
    if not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            _("有效期须在 1 到 %(n)d 天之间。") % {"n": MAX_TOKEN_DAYS}, field="days"
        )
    chosen = _clean_scopes(scopes)
    key = "ll_" + secrets.token_urlsafe(30)
    expires = timezone.now() + timedelta(days=int(days))
    with governed_write(actor=actor, action="accounts.token_issue", community_id=None) as w:
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_hash=_hash_key(key),
            prefix=key[:8],
            scopes=" ".join(chosen),
            expires_at=expires,
        )
        w.target = token
        w.payload.update(
            {
                "user": user.pk,
                "name": name,
                "prefix": token.prefix,
                "scopes": chosen,
                "expires_at": expires.isoformat(),
            }
        )
    return token, key


def api_token_list_for(*, viewer: User) -> QuerySet[ApiToken]:
    """The viewer's own tokens, newest first (revoked ones included, for the record)."""
    return ApiToken.objects.filter(user=viewer).order_by("-created_at", "-pk")


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens. Someone else's token is "not found"."""
    with governed_write(actor=actor, action="accounts.token_revoke", community_id=None) as w:
        token = lock_row(ApiToken.objects.all(), token_id, user_id=actor.pk)
        w.target = token
        w.payload.update({"prefix": token.prefix, "name": token.name})
        if token.revoked_at is not None:
            w.record = False  # already revoked: nothing changes, nothing to record
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def needed_scope(request: HttpRequest) -> str:
    """The scope a request needs: ``read`` for safe methods, else ``write:<app>`` where
    <app> is the path segment after /api/v1/."""
    if request.method in SAFE_METHODS:
        return READ
    path = request.path_info or request.path
    marker = "/api/v1/"
    i = path.find(marker)
    rest = path[i + len(marker) :] if i >= 0 else path.lstrip("/")
    label = rest.split("/", 1)[0]
    return f"write:{label}"


def check_scope(token: ApiToken, request: HttpRequest) -> None:
    need = needed_scope(request)
    if need not in token.scope_list:
        raise TokenScopeMissing(
            _("访问令牌没有此操作所需的权限范围（%(scope)s）。请签发一个包含该范围的令牌。")
            % {"scope": need}
        )


def api_token_user(key: str, request: HttpRequest | None = None) -> User | None:
    """The active user of an unrevoked token; with ``request``, also refuses an expired
    token (401 ``token_expired``) and a token without the scope the request needs
    (403 ``token_scope``).

    One statement loads the token, its user, the user's resident row and their active
    memberships (a LEFT JOIN, one row per membership), and the user's scope is built
    from it and cached on the user: authenticating and scoping an API call is one
    query, not three."""
    today = timezone.localdate()
    active = FilteredRelation(
        "user__memberships",
        condition=Q(user__memberships__is_active=True)
        & (Q(user__memberships__ends_on__isnull=True) | Q(user__memberships__ends_on__gte=today)),
    )
    rows = list(
        ApiToken.objects.select_related("user", "user__resident")
        .annotate(m=active)
        .annotate(
            m_role=F("m__role"),
            m_unit=F("m__unit_id"),
            m_path=F("m__unit__path"),
            m_kind=F("m__unit__kind"),
            m_org=F("m__organisation_id"),
            m_building=F("m__building_id"),
        )
        .filter(key_hash=_hash_key(key), revoked_at__isnull=True)
    )
    if not rows or not rows[0].user.is_active:
        return None
    token = rows[0]
    now = timezone.now()
    if now >= token.expires_at:
        raise TokenExpired()
    if request is not None:
        check_scope(token, request)
    user = token.user
    memberships = [
        (t.m_role, t.m_unit, t.m_path, t.m_kind, t.m_org, t.m_building)  # type: ignore[attr-defined]
        for t in rows
        if t.m_role is not None  # type: ignore[attr-defined]
    ]
    build_scope(user, memberships)
    user.api_token = token  # type: ignore[attr-defined]
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_EVERY:
        # At most one write per token every few minutes (not a second statement and
        # commit on every call); the condition keeps concurrent callers to one UPDATE.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_EVERY)
        ).update(last_used_at=now)
    return user


def token_auth_forbids_token_management(user: Any) -> None:
    """Issuing tokens needs a signed-in session: a token must not mint a broader one."""
    if getattr(user, "api_token", None) is not None:
        raise PermissionDenied(_("请在网页登录后签发新令牌；不能用令牌签发令牌。"))


__all__ = [
    "MAX_TOKEN_DAYS",
    "READ",
    "TOKEN_TOUCH_EVERY",
    "NotFound",
    "TokenExpired",
    "TokenScopeMissing",
    "all_scopes",
    "api_token_issue",
    "api_token_list_for",
    "api_token_revoke",
    "api_token_user",
    "check_scope",
    "needed_scope",
    "write_scopes",
]
