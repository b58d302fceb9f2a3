from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.models import Membership, Role, SensitiveAccessGrant, SensitiveScope, User
from linli.accounts.scope import scope_of
from linli.accounts.services import MAX_GRANT_DAYS, sensitive_grant_create, sensitive_grant_revoke
from linli.communities.models import OrgUnit
from linli.core.errors import DomainError, NotFound


class GrantForm(forms.Form):
    community = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("社区"))
    grantee = forms.ModelChoiceField(queryset=User.objects.none(), label=gettext_lazy("授权给"))
    scope = forms.ChoiceField(choices=SensitiveScope.choices, label=gettext_lazy("范围"))
    reason = forms.CharField(max_length=200, label=gettext_lazy("用途说明"))
    days = forms.IntegerField(
        min_value=1, max_value=MAX_GRANT_DAYS, initial=7, label=gettext_lazy("有效天数")
    )


def _secretary_communities(user: object) -> list[int]:
    scope = scope_of(user)
    return sorted(scope.community_ids_for(Role.SECRETARY))


@login_required
def grant_list(request: HttpRequest) -> HttpResponse:
    community_ids = _secretary_communities(request.user)
    if not community_ids:
        raise NotFound()
    form = GrantForm(request.POST or None)
    form.fields["community"].queryset = OrgUnit.objects.filter(pk__in=community_ids)  # type: ignore[attr-defined]
    form.fields["grantee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
        pk__in=Membership.objects.active()
        .filter(unit__path__startswith="/")
        .exclude(role=Role.RESIDENT)
        .values("user_id")
    ).order_by("display_name")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sensitive_grant_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("已授权。"))
                return redirect("communities:grant_list")
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        status = 400
    grants = (
        SensitiveAccessGrant.objects.filter(community_id__in=community_ids)
        .select_related("grantee", "granted_by", "community")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "communities/grant_list.html",
        {"form": form, "grants": grants, "now": timezone.now()},
        status=status,
    )


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = SensitiveAccessGrant.objects.filter(pk=pk).select_related("community").first()
    if grant is None:
        raise NotFound()
    sensitive_grant_revoke(actor=request.user, grant=grant)
    messages.success(request, _("授权已撤销。"))
    return redirect("communities:grant_list")
