from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.communities.models import Building, OrgUnit
from linli.core.forms import tidy_choices
from linli.notices.models import Channel, Notice


class NoticeForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=OrgUnit.objects.none())
    title = forms.CharField(label=_("标题"), max_length=120)
    summary = forms.CharField(
        label=_("通俗摘要"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("用几句大白话说清楚：什么事、什么时候、和我有什么关系。"),
    )
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}))
    audience = forms.ChoiceField(
        label=_("发布范围"),
        choices=[c for c in Notice.Audience.choices if c[0] != Notice.Audience.COUNCIL],
    )
    buildings = forms.ModelMultipleChoiceField(
        label=_("楼栋（范围为指定楼栋时）"), queryset=Building.objects.none(), required=False
    )
    channels = forms.MultipleChoiceField(
        label=_("发布渠道"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Channel.WEB, Channel.INAPP, Channel.POSTER],
    )
    publish_at = forms.DateTimeField(
        label=_("定时发布（留空则立即发布）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]
        self.fields["buildings"].queryset = Building.objects.filter(  # type: ignore[attr-defined]
            community__in=communities
        ).order_by("community_id", "id")
        tidy_choices(self, fixed_when_single=("community",))
