"""Participatory-budgeting pages: programmes, proposals, expert review, the phone ballot
(no JavaScript: the running total is worked out by the server on 计算合计), paper
ballots, the public results with both methods and the pabulib download."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.communities.models import Building, Resident
from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from linli.core.web import datetime_or_none, int_or_none
from linli.core.web import run_service as attempt
from linli.projects import selectors, services
from linli.projects.models import Criterion, PBProject, Programme, Reviewer
from linli.projects.permissions import manages, staff_views
from linli.projects.states import PROGRAMME

Ph = Programme.Phase


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    from linli.projects.views import _communities

    progs = list(selectors.programme_list_for(viewer=request.user)[:100])
    can_create = any(manages(request.user, c) for c in _communities(request))
    return render(request, "projects/pb_list.html", {"programmes": progs, "can_create": can_create})


def _dt(raw: Any) -> datetime | None:
    d = datetime_or_none(raw)
    if d is not None and timezone.is_naive(d):
        d = timezone.make_aware(d)
    return d


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    from linli.projects.views import _communities

    communities = [c for c in _communities(request) if manages(request.user, c)]
    if not communities:
        raise NotFound()
    post = request.POST if request.method == "POST" else None
    if post is not None:
        community = next(
            (c for c in communities if c.pk == int_or_none(post.get("community"))), communities[0]
        )
        holder: dict[str, Programme] = {}

        def go() -> None:
            dates = [_dt(post.get(f)) for f in ("d1", "d2", "d3", "d4")]
            if any(d is None for d in dates):
                raise ValidationFailed(_("请填写各阶段日期。"), field="dates")
            holder["p"] = services.programme_create(
                actor=request.user,
                community=community,
                title=post.get("title", ""),
                description=post.get("description", ""),
                budget_yuan=post.get("budget", ""),
                ballot_kind=post.get("ballot_kind", ""),
                max_choices=int_or_none(post.get("max_choices")),
                unit=post.get("unit", ""),
                method=post.get("method", ""),
                criteria=list(
                    zip(post.getlist("crit_name"), post.getlist("crit_weight"), strict=False)
                ),
                dates=services.Dates(*dates),  # type: ignore[arg-type]
                idempotency_key=idempotency.from_request(request),
            )

        if attempt(request, go, _("计划已创建。")):
            return redirect("projects:pb_detail", pk=holder["p"].pk)
    return render(
        request,
        "projects/pb_new.html",
        {
            "communities": communities,
            "post": post or {},
            "kinds": Programme.BallotKind.choices,
            "units": Programme.Unit.choices,
            "methods": Programme.Method.choices,
            "crit_rows": range(4),
        },
    )


@login_required
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    is_reviewer = Reviewer.objects.filter(programme=prog, user_id=request.user.pk or 0).exists()
    show_review = prog.phase in selectors.PUBLIC_PHASES or staff_views(request.user, prog)
    return render(
        request,
        "projects/pb_detail.html",
        {
            "prog": prog,
            "criteria": list(prog.criteria.all()),
            "reviewers": list(prog.reviewers.all()),
            "projects": list(prog.projects.select_related("building").order_by("pk")),
            "actions": [(a, PROGRAMME[a]) for a in PROGRAMME.available(request.user, prog)],
            "is_reviewer": is_reviewer,
            "board": selectors.review_board(prog) if show_review else [],
            "my_ballot": selectors.my_ballot(viewer=request.user, prog=prog),
            "ballots": services.ballot_count(prog) if staff_views(request.user, prog) else None,
            "staff": manages(request.user, prog),
        },
    )


@login_required
@require_POST
def programme_act(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    action = request.POST.get("action", "")
    label = PROGRAMME[action].label if action in PROGRAMME else action
    attempt(
        request,
        lambda: services.programme_advance(actor=request.user, programme=prog, action=action),
        _("已完成：%(a)s。") % {"a": label},
    )
    return redirect("projects:pb_detail", pk=pk)


@login_required
def project_new(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    post = request.POST if request.method == "POST" else None
    if post is not None and attempt(
        request,
        lambda: services.pb_project_submit(
            actor=request.user,
            programme=prog,
            title=post.get("title", ""),
            description=post.get("description", ""),
            cost_yuan=post.get("cost", ""),
            building_id=int_or_none(post.get("building")),
            idempotency_key=idempotency.from_request(request),
        ),
        _("提案已提交，评审后公布入围名单。"),
    ):
        return redirect("projects:pb_detail", pk=pk)
    return render(
        request,
        "projects/pb_project_new.html",
        {
            "prog": prog,
            "post": post or {},
            "buildings": Building.objects.filter(community_id=prog.community_id).order_by("name"),
        },
    )


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    reviewer = Reviewer.objects.filter(programme=prog, user_id=request.user.pk or 0).first()
    if reviewer is None:
        raise NotFound()
    crits = list(Criterion.objects.filter(programme=prog))
    if request.method == "POST":
        project = PBProject.objects.filter(
            programme=prog, pk=int_or_none(request.POST.get("project")) or 0
        ).first()
        if project is None:
            raise NotFound()
        if request.POST.get("op") == "conflict":
            attempt(
                request,
                lambda: services.conflict_declare(
                    actor=request.user, project=project, note=request.POST.get("note", "")
                ),
                _("已申报利益关系，您不参与该项目的评分。"),
            )
        else:
            attempt(
                request,
                lambda: services.score_submit(
                    actor=request.user,
                    project=project,
                    scores={c.pk: request.POST.get(f"score_{c.pk}") for c in crits},
                    comment=request.POST.get("comment", ""),
                ),
                _("评分已保存。"),
            )
        return redirect("projects:pb_review", pk=pk)
    mine = {(s.project_id, s.criterion_id): s.value for s in reviewer.scores.all()}
    conflicted = set(reviewer.conflicts.values_list("project_id", flat=True))
    projects = [
        {
            "p": p,
            "values": [(c, mine.get((p.pk, c.pk))) for c in crits],
            "conflict": p.pk in conflicted,
            "done": any((p.pk, c.pk) in mine for c in crits),
        }
        for p in prog.projects.order_by("pk")
    ]
    return render(
        request,
        "projects/pb_review.html",
        {"prog": prog, "projects": projects, "scale": range(1, 11), "reviewer": reviewer},
    )


def _ballot_state(prog: Programme, chosen: set[int]) -> dict[str, Any]:
    projects = selectors.ballot_projects(prog)
    total = sum(p.cost_fen for p in projects if p.pk in chosen)
    n = sum(1 for p in projects if p.pk in chosen)
    over = (prog.ballot_kind == Programme.BallotKind.KNAPSACK and total > prog.budget_fen) or (
        prog.ballot_kind == Programme.BallotKind.APPROVAL and n > (prog.max_choices or 0)
    )
    return {
        "projects": projects,
        "chosen": chosen,
        "total": total,
        "left": prog.budget_fen - total,
        "count": n,
        "over": over,
    }


@login_required
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    mine = selectors.my_ballot(viewer=request.user, prog=prog)
    chosen = {i for i in (int_or_none(x) for x in request.POST.getlist("project")) if i}
    if request.method == "POST" and request.POST.get("op") == "cast" and mine is None:
        try:
            services.ballot_cast(actor=request.user, programme=prog, project_ids=sorted(chosen))
        except RateLimited:
            raise
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("投票成功，感谢参与！"))
            return redirect("projects:pb_detail", pk=pk)
    ctx = _ballot_state(prog, chosen)
    ctx.update(
        prog=prog,
        mine=mine,
        open=prog.phase == Ph.VOTING and prog.voting_opens <= timezone.now() < prog.voting_closes,
    )
    return render(request, "projects/pb_vote.html", ctx)


@login_required
def paper(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    if not manages(request.user, prog):
        raise NotFound()
    chosen = {i for i in (int_or_none(x) for x in request.POST.getlist("project")) if i}
    if request.method == "POST" and request.POST.get("op") == "cast":
        second = authenticate(
            request,
            username=request.POST.get("second_username", ""),
            password=request.POST.get("second_password", ""),
        )
        resident = Resident.objects.filter(
            community_id=prog.community_id, phone=request.POST.get("resident_phone", "").strip()
        ).first()

        def go() -> None:
            if second is None:
                raise ValidationFailed(_("第二位录入人账号或密码不正确。"))
            if resident is None:
                raise ValidationFailed(_("本社区没有这个手机号的居民。"))
            services.paper_ballot_record(
                actor=request.user,
                second_staff=second,
                programme=prog,
                resident=resident,
                project_ids=sorted(chosen),
            )

        if attempt(request, go, _("纸质票已录入。")):
            return redirect("projects:pb_paper", pk=pk)
    ctx = _ballot_state(prog, chosen)
    ctx.update(prog=prog, post=request.POST)
    return render(request, "projects/pb_paper.html", ctx)


def results(request: HttpRequest, pk: int) -> HttpResponse:
    """Public: the computed outcome of both methods, the explanation per project, the
    comparison, overrides with their reasons and the published review."""
    prog = selectors.programme_public(pk=pk)
    ctx: dict[str, Any] = {"prog": prog, "board": selectors.review_board(prog)}
    ctx["criteria"] = list(prog.criteria.all())
    if prog.phase != Ph.VOTING:
        ctx.update(selectors.results(prog))
    else:
        ctx["shortlist"] = selectors.ballot_projects(prog)
    ctx["staff"] = request.user.is_authenticated and manages(request.user, prog)
    return render(request, "projects/pb_results.html", ctx)


@login_required
@require_POST
def override(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_get_for(viewer=request.user, pk=pk)
    project = PBProject.objects.filter(
        programme=prog, pk=int_or_none(request.POST.get("project")) or 0
    ).first()
    if project is None:
        raise NotFound()
    attempt(
        request,
        lambda: services.override_result(
            actor=request.user,
            programme=prog,
            project=project,
            funded=request.POST.get("funded") == "1",
            reason=request.POST.get("reason", ""),
        ),
        _("结果已调整，理由已公开。"),
    )
    return redirect("projects:pb_results", pk=pk)


def export_pb(request: HttpRequest, pk: int) -> HttpResponse:
    prog = selectors.programme_public(pk=pk)
    try:
        text = services.pabulib_export(programme=prog)
    except DomainError as exc:
        raise NotFound() from exc
    resp = HttpResponse(text, content_type="text/plain; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="linli_{prog.pk}.pb"'
    return resp
