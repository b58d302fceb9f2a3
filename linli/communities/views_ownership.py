"""Staff correction of a unit's owners (产权): current owners, history, and one form
that states the unit's owners anew (the service checks shares add up to 1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.communities.models import Household, Ownership
from linli.communities.ownership import (
    OwnerSpec,
    find_owner,
    outside_owner_get_or_create,
    ownership_set_unit,
    ownerships_for_household,
    parse_share,
)
from linli.communities.permissions import manages_community
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, ValidationFailed

OWNER_LINES = 4


class OwnersForm(forms.Form):
    since = forms.DateField(
        label=gettext_lazy("变更日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=gettext_lazy("变更依据（不动产权证号、继承、买卖等）"), max_length=200
    )
    representative = forms.IntegerField(required=False, min_value=1, max_value=OWNER_LINES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, OWNER_LINES + 1):
            self.fields[f"owner_{i}"] = forms.CharField(
                label=_("产权人 %(i)d") % {"i": i}, max_length=20, required=False
            )
            self.fields[f"share_{i}"] = forms.CharField(
                label=_("份额 %(i)d") % {"i": i}, max_length=10, required=False
            )
            self.fields[f"dev_{i}"] = forms.ChoiceField(
                label=_("建设单位房屋状态 %(i)d") % {"i": i},
                choices=Ownership.DeveloperStatus.choices,
                required=False,
            )

    def lines(self) -> list[dict[str, Any]]:
        return [
            {
                "i": i,
                "owner": self[f"owner_{i}"],
                "share": self[f"share_{i}"],
                "dev": self[f"dev_{i}"],
            }
            for i in range(1, OWNER_LINES + 1)
        ]


class OutsideOwnerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=40)
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=18, required=False)
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=11, required=False)


def _household_for(request: HttpRequest, pk: int) -> Household:
    h = Household.objects.select_related("building", "community").filter(pk=pk).first()
    if h is None or not manages_community(request.user, h.community):
        raise NotFound()
    return h


def _specs(h: Household, d: dict[str, Any]) -> list[OwnerSpec]:
    specs: list[OwnerSpec] = []
    filled = [i for i in range(1, OWNER_LINES + 1) if (d.get(f"owner_{i}") or "").strip()]
    for i in filled:
        ref = d[f"owner_{i}"].strip()
        owner = find_owner(h.community, ref)
        if owner is None:
            raise ValidationFailed(
                _(
                    "第 %(i)d 位产权人“%(ref)s”未找到"
                    "（可填身份证号、居民编号、手机号或单位编号 d…）。"
                )
                % {"i": i, "ref": ref}
            )
        raw = (d.get(f"share_{i}") or "").strip()
        if not raw and len(filled) == 1:
            share = Decimal(1)
        elif not raw:
            raise ValidationFailed(_("共有时请填写每位共有人的份额。"))
        else:
            share = parse_share(raw)
        specs.append(
            OwnerSpec(
                owner,
                share=share,
                representative=d.get("representative") == i,
                developer_status=d.get(f"dev_{i}") or "",
            )
        )
    return specs


@login_required
@require_http_methods(["GET", "POST"])
def household_owners(request: HttpRequest, pk: int) -> HttpResponse:
    h = _household_for(request, pk)
    form = OwnersForm(request.POST or None, prefix="o")
    outside = OutsideOwnerForm(prefix="x")
    if request.method == "POST" and request.POST.get("action") == "outside":
        outside = OutsideOwnerForm(request.POST, prefix="x")
        form = OwnersForm(prefix="o")
        if outside.is_valid():
            try:
                o = outside_owner_get_or_create(
                    actor=request.user,
                    community=h.community,
                    idempotency_key=idempotency.from_request(request),
                    **outside.cleaned_data,
                )
            except DomainError as exc:
                outside.add_error(
                    exc.field if exc.field in outside.fields else None, str(exc.message)
                )
            else:
                messages.success(
                    request,
                    _("非住户业主已登记，编号 o%(n)d，可填入产权人一栏。") % {"n": o.pk},
                )
                return redirect("communities:household_owners", pk=h.pk)
    elif request.method == "POST" and form.is_valid():
        try:
            ownership_set_unit(
                actor=request.user,
                household=h,
                owners=_specs(h, form.cleaned_data),
                since=form.cleaned_data["since"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("产权信息已更新，并已记录审计事件。"))
            return redirect("communities:household_owners", pk=h.pk)
    rows = ownerships_for_household(h)
    status = 400 if request.method == "POST" and (form.errors or outside.errors) else 200
    return render(
        request,
        "communities/household_owners.html",
        {
            "h": h,
            "current": [r for r in rows if r.until is None],
            "history": [r for r in rows if r.until is not None],
            "form": form,
            "outside": outside,
        },
        status=status,
    )
