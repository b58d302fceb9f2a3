"""Writes for accounts: users, memberships, grants, tokens, preferences."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    ApiToken,
    Membership,
    Role,
    SensitiveAccessGrant,
    SensitiveScope,
    User,
)
from linli.accounts.scope import forget_scope
from linli.communities.models import OrgUnit
from linli.communities.permissions import can_grant_sensitive
from linli.core import audit
from linli.core.errors import Conflict, NotFound, ValidationFailed

MAX_GRANT_DAYS = 30


def user_create(
    *, username: str, password: str | None, phone: str | None = None, display_name: str = ""
) -> User:
    user = User(username=username, phone=phone or None, display_name=display_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(_("用户名或手机号已被使用。"), code="user_exists") from exc
    return user


def membership_grant(
    *,
    actor: Any,
    user: User,
    role: str,
    unit: OrgUnit,
    organisation: Any = None,
    building: Any = None,
) -> Membership:
    if role not in Role.values:
        raise ValidationFailed(_("未知角色。"), field="role")
    community = unit.ancestor_of_kind("community")
    with transaction.atomic():
        try:
            with transaction.atomic():
                m = Membership.objects.create(
                    user=user, role=role, unit=unit, organisation=organisation, building=building
                )
        except IntegrityError as exc:
            raise Conflict(_("该用户已在此单元担任此角色，或角色缺少所属单位/楼栋。")) from exc
        audit.record(
            actor=actor,
            action="membership.grant",
            target=m,
            community_id=community.pk if community else None,
            payload={"user": user.pk, "role": role, "unit": unit.pk},
        )
    forget_scope(user)
    return m


def sensitive_grant_create(
    *, actor: Any, grantee: User, community: OrgUnit, scope: str, reason: str, days: int
) -> SensitiveAccessGrant:
    """The community secretary approves a time-limited read of sensitive data."""
    if not can_grant_sensitive(actor, community):
        raise NotFound()
    if scope not in SensitiveScope.values:
        raise ValidationFailed(_("授权范围无效。"), field="scope")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationFailed(_("请说明用途（至少 4 个字）。"), field="reason")
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationFailed(
            _("授权天数须在 1 到 %(n)d 天之间。") % {"n": MAX_GRANT_DAYS}, field="days"
        )
    now = timezone.now()
    with transaction.atomic():
        grant = SensitiveAccessGrant.objects.create(
            grantee=grantee,
            community=community,
            scope=scope,
            reason=reason,
            granted_by=actor,
            starts_at=now,
            expires_at=now + timedelta(days=days),
        )
        audit.record(
            actor=actor,
            action="sensitive.grant",
            target=grant,
            community_id=community.pk,
            payload={"grantee": grantee.pk, "scope": scope, "days": days, "reason": reason},
        )
    return grant


def sensitive_grant_revoke(*, actor: Any, grant: SensitiveAccessGrant) -> SensitiveAccessGrant:
    if not can_grant_sensitive(actor, grant.community):
        raise NotFound()
    if grant.revoked_at is not None:
        raise Conflict(_("该授权已撤销。"))
    with transaction.atomic():
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at", "updated_at"])
        audit.record(
            actor=actor, action="sensitive.revoke", target=grant, community_id=grant.community_id
        )
    return grant


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the plain key, shown once."""
    key = "ll_" + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_hash_key(key), prefix=key[:8])
    return token, key


def api_token_user(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def preferences_update(
    *, user: User, elderly_mode: bool | None = None, language: str | None = None
) -> User:
    fields = []
    if elderly_mode is not None:
        user.elderly_mode = elderly_mode
        fields.append("elderly_mode")
    if language is not None:
        if language not in {"zh-hans", "en"}:
            raise ValidationFailed(_("不支持的语言。"), field="language")
        user.language = language
        fields.append("language")
    if fields:
        user.save(update_fields=fields)
    return user
