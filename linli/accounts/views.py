from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.forms import LoginForm, PrivacyForm
from linli.accounts.lockout import ip_limited
from linli.accounts.scope import scope_of
from linli.communities.models import PrivacySetting, Resident
from linli.communities.selectors import my_data
from linli.communities.services import privacy_update
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
