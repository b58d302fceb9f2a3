"""Meeting pages: list, detail (buttons from ``states.MEETING``), agenda, materials,
notice, attendance, conclusion, and scheduling.
"""

from __future__ import annotations

from datetime import time

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.errors import NotFound, ValidationFailed
from linli.core.web import date_or_none
from linli.core.web import int_or_none as _int
from linli.core.web import run_service as _attempt
from linli.deliberation import selectors, services
from linli.deliberation.models import (
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    Meeting,
    MeetingMode,
    Topic,
)
from linli.deliberation.permissions import (
    can_manage,
)
from linli.deliberation.states import MEETING
from linli.deliberation.views._common import (
    _community,
    _dt,
)
from linli.notices.models import Channel


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
    attendance = {
        a.member_id: a for a in Attendance.objects.filter(community_id=m.community_id, meeting=m)
    }
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
            "agenda": AgendaItem.objects.filter(
                community_id=m.community_id, meeting=m
            ).select_related("topic"),
            "order": order,
            "rows": [(mem, attendance.get(mem.pk)) for mem in order],
            "modes": Attendance.Mode.choices,
            "manage": manage,
            # 结束会议 is offered when the table lets it end, either way.
            "can_conclude": MEETING.can(request.user, m, "hold")
            or MEETING.can(request.user, m, "fail"),
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
    for mem in CouncilMember.objects.filter(
        community_id=m.community_id, council_id=m.council_id, is_active=True
    ):
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
