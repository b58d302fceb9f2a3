"""Topic pages: the hall, a topic through its five steps (buttons from
``states.TOPIC``), comments, review notes, objections, and topics from frequent requests.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core import idempotency
from linli.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from linli.core.web import date_or_none
from linli.core.web import run_service as _attempt
from linli.deliberation import insights as insights_mod
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    Objection,
    ReviewNote,
    Topic,
)
from linli.deliberation.permissions import (
    can_comment,
    can_manage,
    can_object,
    can_propose,
    can_review,
)
from linli.deliberation.states import TOPIC
from linli.deliberation.views._common import (
    STEPS,
    _ballot_url,
    _community,
    _dt,
)


@login_required
def hall(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    step = request.GET.get("step", "")
    topics = selectors.topic_list_for(viewer=request.user, step=step, community_id=community.pk)[
        :100
    ]
    held, total = selectors.convening_rate(community_id=community.pk)
    return render(
        request,
        "deliberation/hall.html",
        {
            "community": community,
            "communities": selectors.hall_communities_for(viewer=request.user),
            "topics": topics,
            "step": step,
            "steps": Topic.Step.choices,
            "can_propose": can_propose(request.user, community),
            "can_manage": can_manage(request.user, community),
            "upcoming": selectors.meeting_list_for(viewer=request.user, upcoming_only=True).filter(
                community=community
            )[:3],
            "convening": (held, total),
        },
    )


@login_required
def topic_new(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    if not can_propose(request.user, community):
        raise NotFound()
    manage = can_manage(request.user, community)
    error = ""
    if request.method == "POST":
        try:
            topic = services.topic_propose(
                actor=request.user,
                community=community,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                source=request.POST.get("source", "resident") if manage else "resident",
                source_ref=request.POST.get("source_ref", ""),
                idempotency_key=idempotency.from_request(request),
            )
        except RateLimited:
            raise  # the error page answers 429 with Retry-After
        except DomainError as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("议题已提交，社区将在受理后进入商议。"))
            return redirect("deliberation:topic", pk=topic.pk)
    return render(
        request,
        "deliberation/topic_new.html",
        {
            "community": community,
            "manage": manage,
            "sources": Topic.Source.choices,
            "error": error,
            "data": request.POST,
        },
    )


@login_required
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    user = request.user
    manage = can_manage(user, topic)
    record = selectors.topic_record(topic)
    step_index = STEPS.index(topic.step) if topic.step in STEPS else len(STEPS)  # type: ignore[arg-type]
    return render(
        request,
        "deliberation/topic_detail.html",
        {
            "t": topic,
            "steps": [(s, s.label, i < step_index, i == step_index) for i, s in enumerate(STEPS)],
            "comments": record.comments,
            "notes": record.review_notes,
            "objections": record.objections,
            "history": record.history,
            "actions": record.action_items,
            # The buttons: exactly the moves the service would accept now.
            "next": [(TOPIC[a].target, TOPIC[a]) for a in TOPIC.available(user, topic)],
            "flags": TOPIC.flags(user, topic),
            "can_comment": can_comment(user, topic),
            "can_review": can_review(user, topic),
            "can_object": can_object(user, topic),
            "manage": manage,
            "aspects": ReviewNote.Aspect.choices,
            "conclusions": ReviewNote.Conclusion.choices,
            "ballot_url": _ballot_url(topic),
            "evidence": record.evidence_request_ids,
            "now": timezone.localtime(),
        },
    )


@login_required
@require_POST
def topic_comment(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.topic_comment(
            actor=request.user,
            topic=topic,
            body=request.POST.get("body", ""),
            idempotency_key=idempotency.from_request(request),
        ),
        _("意见已发表。"),
    )
    return redirect(reverse("deliberation:topic", args=[pk]) + "#comments")


@login_required
@require_POST
def topic_review(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.review_note_add(
            actor=request.user,
            topic=topic,
            aspect=request.POST.get("aspect", ""),
            conclusion=request.POST.get("conclusion", ""),
            body=request.POST.get("body", ""),
        ),
        _("审议意见已记录。"),
    )
    return redirect("deliberation:topic", pk=pk)


@login_required
@require_POST
def topic_move(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.topic_transition(
            actor=request.user,
            topic=topic,
            to=request.POST.get("to", ""),
            reason=request.POST.get("reason", ""),
        ),
        _("议题已流转。"),
    )
    return redirect("deliberation:topic", pk=pk)


@login_required
@require_POST
def topic_vote(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    opens = _dt(request.POST.get("opens_at")) or timezone.now()
    closes = _dt(request.POST.get("closes_at"))

    def go() -> None:
        if closes is None:
            raise ValidationFailed(_("请填写表决截止时间。"))
        services.topic_open_vote(
            actor=request.user,
            topic=topic,
            opens_at=opens,
            closes_at=closes,
            eligibility=request.POST.get("eligibility", "council"),
            secret=request.POST.get("secret") == "1",
        )

    _attempt(request, go, _("表决已发起。"))
    return redirect("deliberation:topic", pk=pk)


@login_required
@require_POST
def topic_publicise(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.topic_publicise(
            actor=request.user, topic=topic, minutes=request.POST.get("minutes", "")
        ),
        _("结果已公示，异议期开始。"),
    )
    return redirect("deliberation:topic", pk=pk)


@login_required
@require_POST
def topic_object(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    _attempt(
        request,
        lambda: services.objection_file(
            actor=request.user, topic=topic, body=request.POST.get("body", "")
        ),
        _("异议已提交，社区将答复。"),
    )
    return redirect("deliberation:topic", pk=pk)


@login_required
@require_POST
def objection_answer(request: HttpRequest, pk: int) -> HttpResponse:
    obj = Objection.objects.select_related("topic").filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    selectors.topic_get_for(viewer=request.user, pk=obj.topic_id)
    _attempt(
        request,
        lambda: services.objection_answer(
            actor=request.user, objection=obj, response=request.POST.get("response", "")
        ),
        _("已答复。"),
    )
    return redirect("deliberation:topic", pk=obj.topic_id)


@login_required
@require_POST
def action_new(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get_for(viewer=request.user, pk=pk)
    deadline = date_or_none(request.POST.get("deadline"))

    def go() -> None:
        if deadline is None:
            raise ValidationFailed(_("请填写完成期限。"))
        services.action_item_create(
            actor=request.user,
            topic=topic,
            title=request.POST.get("title", ""),
            owner_name=request.POST.get("owner_name", ""),
            deadline=deadline,
        )

    _attempt(request, go, _("落实事项已创建。"))
    return redirect("deliberation:topic", pk=pk)


@login_required
def insights(request: HttpRequest) -> HttpResponse:
    """高频诉求: clusters of similar recent requests that could become topics."""
    community = _community(request)
    if not can_manage(request.user, community):
        raise NotFound()
    return render(
        request,
        "deliberation/insights.html",
        {
            "community": community,
            "communities": selectors.hall_communities_for(viewer=request.user),
            "clusters": insights_mod.request_clusters(
                viewer=request.user, community=community, meaning=True
            ),
            "window": insights_mod.WINDOW_DAYS,
            "min_reports": insights_mod.MIN_REPORTS,
        },
    )


@login_required
@require_POST
def insight_propose(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    created: list[Topic] = []

    def go() -> None:
        created.append(
            insights_mod.topic_from_cluster(
                actor=request.user, community=community, key=request.POST.get("key", "")
            )
        )

    if _attempt(request, go, _("已根据高频诉求生成议题（提议阶段），请完善后受理。")):
        return redirect("deliberation:topic", pk=created[0].pk)
    return redirect(reverse("deliberation:insights") + f"?community={community.pk}")
