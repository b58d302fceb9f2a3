"""/api/v1/accounts/: who am I, my data, preferences."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from linli.accounts.scope import scope_of
from linli.accounts.services import preferences_update
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
