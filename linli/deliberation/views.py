"""议事厅 pages. Thin: parse the form, call one service or selector, render or redirect.
A refused action comes back as a message on the page it was sent from (nothing changed).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core.calendar import LOCAL_TZ
from linli.core.errors import DomainError, NotFound, ValidationFailed
from linli.core.web import date_or_none, datetime_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.deliberation import insights as insights_mod
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    ActionItem,
    Attendance,
    Council,
    CouncilMember,
    Deliberator,
    Meeting,
    MeetingMode,
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
    can_supervise,
)
from linli.notices.models import Channel

STEPS = [
    Topic.Step.PROPOSED,
    Topic.Step.DISCUSSING,
    Topic.Step.REVIEWING,
    Topic.Step.RESOLVING,
    Topic.Step.PUBLICISED,
]


def _community(request: HttpRequest) -> OrgUnit:
    allowed = list(selectors.hall_communities_for(viewer=request.user))
    if not allowed:
        raise NotFound()
    wanted = request.GET.get("community") or request.POST.get("community")
    for c in allowed:
        if wanted and str(c.pk) == wanted:
            return c
    own = scope_of(request.user).community_id
    return next((c for c in allowed if c.pk == own), allowed[0])


def _dt(raw: str | None) -> datetime | None:
    if not raw:
        return None
    parsed = datetime_or_none(raw)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=LOCAL_TZ)


def _ballot_url(topic: Topic) -> str:
    if topic.ballot_id is None:
        return ""
    for name in ("voting:ballot_detail", "voting:detail", "voting:ballot"):
        try:
            return reverse(name, args=[topic.ballot_id])
        except NoReverseMatch:
            continue
    return ""


# --------------------------------------------------------------------------- topics


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
            )
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
    step_index = STEPS.index(topic.step) if topic.step in STEPS else len(STEPS)  # type: ignore[arg-type]
    return render(
        request,
        "deliberation/topic_detail.html",
        {
            "t": topic,
            "steps": [(s, s.label, i < step_index, i == step_index) for i, s in enumerate(STEPS)],
            "comments": topic.comments.select_related("author"),
            "notes": topic.review_notes.select_related("author"),
            "objections": topic.objections.all(),
            "history": topic.transitions.select_related("actor"),
            "actions": topic.action_items.all(),
            "next": services.allowed_next(topic.step),
            "can_comment": can_comment(user, topic),
            "can_review": can_review(user, topic),
            "can_object": can_object(user, topic),
            "manage": manage,
            "aspects": ReviewNote.Aspect.choices,
            "conclusions": ReviewNote.Conclusion.choices,
            "ballot_url": _ballot_url(topic),
            "evidence": list(topic.evidence.values_list("request_id", flat=True)),
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
            actor=request.user, topic=topic, body=request.POST.get("body", "")
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


# --------------------------------------------------------------------------- meetings


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    meetings = selectors.meeting_list_for(viewer=request.user).filter(community=community)
    now = timezone.now()
    return render(
        request,
        "deliberation/meetings.html",
        {
            "community": community,
            "upcoming": meetings.filter(starts_at__gte=now)[:20],
            "past": meetings.filter(starts_at__lt=now).order_by("-starts_at")[:20],
            "manage": can_manage(request.user, community),
        },
    )


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    m = selectors.meeting_get_for(viewer=request.user, pk=pk)
    manage = can_manage(request.user, m)
    attendance = {a.member_id: a for a in m.attendance.all()}
    order = selectors.speaking_order(m)
    candidates = (
        Topic.objects.filter(
            community_id=m.community_id,
            step__in=[Topic.Step.DISCUSSING, Topic.Step.REVIEWING, Topic.Step.RESOLVING],
        ).exclude(agenda_items__meeting=m)
        if manage
        else Topic.objects.none()
    )
    return render(
        request,
        "deliberation/meeting_detail.html",
        {
            "m": m,
            "agenda": m.agenda.select_related("topic"),
            "order": order,
            "rows": [(mem, attendance.get(mem.pk)) for mem in order],
            "modes": Attendance.Mode.choices,
            "manage": manage,
            "candidates": candidates,
            "channels": Channel.choices,
            "is_evening": timezone.localtime(m.starts_at).hour >= 18,
            "is_weekend": timezone.localtime(m.starts_at).weekday() >= 5,
        },
    )


def _meeting_for_post(request: HttpRequest, pk: int) -> Meeting:
    return selectors.meeting_get_for(viewer=request.user, pk=pk)


@login_required
@require_POST
def meeting_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    m = _meeting_for_post(request, pk)
    topic = Topic.objects.filter(
        pk=_int(request.POST.get("topic")) or 0, community_id=m.community_id
    ).first()

    def go() -> None:
        if topic is None:
            raise ValidationFailed(_("请选择议题。"))
        services.agenda_add(actor=request.user, meeting=m, topic=topic)

    _attempt(request, go, _("已列入议程。"))
    return redirect("deliberation:meeting", pk=pk)


@login_required
@require_POST
def meeting_materials(request: HttpRequest, pk: int) -> HttpResponse:
    m = _meeting_for_post(request, pk)
    _attempt(
        request,
        lambda: services.meeting_publish_materials(
            actor=request.user, meeting=m, materials=request.POST.get("materials", "")
        ),
        _("会议材料已公布。"),
    )
    return redirect("deliberation:meeting", pk=pk)


@login_required
@require_POST
def meeting_notice(request: HttpRequest, pk: int) -> HttpResponse:
    m = _meeting_for_post(request, pk)
    _attempt(
        request,
        lambda: services.meeting_issue_notice(
            actor=request.user,
            meeting=m,
            channels=request.POST.getlist("channels"),
            publish_at=_dt(request.POST.get("publish_at")),
        ),
        _("会议通知已发布，请打印张贴版贴到各楼栋公告栏。"),
    )
    return redirect("deliberation:meeting", pk=pk)


@login_required
@require_POST
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    m = _meeting_for_post(request, pk)
    entries = []
    for mem in CouncilMember.objects.filter(council_id=m.council_id, is_active=True):
        mode = request.POST.get(f"mode_{mem.pk}", "")
        if mode:
            entries.append(
                services.AttendanceEntry(mem.pk, mode, request.POST.get(f"proxy_{mem.pk}", ""))
            )
    _attempt(
        request,
        lambda: services.meeting_record_attendance(actor=request.user, meeting=m, entries=entries),
        _("出席情况已登记。"),
    )
    return redirect("deliberation:meeting", pk=pk)


@login_required
@require_POST
def meeting_conclude(request: HttpRequest, pk: int) -> HttpResponse:
    m = _meeting_for_post(request, pk)
    _attempt(
        request,
        lambda: services.meeting_conclude(
            actor=request.user, meeting=m, minutes=request.POST.get("minutes", "")
        ),
        _("会议已结束并记录。"),
    )
    return redirect("deliberation:meeting", pk=pk)


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    if not can_manage(request.user, community):
        raise NotFound()
    council = Council.objects.filter(community=community, kind=Council.Kind.COUNCIL).first()
    if request.method == "POST" and council is not None:
        p = request.POST
        if p.get("recurring") == "1":

            def go() -> None:
                start = p.get("start_time", "19:00")
                hh, mm = (int(x) for x in start.split(":")[:2])
                series = services.meeting_series_create(
                    actor=request.user,
                    council=council,
                    title=p.get("title", ""),
                    weekday=_int(p.get("weekday")) or 0,
                    start_time=time(hh, mm),
                    duration_minutes=_int(p.get("duration")) or 90,
                    mode=p.get("mode", MeetingMode.IN_PERSON),
                    location=p.get("location", ""),
                    online_url=p.get("online_url", ""),
                )
                until = date_or_none(p.get("until"))
                if until is None:
                    raise ValidationFailed(_("请填写生成截止日期。"))
                services.meeting_series_generate(actor=request.user, series=series, until=until)

            if _attempt(request, go, _("例会已创建并生成各次会议。")):
                return redirect(reverse("deliberation:meetings") + f"?community={community.pk}")
        else:
            starts = _dt(p.get("starts_at"))
            ends = _dt(p.get("ends_at"))

            def go_one() -> None:
                if starts is None or ends is None:
                    raise ValidationFailed(_("请填写开始和结束时间。"))
                services.meeting_schedule(
                    actor=request.user,
                    council=council,
                    title=p.get("title", ""),
                    starts_at=starts,
                    ends_at=ends,
                    mode=p.get("mode", MeetingMode.IN_PERSON),
                    location=p.get("location", ""),
                    online_url=p.get("online_url", ""),
                )

            if _attempt(request, go_one, _("会议已安排。")):
                return redirect(reverse("deliberation:meetings") + f"?community={community.pk}")
    return render(
        request,
        "deliberation/meeting_new.html",
        {
            "community": community,
            "council": council,
            "modes": MeetingMode.choices,
            "weekdays": list(enumerate(["周一", "周二", "周三", "周四", "周五", "周六", "周日"])),
            "data": request.POST,
        },
    )


# --------------------------------------------------------------------------- council


@login_required
def council_page(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    manage = can_manage(request.user, community)
    return render(
        request,
        "deliberation/council.html",
        {
            "community": community,
            "views": selectors.councils_for(viewer=request.user, community=community),
            "manage": manage,
            "settings": services.settings_for(community),
            "year": timezone.localdate().year,
        },
    )


def _resident_in(community: OrgUnit, raw: str | None) -> Resident:
    r = Resident.objects.filter(pk=_int(raw) or 0, community=community).first()
    if r is None:
        raise ValidationFailed(_("找不到该居民（请填写本社区居民编号）。"))
    return r


@login_required
@require_POST
def council_add(request: HttpRequest, pk: int) -> HttpResponse:
    council = Council.objects.filter(pk=pk).select_related("community").first()
    if council is None or not can_manage(request.user, council):
        raise NotFound()
    p = request.POST

    def go() -> None:
        if p.get("member_type", "resident") == "resident":
            spec = services.MemberSpec(resident=_resident_in(council.community, p.get("resident")))
        else:
            spec = services.MemberSpec(
                name=p.get("name", ""), member_type=p.get("member_type", "unit")
            )
        services.council_member_add(actor=request.user, council=council, spec=spec)

    _attempt(request, go, _("成员已加入。"))
    return redirect(reverse("deliberation:council") + f"?community={council.community_id}")


@login_required
@require_POST
def council_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = CouncilMember.objects.filter(pk=pk).select_related("council__community").first()
    if member is None or not can_manage(request.user, member.council):
        raise NotFound()
    _attempt(
        request,
        lambda: services.council_member_remove(
            actor=request.user, member=member, reason=request.POST.get("reason", "")
        ),
        _("成员已离任。"),
    )
    return redirect(reverse("deliberation:council") + f"?community={member.council.community_id}")


# --------------------------------------------------------------------------- deliberators


@login_required
def deliberators(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    return render(
        request,
        "deliberation/deliberators.html",
        {
            "community": community,
            "rows": selectors.deliberators_for(viewer=request.user, community=community),
            "manage": can_manage(request.user, community),
            "today": timezone.localdate(),
            "required": services.settings_for(community).practice_meetings_required,
        },
    )


@login_required
@require_POST
def deliberator_action(request: HttpRequest, pk: int) -> HttpResponse:
    d = Deliberator.objects.filter(pk=pk).select_related("community").first()
    if d is None or not can_manage(request.user, d.community):
        raise NotFound()
    p = request.POST
    what = p.get("what")
    on = date_or_none(p.get("on")) or timezone.localdate()

    def go() -> None:
        if what in ("training", "practice"):
            services.deliberator_record_activity(
                actor=request.user, deliberator=d, kind=what, on=on, note=p.get("note", "")
            )
        elif what == "certify":
            services.deliberator_certify(actor=request.user, deliberator=d)
        elif what == "assess":
            score = _int(p.get("score"))
            if score is None:
                raise ValidationFailed(_("请填写1–10的评分。"))
            services.skill_assess(
                actor=request.user, deliberator=d, score=score, on=on, note=p.get("note", "")
            )
        else:
            raise ValidationFailed(_("未知操作。"))

    _attempt(request, go, _("已记录。"))
    return redirect(reverse("deliberation:deliberators") + f"?community={d.community_id}")


@login_required
@require_POST
def deliberator_enrol(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    _attempt(
        request,
        lambda: services.deliberator_enrol(
            actor=request.user, resident=_resident_in(community, request.POST.get("resident"))
        ),
        _("已加入议事员培养名单。"),
    )
    return redirect(reverse("deliberation:deliberators") + f"?community={community.pk}")


# --------------------------------------------------------------------------- action items


@login_required
def actions(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    items = list(selectors.action_items_for(viewer=request.user, community=community))
    today = timezone.localdate()
    return render(
        request,
        "deliberation/actions.html",
        {
            "community": community,
            "items": [
                (i, i.status != ActionItem.Status.DONE and i.deadline < today) for i in items
            ],
            "reviews": selectors.supervision_reviews_for(viewer=request.user, community=community)[
                :12
            ],
            "manage": can_manage(request.user, community),
            "supervise": can_supervise(request.user, community),
            "statuses": ActionItem.Status.choices,
            "this_month": today.replace(day=1),
        },
    )


@login_required
@require_POST
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    item = ActionItem.objects.filter(pk=pk).select_related("community").first()
    if item is None:
        raise NotFound()
    selectors.action_items_for(viewer=request.user, community=item.community)
    _attempt(
        request,
        lambda: services.action_item_update(
            actor=request.user,
            item=item,
            status=request.POST.get("status", ""),
            progress_percent=_int(request.POST.get("progress")) or 0,
            note=request.POST.get("note", ""),
        ),
        _("进展已更新。"),
    )
    return redirect(reverse("deliberation:actions") + f"?community={item.community_id}")


@login_required
@require_POST
def supervision_review(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    month = date_or_none((request.POST.get("month", "") or "") + "-01") or date.today().replace(
        day=1
    )
    _attempt(
        request,
        lambda: services.supervision_review_record(
            actor=request.user,
            community=community,
            month=month,
            summary=request.POST.get("summary", ""),
        ),
        _("月度监督评议已发布。"),
    )
    return redirect(reverse("deliberation:actions") + f"?community={community.pk}")


# --------------------------------------------------------------------------- insights


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
            "clusters": insights_mod.request_clusters(viewer=request.user, community=community),
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
