"""Writes for accounts: users, memberships, grants, tokens, preferences."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    ApiToken,
    Membership,
    Role,
    SensitiveAccessGrant,
    User,
)
from linli.accounts.scope import build_scope, forget_scope
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
) -> Any:
    """Ask for a time-limited read of sensitive data. Since issue 9 this only files a
    request (``communities.SensitiveGrantRequest``): the grant exists once another
    authorised person approves it (``communities.services.sensitive_grant_approve``)."""
    from linli.communities.services import sensitive_grant_request

    return sensitive_grant_request(
        actor=actor, grantee=grantee, community=community, scope=scope, reason=reason, days=days
    )


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


# ``ApiToken.last_used_at`` is refreshed at most this often.
TOKEN_TOUCH_EVERY = timedelta(minutes=5)


def api_token_user(key: str) -> User | None:
    """The active user of an unrevoked token.

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
    user = token.user
    memberships = [
        (t.m_role, t.m_unit, t.m_path, t.m_kind, t.m_org, t.m_building)  # type: ignore[attr-defined]
        for t in rows
        if t.m_role is not None  # type: ignore[attr-defined]
    ]
    build_scope(user, memberships)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_EVERY:
        # At most one write per token every few minutes (not a second statement and
        # commit on every call); the condition keeps concurrent callers to one UPDATE.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_EVERY)
        ).update(last_used_at=now)
    return user


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
