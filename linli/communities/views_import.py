"""Roster import (with the owners' merge preview), template and export pages."""

from __future__ import annotations

import io
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.scope import scope_of
from linli.communities import roster as roster_service
from linli.communities.models import OrgUnit
from linli.communities.permissions import ROSTER_EDIT_ROLES
from linli.communities.roster import COLUMNS, roster_export_rows
from linli.communities.selectors import communities_for
from linli.core.errors import DomainError, NotFound
from linli.core.exports import csv_response, xlsx_response


class ImportForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(),
        label=gettext_lazy("社区"),
        empty_label=gettext_lazy("请选择…"),
    )
    file = forms.FileField(label=gettext_lazy("名册文件（.xlsx 或 .csv）"))

    def __init__(self, *args: object, viewer: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["community"]
        field.queryset = communities_for(viewer=viewer)  # type: ignore[attr-defined]
        only = list(field.queryset[:2])  # type: ignore[attr-defined]
        if len(only) == 1:  # nothing to choose: preselect it and keep the field out of sight
            field.initial = only[0].pk
            field.widget = forms.HiddenInput()


# A file whose owners will be merged waits here between the preview and the
# confirmation (no JavaScript, and a file input cannot be pre-filled).
_PREVIEW_TTL = 15 * 60


def _preview_key(user_pk: Any, token: str) -> str:
    return f"roster-preview:{user_pk}:{token}"


def _confirm(request: HttpRequest) -> tuple[Any, Any, str, str]:
    """The file held for this user's confirmation: (result, community, token, error)."""
    token = request.POST.get("token", "")
    held = cache.get(_preview_key(request.user.pk, token)) if token.isalnum() else None
    if held is None:
        return None, None, "", _("预览已过期，请重新上传文件。")
    community = communities_for(viewer=request.user).filter(pk=held["community"]).first()
    if community is None:
        raise NotFound()
    result = roster_service.roster_import(
        actor=request.user,
        community=community,
        upload=io.BytesIO(held["data"]),
        filename=held["filename"],
        confirm_merges=True,
    )
    cache.delete(_preview_key(request.user.pk, token))
    return result, community, token, ""


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    if not scope_of(request.user).has_role(*ROSTER_EDIT_ROLES):
        raise NotFound()
    confirming = request.method == "POST" and request.POST.get("confirm") == "1"
    form = ImportForm(
        None if confirming else (request.POST or None),
        None if confirming else (request.FILES or None),
        viewer=request.user,
    )
    result = None
    error: Any = None
    token = ""
    if confirming:
        try:
            result, _community, token, error = _confirm(request)
        except DomainError as exc:
            error = exc.message
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = upload.read()
            result = roster_service.roster_import(
                actor=request.user,
                community=form.cleaned_data["community"],
                upload=io.BytesIO(data),
                filename=upload.name or "",
            )
            if result.needs_confirmation:
                token = secrets.token_hex(12)
                cache.set(
                    _preview_key(request.user.pk, token),
                    {
                        "data": data,
                        "filename": upload.name or "",
                        "community": form.cleaned_data["community"].pk,
                    },
                    _PREVIEW_TTL,
                )
        except DomainError as exc:
            error = exc.message
        if result is not None and not result.errors and not result.needs_confirmation:
            messages.success(
                request,
                _("导入成功：新增居民 %(r)d 人、住户 %(h)d 户、楼栋 %(b)d 栋。")
                % {
                    "r": result.residents_created,
                    "h": result.households_created,
                    "b": result.buildings_created,
                },
            )
            if result.ownerships_created:
                messages.success(
                    request,
                    _("登记产权 %(o)d 条（非住户业主 %(x)d 人，合并业主 %(m)d 人）。")
                    % {
                        "o": result.ownerships_created,
                        "x": result.outside_owners_created,
                        "m": len(result.merges),
                    },
                )
            return redirect("communities:roster_import")
    if confirming and result is not None and not result.errors and not error:
        messages.success(
            request,
            _("导入成功：新增居民 %(r)d 人、住户 %(h)d 户、楼栋 %(b)d 栋。")
            % {
                "r": result.residents_created,
                "h": result.households_created,
                "b": result.buildings_created,
            },
        )
        messages.success(
            request,
            _("登记产权 %(o)d 条（非住户业主 %(x)d 人，合并业主 %(m)d 人）。")
            % {
                "o": result.ownerships_created,
                "x": result.outside_owners_created,
                "m": len(result.merges),
            },
        )
        return redirect("communities:roster_import")
    status = (
        400
        if (
            error
            or (result and result.errors)
            or (request.method == "POST" and not form.is_valid())
        )
        else 200
    )
    return render(
        request,
        "communities/roster_import.html",
        {
            "form": form,
            "result": result,
            "error": error,
            "columns": [h for _k, h, _e in COLUMNS],
            "allowed": roster_service.allowed_values(),
            "token": token,
        },
        status=status,
    )


@login_required
def roster_template(request: HttpRequest) -> HttpResponse:
    """The empty roster workbook: the import columns and one example row."""
    if not scope_of(request.user).has_role(*ROSTER_EDIT_ROLES):
        raise NotFound()
    headers = [h for _k, h, _e in COLUMNS]
    return xlsx_response(
        [("居民名册", [headers, roster_service.TEMPLATE_EXAMPLE])], "roster-template.xlsx"
    )


@login_required
def roster_export(request: HttpRequest) -> HttpResponse:
    try:
        community = OrgUnit.objects.get(pk=int(request.GET.get("community", "0")), kind="community")
    except (OrgUnit.DoesNotExist, ValueError) as exc:
        raise NotFound() from exc
    rows = roster_export_rows(actor=request.user, community=community)
    filename = f"roster-{community.code}"
    if request.GET.get("format", "xlsx") == "csv":
        return csv_response(rows, f"{filename}.csv")
    return xlsx_response([("居民名册", rows)], f"{filename}.xlsx")
