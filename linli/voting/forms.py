"""Input validation for the voting pages (the services validate again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.voting.models import Ballot


class BallotForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=Ballot.Kind.choices)
    options = forms.CharField(
        label=_("选项（每行一个；同意/反对/弃权类型无需填写）"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    max_choices = forms.IntegerField(label=_("多选最多可选（0 为不限）"), min_value=0, initial=0)
    eligibility = forms.ChoiceField(label=_("投票资格"), choices=Ballot.Eligibility.choices)
    voter_resident_ids = forms.CharField(
        label=_("成员名单（居民编号，逗号分隔；仅议事会/指定名单）"), required=False
    )
    weighting = forms.ChoiceField(label=_("计票权重"), choices=Ballot.Weighting.choices)
    validity_rule = forms.ChoiceField(label=_("有效规则"), choices=Ballot.Rule.choices)
    matter_class = forms.ChoiceField(
        label=_("事项类别（民法典第二百七十八条）"),
        choices=[("", "—"), *Ballot.MatterClass.choices],
        required=False,
    )
    opens_at = forms.DateTimeField(
        label=_("开始时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("截止时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    secret = forms.BooleanField(label=_("不记名投票"), required=False)
    allow_change = forms.BooleanField(label=_("截止前允许改票"), required=False)
    ratification_days = forms.IntegerField(
        label=_("事后追认期（天，0 为不接受）"), min_value=0, max_value=90, initial=0
    )
    co_owner_rule = forms.ChoiceField(
        label=_("共有房屋投票方式（业主投票）"),
        choices=Ballot.CoOwnerRule.choices,
        initial=Ballot.CoOwnerRule.REPRESENTATIVE,
        required=False,
    )

    def clean_voter_resident_ids(self) -> list[int]:
        raw = self.cleaned_data.get("voter_resident_ids") or ""
        try:
            return [int(x) for x in raw.replace("，", ",").split(",") if x.strip()]
        except ValueError:
            raise forms.ValidationError(_("请填写数字编号，用逗号分隔。")) from None

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "description": d["description"],
            "kind": d["kind"],
            "options": [line.strip() for line in d["options"].splitlines() if line.strip()],
            "max_choices": d["max_choices"] or 0,
            "eligibility": d["eligibility"],
            "voter_resident_ids": d["voter_resident_ids"],
            "weighting": d["weighting"],
            "validity_rule": d["validity_rule"],
            "matter_class": d["matter_class"] or None,
            "opens_at": d["opens_at"],
            "closes_at": d["closes_at"],
            "secret": d["secret"],
            "allow_change": d["allow_change"],
            "ratification_days": d["ratification_days"] or 0,
            "co_owner_rule": d["co_owner_rule"] or Ballot.CoOwnerRule.REPRESENTATIVE,
        }


class PaperVoteForm(forms.Form):
    resident = forms.CharField(label=_("选民（居民编号或手机号）"), max_length=20, required=False)
    entry = forms.IntegerField(
        label=_("或：业主名册项编号（非住户业主、建设单位）"), required=False, min_value=1
    )
    second_username = forms.CharField(label=_("第二位录入人账号"), max_length=150)
    second_password = forms.CharField(label=_("第二位录入人密码"), widget=forms.PasswordInput)
    note = forms.CharField(label=_("备注（纸质票编号等）"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("resident") and not data.get("entry"):
            raise forms.ValidationError(_("请填写选民，或业主名册项编号。"))
        return data


class ProxyForm(forms.Form):
    principal = forms.CharField(label=_("委托人（居民编号或手机号）"), max_length=20)
    agent = forms.CharField(label=_("受托人（居民编号或手机号）"), max_length=20)
    mandate_text = forms.CharField(label=_("委托书内容"), widget=forms.Textarea, max_length=2000)


class RatificationForm(forms.Form):
    resident = forms.CharField(label=_("选民（居民编号或手机号）"), max_length=20)
    mandate_text = forms.CharField(
        label=_("书面追认材料内容"), widget=forms.Textarea, max_length=2000
    )


class RepresentativeForm(forms.Form):
    voter = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    resident = forms.IntegerField(label=_("代表"), min_value=1)
    note = forms.CharField(label=_("共有人书面约定（协议编号、签署日期）"), max_length=200)
