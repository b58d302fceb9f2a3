from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.forms import ApiTokenForm, LoginForm, PrivacyForm
from linli.accounts.lockout import ip_limited
from linli.accounts.scope import scope_of
from linli.accounts.tokens import api_token_issue, api_token_list_for, api_token_revoke
from linli.communities.models import PrivacySetting, Resident
from linli.communities.selectors import my_data
from linli.communities.services import privacy_update
from linli.core.errors import DomainError
from linli.core.middleware import LANGUAGE_COOKIE


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # One address that failed too often (whatever accounts it named) is refused
        # before any password is checked; nothing is counted or changed.
        if ip_limited(request):
            return render(
                request,
                "accounts/locked_out.html",
                {"ip_limited": True},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        user = form.get_user()
        if user.language:
            response.set_cookie(LANGUAGE_COOKIE, user.language, samesite="Lax")
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    resident = (
        Resident.objects.filter(pk=scope.resident_id).select_related("household").first()
        if scope.resident_id
        else None
    )
    form = None
    if resident is not None:
        setting, _created = PrivacySetting.objects.get_or_create(resident=resident)
        form = PrivacyForm(request.POST or None, instance=setting)
        if request.method == "POST" and form.is_valid():
            privacy_update(actor=request.user, resident=resident, **form.cleaned_data)
            messages.success(request, _("隐私设置已保存。"))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"resident": resident, "form": form})


@login_required
def my_data_download(request: HttpRequest) -> HttpResponse:
    data = my_data(viewer=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="linli-my-data.json"'
    return response


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """My API tokens: list, issue (the key is shown on this response only), revoke."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_key = api_token_issue(
                    user=request.user,  # type: ignore[arg-type]
                    actor=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    days=int(form.cleaned_data["days"]),
                )
            except DomainError as exc:
                messages.error(request, str(exc.message))
                status = exc.status
            else:
                form = ApiTokenForm()
        else:
            status = 400
    tokens = list(api_token_list_for(viewer=request.user))  # type: ignore[arg-type]
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
        status=status,
    )


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    # Someone else's token raises NotFound: a 404 page (DomainError middleware), the
    # same as a missing one.
    api_token_revoke(actor=request.user, token_id=token_id)  # type: ignore[arg-type]
    messages.success(request, _("令牌已撤销，使用它的应用将无法再访问。"))
    return redirect("accounts:api_tokens")
