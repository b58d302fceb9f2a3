"""Writes for accounts: users, memberships, grants, tokens, preferences."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    Membership,
    Role,
    SensitiveAccessGrant,
    User,
)
from linli.accounts.scope import forget_scope

# API tokens live in linli.accounts.tokens; re-exported here for existing callers.
from linli.accounts.tokens import TOKEN_TOUCH_EVERY as TOKEN_TOUCH_EVERY
from linli.accounts.tokens import api_token_issue as api_token_issue
from linli.accounts.tokens import api_token_list_for as api_token_list_for
from linli.accounts.tokens import api_token_revoke as api_token_revoke
from linli.accounts.tokens import api_token_user as api_token_user
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
