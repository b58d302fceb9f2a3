"""The JSON API under /api/v1/. Each app's ``api.py`` exposing ``router`` is mounted at
``/api/v1/<app label>/`` automatically, so adding a capability never edits this file."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from linli.accounts.services import api_token_user
from linli.core.errors import DomainError
from linli.core.middleware import invalid_characters, with_retry_after


class CookieSessionAuth(SessionAuth):
    """The pages' own session cookie (with its CSRF check). A request that carries no
    session cookie — an API client with a token — skips this authenticator, so the
    CSRF check that only a cookie needs never blocks a bearer token."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer ll_…`` for API clients (tokens issued by staff)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(token, request)  # also checks expiry and scope
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    param_name = "X-Api-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = api_token_user(key, request) if key else None
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Linli 邻里 API",
    version="1",
    description="社区共建共治共享平台接口。会话登录（网页）或 Bearer 令牌（客户端）。",
    urls_namespace="api",
    auth=[CookieSessionAuth(), TokenAuth(), TokenHeaderAuth()],
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return with_retry_after(api.create_response(request, exc.as_dict(), status=exc.status), exc)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # An id or offset beyond what the database stores (e.g. 10**30) is bad input,
    # not a server fault; nothing was written (the request's transaction rolled back).
    if isinstance(exc, DataError) and "NUL" in str(exc):
        # PostgreSQL refused a NUL byte in text: say so, not "number out of range".
        err = invalid_characters()
        return api.create_response(request, err.as_dict(), status=err.status)
    return api.create_response(
        request, {"code": "out_of_range", "message": _("数值超出允许范围。")}, status=400
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "invalid", "message": _("请求数据格式有误。"), "details": {"errors": exc.errors}},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": _("请先登录或提供有效的访问令牌。")},
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403 and "CSRF" in str(exc.message):
        return api.create_response(
            request,
            {"code": "csrf_failed", "message": _("请求来源无法验证（CSRF），请刷新页面后重试。")},
            status=403,
        )
    return api.create_response(
        request, {"code": "http_error", "message": str(exc.message)}, status=exc.status_code
    )


def _mount_app_routers() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("linli."):
            continue
        try:
            module = import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.api":
                continue
            raise
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(f"/{config.label}/", router)


_mount_app_routers()
