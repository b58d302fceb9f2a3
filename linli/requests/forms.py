"""Page input parsing. Business rules live in the services; forms only coerce types."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.requests.models import Channel
from linli.requests.selectors import leaf_categories


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [d for d in data if d]
        return [data] if data else []


def _category_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for c in leaf_categories():
        group = c.parent.name if c.parent_id and c.parent else str(_("其他"))
        groups.setdefault(group, []).append((c.pk, c.name))
    return list(groups.items())


class ReportForm(forms.Form):
    # Photo first: on a phone the picture is what the resident has in hand.
    photos = MultipleFileField(label=_("照片（可选，最多 6 张，每张不超过 8 MB）"))
    # Signed list of photos already uploaded on an earlier submit of this form (see
    # linli.requests.pending): kept across re-renders so nobody has to choose them again.
    kept_photos = forms.CharField(required=False, widget=forms.HiddenInput)
    category = forms.TypedChoiceField(label=_("问题类别"), coerce=int)
    description = forms.CharField(
        label=_("问题描述"),
        # No max_length on the field: Django would write it over the widget's maxlength,
        # and the counter under the box would say 10000 while the limit is 2 000. The
        # service refuses a longer text with the precise message (never cuts it).
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        required=False,
        help_text=_("请写清楚什么问题、在哪里、持续多久。"),
    )
    building = forms.TypedChoiceField(label=_("楼栋"), coerce=int, required=False, empty_value=None)
    unit = forms.ChoiceField(label=_("单元（可选）"), required=False)
    address = forms.CharField(label=_("位置补充说明"), required=False, max_length=200)
    lat = forms.CharField(label=_("纬度（可选）"), required=False, max_length=20)
    lng = forms.CharField(label=_("经度（可选）"), required=False, max_length=20)
    public = forms.BooleanField(
        label=_("公开这条诉求"),
        required=False,
        help_text=_(
            "勾选后，问题描述、位置说明和办理结果会在开放接口中公开，本社区邻居也能看到照片；"
            "您的姓名和电话始终不公开。"
        ),
    )

    def __init__(
        self,
        *args: Any,
        buildings: list[tuple[int, str]],
        units: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("请选择"))] + _category_choices()  # type: ignore[attr-defined]
        self.fields["building"].choices = [("", _("不选（用坐标定位）"))] + buildings  # type: ignore[attr-defined]
        if "unit" in self.fields:  # the 代办 form has no unit picker
            self.fields["unit"].choices = [("", _("不选"))] + [  # type: ignore[attr-defined]
                (u, _("%(u)s单元") % {"u": u}) for u in (units or [])
            ]


class RecordForm(ReportForm):
    """代办: staff record a request for a resident (hotline, suggestion box, visit)."""

    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=[(c, label) for c, label in Channel.choices if c in ("hotline", "box", "visit")],
    )
    resident_phone = forms.CharField(
        label=_("居民手机号（可选，用于关联居民）"), required=False, max_length=11
    )
    reporter_name = forms.CharField(label=_("反映人姓名"), required=False, max_length=40)
    reporter_phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)
    public = None  # type: ignore[assignment]  # only residents publish; 代办 stays private
    kept_photos = None  # type: ignore[assignment]  # the resident's report form only
    unit = None  # type: ignore[assignment]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("满意度"), coerce=int, choices=[(i, f"{i} ★") for i in range(5, 0, -1)]
    )
    comment = forms.CharField(
        label=_("评价（可选）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
