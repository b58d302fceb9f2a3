from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from linli.communities.models import PrivacySetting


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
