"""The DomainError family: services raise these, views and the API turn them into
responses. A message is always translatable and addressed to the user."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    default_message: str | Promise = _("操作未能完成。")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.field = field
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            data["field"] = self.field
        if self.details:
            data["details"] = self.details
        return data


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400
    default_message = _("输入有误，请检查后重试。")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("您没有权限执行此操作。")


class NotFound(DomainError):
    """Also used for "exists but not yours": callers cannot tell the two apart."""

    code = "not_found"
    status = 404
    default_message = _("找不到该记录，或您无权查看。")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("该操作与当前状态冲突。")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("当前状态下不能执行此操作。")


class RateLimited(DomainError):
    """Answered with 429 and a ``Retry-After`` header (seconds) when ``retry_after``
    is set (see ``linli.core.ratelimit``)."""

    code = "rate_limited"
    status = 429
    default_message = _("操作过于频繁，请稍后再试。")
    retry_after: int | None = None
