from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.activation import (
    activation_code_issue,
    activation_redeem,
    resident_for_issuer,
)
from linli.accounts.forms import (
    ActivationForm,
    ApiTokenForm,
    CodeLoginForm,
    CodeLoginRequestForm,
    LoginForm,
    OtpCodeForm,
    PasswordResetConfirmForm,
    PasswordResetRequestForm,
    PrivacyForm,
)
from linli.accounts.lockout import client_ip, ip_limited, note_failure
from linli.accounts.middleware import DEVICE_KEY
from linli.accounts.reset import (
    login_code_confirm,
    login_code_request,
    mfa_confirm,
    normalise_phone,
    password_reset_confirm,
    password_reset_request,
)
from linli.accounts.scope import scope_of
from linli.accounts.tokens import api_token_issue, api_token_list_for, api_token_revoke
from linli.communities.models import PrivacySetting, Resident
from linli.communities.selectors import my_data
from linli.communities.services import privacy_update
from linli.core.errors import DomainError, ValidationFailed
from linli.core.middleware import LANGUAGE_COOKIE
from linli.core.writes import governed_write


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


# --- TOTP (staff) ---------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return nxt
    return reverse(settings.LOGIN_REDIRECT_URL)


@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Scan the QR code with an authenticator app, then type a code to confirm."""
    user = request.user
    if user_has_device(user, confirmed=True):
        messages.info(request, _("您已启用两步验证。"))
        return redirect("accounts:mfa_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("手机验证器"), confirmed=False)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["code"].strip()):
            mfa_confirm(user=user, device=device)  # type: ignore[arg-type]
            otp_login(request, device)
            request.session[DEVICE_KEY] = True
            messages.success(request, _("两步验证已启用。以后登录时需输入验证器上的动态码。"))
            return redirect(_safe_next(request))
        form.add_error("code", _("验证码不正确，请核对手机上的最新动态码后重试。"))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("两步验证二维码"))
    return render(
        request,
        "accounts/mfa_enrol.html",
        {"form": form, "qr_svg": qr_svg, "secret": secret, "next": _safe_next(request)},
    )


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a staff login: a code from the enrolled authenticator."""
    user = request.user
    devices = list(devices_for_user(user, confirmed=True))  # type: ignore[arg-type]
    if not devices:
        return redirect("accounts:mfa_enrol")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST":
        code = form.cleaned_data["code"].strip() if form.is_valid() else ""
        for device in devices:
            if code and device.verify_token(code):
                otp_login(request, device)
                return redirect(_safe_next(request))
        form.errors.pop("code", None)
        form.add_error("code", _("验证码不正确，请核对手机上的最新动态码后重试。"))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _safe_next(request)})


# --- passwords ------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        with governed_write(
            actor=self.request.user,  # type: ignore[arg-type]
            action="accounts.password_change",
            community_id=None,
            target=self.request.user,  # type: ignore[arg-type]
        ):
            response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


def password_reset(request: HttpRequest) -> HttpResponse:
    """Step 1: a phone number. The answer is the same whether it has an account."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_request(phone=form.cleaned_data["phone"], ip=client_ip(request))
        except ValidationFailed as exc:
            form.add_error("phone", str(exc.message))
        else:
            request.session["linli_reset_phone"] = normalise_phone(form.cleaned_data["phone"])
            messages.info(
                request,
                _("如果该手机号已在邻里注册，您将收到一条含 6 位验证码的短信，10 分钟内有效。"),
            )
            return redirect("accounts:password_reset_confirm")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_confirm_view(request: HttpRequest) -> HttpResponse:
    """Step 2: the code and the new password."""
    initial = {"phone": request.session.get("linli_reset_phone", "")}
    form = PasswordResetConfirmForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_confirm(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            request.session.pop("linli_reset_phone", None)
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


# --- sign in by SMS code, activation codes ----------------------------------------------

_BACKEND = "linli.accounts.backends.PhoneOrUsernameBackend"
_CODE_PHONE = "linli_code_phone"


def _sign_in(request: HttpRequest, user: Any) -> HttpResponse:
    """Log ``user`` in (``user_logged_in`` notes staff and TOTP state, so the staff
    middleware still asks enrolled staff for their code) and go on."""
    auth_login(request, user, backend=_BACKEND)
    response = redirect(_safe_next(request))
    if user.language:
        response.set_cookie(LANGUAGE_COOKIE, user.language, samesite="Lax")
    return response


def code_login_request_view(request: HttpRequest) -> HttpResponse:
    """Step 1: a phone number. The answer is the same whether it has an account."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = CodeLoginRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            login_code_request(phone=form.cleaned_data["phone"], ip=client_ip(request))
        except ValidationFailed as exc:
            form.add_error("phone", str(exc.message))
        else:
            request.session[_CODE_PHONE] = normalise_phone(form.cleaned_data["phone"])
            messages.info(
                request,
                _("如果该手机号已在邻里注册，您将收到一条含 6 位验证码的短信，10 分钟内有效。"),
            )
            url = reverse("accounts:code_login_confirm")
            nxt = request.POST.get("next") or ""
            return redirect(f"{url}?{urlencode({'next': nxt})}" if nxt else url)
    return render(
        request, "accounts/code_login.html", {"form": form, "next": request.GET.get("next", "")}
    )


def code_login_confirm_view(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the SMS signs the account in."""
    initial = {"phone": request.session.get(_CODE_PHONE, "")}
    form = CodeLoginForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if ip_limited(request):
            return render(request, "accounts/locked_out.html", {"ip_limited": True}, status=429)
        if form.is_valid():
            try:
                user = login_code_confirm(
                    phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
                )
            except ValidationFailed as exc:
                note_failure(request)
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = 400
            else:
                request.session.pop(_CODE_PHONE, None)
                return _sign_in(request, user)
        else:
            status = 400
    return render(
        request,
        "accounts/code_login_confirm.html",
        {"form": form, "next": _safe_next(request) if request.GET.get("next") else ""},
        status=status,
    )


def activate(request: HttpRequest) -> HttpResponse:
    """激活账号: the code from the service window, a password (and a phone number)."""
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                done = activation_redeem(
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password1"],
                    phone=form.cleaned_data["phone"],
                    ip=client_ip(request),
                )
            except ValidationFailed as exc:
                target = {"password1": "password1", "phone": "phone"}.get(exc.field or "", "code")
                form.add_error(target, str(exc.message))
                status = 400
            else:
                user = done.user
                messages.success(
                    request,
                    _("账号已激活。以后请用 %(login)s 和您设置的密码登录。")
                    % {"login": user.phone or user.username},
                )
                return _sign_in(request, user)
        else:
            status = 400
    return render(request, "accounts/activate.html", {"form": form}, status=status)


@login_required
def activation_issue_view(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Staff: issue a resident's activation code; it is shown on this response only."""
    resident = resident_for_issuer(viewer=request.user, resident_id=resident_id)  # type: ignore[arg-type]
    code = None
    expires_at = None
    if request.method == "POST":
        row, code = activation_code_issue(actor=request.user, resident_id=resident.pk)  # type: ignore[arg-type]
        expires_at = row.expires_at
    response = render(
        request,
        "accounts/activation_issue.html",
        {"resident": resident, "code": code, "expires_at": expires_at},
    )
    response["Cache-Control"] = "no-store"
    return response
