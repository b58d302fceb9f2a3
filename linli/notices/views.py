"""Notice pages: the resident's list and reading page (with read-aloud), the printable
poster, and the staff desk with awareness rates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.core.errors import DomainError, NotFound, RateLimited
from linli.notices.forms import NoticeForm
from linli.notices.models import Notice
from linli.notices.permissions import PUBLISH_ROLES, can_see_statistics
from linli.notices.selectors import (
    notice_awareness,
    notice_get_for,
    notice_list_for_resident,
    notice_list_for_staff,
    read_ids_for,
)
from linli.notices.services import notice_create, notice_mark_read, notice_publish, notice_withdraw
from linli.notices.states import NOTICE


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notice_list_for_resident(viewer=request.user), 20).get_page(
        request.GET.get("page")
    )
    read = read_ids_for(viewer=request.user, notice_ids=[n.pk for n in page])
    return render(request, "notices/list.html", {"page": page, "read": read})


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get_for(viewer=request.user, pk=pk)
    if notice.is_visible:
        # Opening the notice is the read receipt (知晓率 counts who actually saw it).
        notice_mark_read(actor=request.user, notice=notice)
    stats = notice_awareness(notice) if can_see_statistics(request.user, notice) else None
    return render(
        request,
        "notices/detail.html",
        # The button comes from the state machine: shown exactly when the service accepts.
        {
            "n": notice,
            "stats": stats,
            "can_publish": NOTICE.can(request.user, notice, "publish"),
            "can_withdraw": NOTICE.can(request.user, notice, "withdraw"),
        },
    )


@login_required
def notice_poster(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get_for(viewer=request.user, pk=pk)
    return render(request, "notices/poster.html", {"n": notice})


@login_required
def notice_manage(request: HttpRequest) -> HttpResponse:
    if not scope_of(request.user).is_staff:
        raise NotFound()
    page = Paginator(notice_list_for_staff(viewer=request.user), 20).get_page(
        request.GET.get("page")
    )
    rows = [(n, notice_awareness(n)) for n in page]
    can_publish = _publish_communities(request).exists()  # type: ignore[attr-defined]
    return render(
        request, "notices/manage.html", {"page": page, "rows": rows, "can_publish": can_publish}
    )


def _publish_communities(request: HttpRequest) -> object:
    ids = scope_of(request.user).community_ids_for(*PUBLISH_ROLES)
    return OrgUnit.objects.filter(kind="community", pk__in=ids).order_by("path")


@login_required
def notice_new(request: HttpRequest) -> HttpResponse:
    communities = _publish_communities(request)
    if not communities.exists():  # type: ignore[attr-defined]
        raise NotFound()
    form = NoticeForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            notice = notice_create(
                actor=request.user,
                community=d["community"],
                title=d["title"],
                body=d["body"],
                summary=d["summary"],
                audience=d["audience"],
                channels=d["channels"],
                building_ids=[b.pk for b in d["buildings"]],
            )
            notice_publish(actor=request.user, notice=notice, publish_at=d["publish_at"])
        except RateLimited:
            raise  # the error page answers 429 with Retry-After
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("公告已发布。"))
            return redirect("notices:detail", pk=notice.pk)
    return render(request, "notices/new.html", {"form": form})


@login_required
@require_POST
def notice_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a draft now (e.g. one prepared by another module)."""
    notice = notice_get_for(viewer=request.user, pk=pk)
    try:
        notice_publish(actor=request.user, notice=notice)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("公告已发布。"))
    return redirect("notices:detail", pk=notice.pk)


@login_required
@require_POST
def notice_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get_for(viewer=request.user, pk=pk)
    notice_withdraw(actor=request.user, notice=notice, reason=request.POST.get("reason", ""))
    messages.success(request, _("公告已撤回。"))
    return redirect("notices:detail", pk=notice.pk)


__all__ = ["Notice"]
