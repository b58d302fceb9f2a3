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

from linli.accounts.models import Role, SensitiveAccessGrant, SensitiveScope, User
from linli.accounts.scope import scope_of
from linli.accounts.services import MAX_GRANT_DAYS, sensitive_grant_revoke
from linli.communities.models import OrgUnit, SensitiveGrantRequest
from linli.communities.services import (
    GRANT_APPROVER_ROLES,
    grant_grantee_queryset,
    grant_requests_to_decide,
    sensitive_grant_approve,
    sensitive_grant_refuse,
    sensitive_grant_request,
)
from linli.core.errors import DomainError, NotFound
from linli.core.forms import tidy_choices


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
    """Secretaries ask for grants for their own community's staff; another secretary of
    the community or a street officer covering it approves them here."""
    community_ids = _secretary_communities(request.user)
    approver_ids = sorted(scope_of(request.user).community_ids_for(*GRANT_APPROVER_ROLES))
    if not approver_ids:
        raise NotFound()
    form = None
    status = 200
    if community_ids:
        form = GrantForm(request.POST or None)
        form.fields["community"].queryset = OrgUnit.objects.filter(pk__in=community_ids)  # type: ignore[attr-defined]
        # Only staff of the secretary's own communities, never the secretary themself.
        form.fields["grantee"].queryset = grant_grantee_queryset(  # type: ignore[attr-defined]
            community_ids=community_ids
        ).exclude(pk=request.user.pk)
        tidy_choices(form, fixed_when_single=("community",))
        if request.method == "POST":
            if form.is_valid():
                try:
                    sensitive_grant_request(actor=request.user, **form.cleaned_data)
                    messages.success(
                        request, _("授权申请已提交，须由另一位社区书记或街道干部批准后生效。")
                    )
                    return redirect("communities:grant_list")
                except DomainError as exc:
                    form.add_error(
                        exc.field if exc.field in form.fields else None, str(exc.message)
                    )
            status = 400
    elif request.method == "POST":
        raise NotFound()
    grants = (
        SensitiveAccessGrant.objects.filter(community_id__in=approver_ids)
        .select_related("grantee", "granted_by", "community", "request__decided_by")
        .order_by("-created_at")[:200]
    )
    requests_ = (
        SensitiveGrantRequest.objects.filter(community_id__in=approver_ids)
        .exclude(status=SensitiveGrantRequest.Status.APPROVED)
        .select_related("grantee", "requested_by", "decided_by", "community")
        .order_by("-created_at")[:100]
    )
    to_decide = {r.pk for r in grant_requests_to_decide(viewer=request.user)}
    return render(
        request,
        "communities/grant_list.html",
        {
            "form": form,
            "grants": grants,
            "requests": requests_,
            "to_decide": to_decide,
            "can_revoke": set(community_ids),
            "now": timezone.now(),
        },
        status=status,
    )


def _request_for(request: HttpRequest, pk: int) -> SensitiveGrantRequest:
    ids = scope_of(request.user).community_ids_for(*GRANT_APPROVER_ROLES)
    req = (
        SensitiveGrantRequest.objects.filter(pk=pk, community_id__in=ids)
        .select_related("community")
        .first()
    )
    if req is None:
        raise NotFound()
    return req


@login_required
@require_POST
def grant_approve(request: HttpRequest, pk: int) -> HttpResponse:
    sensitive_grant_approve(actor=request.user, request=_request_for(request, pk))
    messages.success(request, _("已批准，授权即时生效。"))
    return redirect("communities:grant_list")


@login_required
@require_POST
def grant_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    sensitive_grant_refuse(
        actor=request.user,
        request=_request_for(request, pk),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, _("已拒绝该授权申请。"))
    return redirect("communities:grant_list")


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = SensitiveAccessGrant.objects.filter(pk=pk).select_related("community").first()
    if grant is None:
        raise NotFound()
    sensitive_grant_revoke(actor=request.user, grant=grant)
    messages.success(request, _("授权已撤销。"))
    return redirect("communities:grant_list")
