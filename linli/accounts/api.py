"""/api/v1/accounts/: who am I, my data, preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from linli.accounts.scope import scope_of
from linli.accounts.services import preferences_update
from linli.accounts.tokens import (
    api_token_issue,
    api_token_list_for,
    api_token_revoke,
    token_auth_forbids_token_management,
)
from linli.communities.selectors import my_data

router = Router(tags=["accounts"])


class MembershipOut(Schema):
    role: str
    unit_id: int
    unit_name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    elderly_mode: bool
    language: str
    is_staff: bool
    resident_id: int | None
    memberships: list[MembershipOut]


class PreferencesIn(Schema):
    elderly_mode: bool | None = None
    language: str | None = None


def _me(user: Any) -> MeOut:
    scope = scope_of(user)
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        elderly_mode=user.elderly_mode,
        language=user.language,
        is_staff=scope.is_staff,
        resident_id=scope.resident_id,
        memberships=[
            MembershipOut(role=m.role, unit_id=m.unit_id, unit_name=m.unit.name)
            for m in user.memberships.active().select_related("unit")
        ],
    )


@router.get("/me", response=MeOut, summary="当前用户")
def me(request: HttpRequest) -> MeOut:
    return _me(request.user)


@router.patch("/me/preferences", response=MeOut, summary="修改长辈模式/界面语言")
def update_preferences(request: HttpRequest, data: PreferencesIn) -> MeOut:
    preferences_update(user=request.user, elderly_mode=data.elderly_mode, language=data.language)  # type: ignore[arg-type]
    return _me(request.user)


@router.get("/me/data", summary="下载我的全部数据")
def my_data_api(request: HttpRequest) -> dict[str, Any]:
    return my_data(viewer=request.user)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str
    scopes: list[str] = ["read"]
    days: int = 90


class TokenIssuedOut(TokenOut):
    key: str


def _token_out(t: Any) -> dict[str, Any]:
    return {
        "id": t.pk,
        "name": t.name,
        "prefix": t.prefix,
        "scopes": t.scope_list,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
    }


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def tokens_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_token_out(t) for t in api_token_list_for(viewer=request.user)]  # type: ignore[arg-type]


@router.post("/tokens", response={201: TokenIssuedOut}, summary="签发令牌（仅网页登录会话）")
def tokens_issue(request: HttpRequest, data: TokenIn) -> Status:
    token_auth_forbids_token_management(request.user)
    token, key = api_token_issue(
        user=request.user,  # type: ignore[arg-type]
        actor=request.user,  # type: ignore[arg-type]
        name=data.name,
        scopes=data.scopes,
        days=data.days,
    )
    return Status(201, {**_token_out(token), "key": key})


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="撤销令牌")
def tokens_revoke(request: HttpRequest, token_id: int) -> dict[str, Any]:
    return _token_out(api_token_revoke(actor=request.user, token_id=token_id))  # type: ignore[arg-type]
