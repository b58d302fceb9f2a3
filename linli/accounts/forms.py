from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from linli.communities.models import PrivacySetting

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def phone_field(label: str | _StrPromise) -> forms.CharField:
    """The phone number box every sign-in and reset form asks for (mobile keyboard,
    the browser's saved number)."""
    return forms.CharField(
        label=label,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "inputmode": "text"}
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("手机号/用户名或密码不正确。请注意区分大小写。"),
        "inactive": _("该账户已停用，请联系社区工作人员。"),
    }


class PrivacyForm(forms.ModelForm):
    class Meta:
        model = PrivacySetting
        fields = [
            "show_name_publicly",
            "phone_visibility",
            "skills_visibility",
            "hall_of_fame_consent",
        ]


TOKEN_DAY_CHOICES = [
    ("30", _("30 天")),
    ("90", _("90 天")),
    ("180", _("180 天")),
    ("365", _("1 年")),
]


def _scope_label(scope: str) -> str:
    if scope == "read":
        return str(_("读取（查看数据）"))
    return str(_("写入：%(app)s")) % {"app": scope.split(":", 1)[1]}


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称（用途）"), max_length=60)
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
    days = forms.ChoiceField(label=_("有效期"), choices=TOKEN_DAY_CHOICES, initial="90")

    def __init__(self, *args: object, **kwargs: object) -> None:
        from linli.accounts.tokens import all_scopes

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["scopes"].choices = [(s, _scope_label(s)) for s in all_scopes()]  # type: ignore[attr-defined]


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态验证码（6 位数字）"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordResetRequestForm(forms.Form):
    phone = phone_field(_("注册时使用的手机号"))


class PasswordResetConfirmForm(forms.Form):
    phone = phone_field(_("手机号"))
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    new_password1 = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        return data


class CodeLoginRequestForm(forms.Form):
    phone = phone_field(_("手机号"))


class CodeLoginForm(forms.Form):
    phone = phone_field(_("手机号"))
    code = forms.CharField(
        label=_("短信验证码（6 位数字）"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ActivationForm(forms.Form):
    code = forms.CharField(
        label=_("激活码（8 位，由社区工作人员提供）"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
    )
    phone = forms.CharField(
        label=_("手机号（没有可不填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label=_("设置密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data
