"""Micro-project pages: the community's list and a proposal form for residents (phone,
no JavaScript needed), a project page with co-signing and the fast-track buttons, the
staff workbench with overdue steps in red, and a public list of filed projects."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.display import display_name
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import idempotency
from linli.core.errors import NotFound
from linli.core.web import int_or_none
from linli.core.web import run_service as attempt
from linli.projects import selectors, services
from linli.projects.models import Channel, MicroProject, ProjectPhoto
from linli.projects.permissions import MANAGE_ROLES, community_ids, lives_in, manages
from linli.projects.services.micro import MAX_LINES
from linli.projects.states import MICRO

DEFAULT_ROWS = 4


def _communities(request: HttpRequest) -> list[OrgUnit]:
    """Where the viewer may propose: their own community, or those they manage."""
    scope = scope_of(request.user)
    ids = set(community_ids(request.user, MANAGE_ROLES))
    if scope.community_id is not None:
        ids.add(scope.community_id)
    return list(OrgUnit.objects.filter(pk__in=sorted(ids)).order_by("pk"))


@login_required
def micro_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in MicroProject.Status.values:
        status = None
    rows = list(selectors.micro_list_for(viewer=request.user, status=status)[:200])
    return render(
        request,
        "projects/micro_list.html",
        {
            "projects": rows,
            "statuses": MicroProject.Status.choices,
            "status": status,
            "can_propose": bool(_communities(request)),
        },
    )


def _lines_from(post: Any) -> list[tuple[str, str]]:
    items = post.getlist("line_item")
    amounts = post.getlist("line_amount")
    return list(zip(items, amounts, strict=False))[:MAX_LINES]


@login_required
def micro_new(request: HttpRequest) -> HttpResponse:
    communities = _communities(request)
    if not communities:
        raise NotFound()
    post = request.POST if request.method == "POST" else None
    rows = min(MAX_LINES, max(DEFAULT_ROWS, int_or_none(request.GET.get("rows")) or DEFAULT_ROWS))
    if post is not None:
        community = next(
            (c for c in communities if c.pk == int_or_none(post.get("community"))), communities[0]
        )
        on_behalf = manages(request.user, community) and bool(post.get("resident_phone"))
        resident: Resident | None = None
        if on_behalf:
            resident = Resident.objects.filter(
                community_id=community.pk, phone=post.get("resident_phone", "").strip()
            ).first()
        holder: dict[str, MicroProject] = {}

        def go() -> None:
            if on_behalf and resident is None:
                from linli.core.errors import ValidationFailed

                raise ValidationFailed(_("本社区没有这个手机号的居民。"), field="resident")
            holder["p"] = services.micro_propose(
                actor=request.user,
                community=community,
                title=post.get("title", ""),
                problem=post.get("problem", ""),
                plan=post.get("plan", ""),
                place=post.get("place", ""),
                building_id=int_or_none(post.get("building")),
                lines=_lines_from(post),
                photos=request.FILES.getlist("photos"),
                resident=resident,
                channel=post.get("channel", Channel.ONLINE),
                idempotency_key=idempotency.from_request(request),
                continues=int_or_none(post.get("continues")),
            )

        if attempt(request, go, _("提议已创建，请邀请邻居联名。")):
            return redirect("projects:micro_detail", pk=holder["p"].pk)
        rows = max(rows, len(post.getlist("line_item")))
    staff_for = [c for c in communities if manages(request.user, c)]
    lines = _lines_from(post) if post is not None else []
    lines += [("", "")] * (rows - len(lines))
    return render(
        request,
        "projects/micro_new.html",
        {
            "communities": communities,
            "buildings": Building.objects.filter(
                community_id__in=[c.pk for c in communities]
            ).order_by("community_id", "name"),
            # A recurring project's next round continues one of these (filed or later).
            "earlier": MicroProject.objects.filter(
                community_id__in=[c.pk for c in communities],
                status__in=["filed", "in_progress", "delivered"],
            ).order_by("-filed_at", "-id")[:50],
            "post": post or {},
            "lines": lines,
            "more_rows": rows + 2 if rows + 2 <= MAX_LINES else None,
            "staff_for": staff_for,
            "channels": [c for c in Channel.choices if c[0] != Channel.ONLINE],
        },
    )


@login_required
def micro_detail(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    cosigners = list(p.cosigners.select_related("resident").order_by("signed_at", "id"))
    rid = scope_of(request.user).resident_id
    me = Resident.objects.filter(pk=rid).only("household_id").first() if rid else None
    signed = me is not None and any(c.household_id == me.household_id for c in cosigners)
    settings = services.settings_for(p.community_id)
    labels = dict(MicroProject.Status.choices)
    ctx: dict[str, Any] = {
        "p": p,
        "lines": list(p.lines.all()),
        "photos": list(p.photos.filter(kind=ProjectPhoto.Kind.PROPOSAL)),
        "cosigners": [display_name(c.resident, viewer=request.user) for c in cosigners],
        "households": len(cosigners),
        "need": settings.min_households,
        "proposer": display_name(p.proposer, viewer=request.user) if p.proposer else "",
        "steps": [(st, labels.get(st.to_status, st.to_status)) for st in p.steps.all()],
        "due": selectors.waiting_on(p),
        "can_cosign": p.status == MicroProject.Status.GATHERING
        and lives_in(request.user, p)
        and not signed,
        "actions": [(a, MICRO[a]) for a in MICRO.available(request.user, p)],
        "staff": manages(request.user, p),
        "channels": [c for c in Channel.choices if c[0] != Channel.ONLINE],
    }
    return render(request, "projects/micro_detail.html", ctx)


@login_required
@require_POST
def micro_cosign(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    resident = None
    phone = request.POST.get("resident_phone", "").strip()
    if phone and manages(request.user, p):
        resident = Resident.objects.filter(community_id=p.community_id, phone=phone).first()
        if resident is None:
            from django.contrib import messages

            messages.error(request, _("本社区没有这个手机号的居民。"))
            return redirect("projects:micro_detail", pk=pk)
    attempt(
        request,
        lambda: services.micro_cosign(
            actor=request.user,
            project=p,
            resident=resident,
            channel=request.POST.get("channel", Channel.ONLINE),
        ),
        _("已联名。"),
    )
    return redirect("projects:micro_detail", pk=pk)


@login_required
@require_POST
def micro_act(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    label = MICRO[action].label if action in MICRO else action
    attempt(
        request,
        lambda: services.micro_transition(
            actor=request.user, project=p, action=action, reason=request.POST.get("reason", "")
        ),
        _("已完成：%(a)s。") % {"a": label},
    )
    return redirect("projects:micro_detail", pk=pk)


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    from linli.projects.permissions import VIEW_ROLES

    if not scope_of(request.user).has_role(*VIEW_ROLES):
        raise NotFound()
    return render(
        request,
        "projects/workbench.html",
        {"rows": selectors.workbench_for(viewer=request.user)},
    )


def public_list(request: HttpRequest) -> HttpResponse:
    """Anyone: projects the street has filed and their delivery (no names), with a site
    plan per community; tapping a building lists its projects (a link: no JS)."""
    rows = selectors.delivery_list()
    maps = selectors.delivery_maps(rows)
    building = None
    wanted = request.GET.get("building", "")
    if wanted.isdigit():
        picked = [(p, late) for p, late in rows if p.building_id == int(wanted)]
        if picked:
            rows, building = picked, picked[0][0].building
    return render(
        request,
        "projects/public_list.html",
        {
            "rows": rows,
            "maps": maps,
            "building": building,
            "legend": selectors.MAP_STATUSES,
        },
    )


def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Anyone: a filed project's delivery — phases, progress, photos, budget against
    spending, ratings, evaluations; staff of the community get the forms."""
    from linli.projects.models import Evaluation

    p = selectors.delivery_public(pk=pk)
    ctx: dict[str, Any] = {"p": p, **selectors.delivery_view(p)}
    user = request.user
    ctx["staff"] = user.is_authenticated and bool(manages(user, p))
    ctx["can_rate"] = (
        user.is_authenticated
        and p.status == MicroProject.Status.DELIVERED
        and bool(lives_in(user, p))
    )
    ctx["actions"] = (
        [(a, MICRO[a]) for a in MICRO.available(user, p, among=["start", "accept"])]
        if ctx["staff"]
        else []
    )
    ctx["rounds"] = Evaluation.Round.choices
    return render(request, "projects/project_page.html", ctx)


@login_required
@require_POST
def delivery_post(request: HttpRequest, pk: int) -> HttpResponse:
    """The forms on the project page (one service call each)."""
    from linli.core.web import date_or_none
    from linli.projects.models import DeliveryPhase
    from linli.projects.services import delivery

    p = selectors.micro_get_for(viewer=request.user, pk=pk)
    op = request.POST.get("op", "")
    post = request.POST
    if op == "phase":
        starts, due = date_or_none(post.get("starts_on")), date_or_none(post.get("due_on"))
        attempt(
            request,
            lambda: delivery.phase_add(
                actor=request.user,
                project=p,
                name=post.get("name", ""),
                owner=post.get("owner", ""),
                starts_on=starts,  # type: ignore[arg-type]
                due_on=due,  # type: ignore[arg-type]
            ),
            _("阶段已添加。"),
        )
    elif op == "progress":
        ph = DeliveryPhase.objects.filter(project=p, pk=int_or_none(post.get("phase")) or 0).first()
        if ph is None:
            raise NotFound()
        attempt(
            request,
            lambda: delivery.phase_progress(
                actor=request.user, phase=ph, progress=post.get("progress")
            ),
            _("进度已更新。"),
        )
    elif op == "photos":
        attempt(
            request,
            lambda: delivery.photos_add(
                actor=request.user,
                project=p,
                kind=post.get("kind", ""),
                photos=request.FILES.getlist("photos"),
            ),
            _("照片已上传。"),
        )
    elif op == "feedback":
        attempt(
            request,
            lambda: delivery.feedback_submit(
                actor=request.user,
                project=p,
                rating=post.get("rating"),
                comment=post.get("comment", ""),
            ),
            _("感谢您的评价。"),
        )
    elif op == "evaluation":
        attempt(
            request,
            lambda: delivery.evaluation_record(
                actor=request.user,
                project=p,
                round=post.get("round", ""),
                score=post.get("score"),
                note=post.get("note", ""),
            ),
            _("评估已记录。"),
        )
    elif op in ("start", "accept"):
        attempt(
            request,
            lambda: services.micro_transition(actor=request.user, project=p, action=op),
            _("已完成：%(a)s。") % {"a": MICRO[op].label},
        )
    return redirect("projects:project_page", pk=pk)
