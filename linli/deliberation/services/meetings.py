"""Meetings: scheduling (also recurring 周三议事日), the agenda and materials under the
议题预告制, the notice, attendance, and concluding or cancelling (the table is
:data:`linli.deliberation.states.MEETING`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.calendar import LOCAL_TZ, WorkCalendar
from linli.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row
from linli.deliberation.models import (
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    Meeting,
    MeetingMode,
    MeetingSeries,
    Topic,
)
from linli.deliberation.permissions import can_manage
from linli.deliberation.services.councils import settings_for
from linli.deliberation.states import MEETING, MEETING_EVENTS, apply_scoped
from linli.notices.models import Channel, Notice
from linli.notices.services import notice_create, notice_publish

Step = Topic.Step


def _aware(dt: datetime) -> datetime:
    return dt if timezone.is_aware(dt) else dt.replace(tzinfo=LOCAL_TZ)


_HTTP_URL = URLValidator(schemes=["http", "https"])


def clean_online_url(raw: str) -> str:
    """The meeting link every resident is shown as a link: only an http(s) address
    (``javascript:``, ``data:`` and the like would run in the reader's browser)."""
    url = (raw or "").strip()
    if not url:
        return ""
    if len(url) > 200:
        raise ValidationFailed(_("会议链接太长（最多200个字符）。"), field="online_url")
    try:
        _HTTP_URL(url)
    except DjangoValidationError:
        raise ValidationFailed(
            _("会议链接只能是以 http:// 或 https:// 开头的网址。"), field="online_url"
        ) from None
    return url


def _lock_meeting(meeting: Meeting) -> Meeting:
    return lock_row(
        Meeting.objects.select_related("community"),
        meeting.pk,
        community_id=meeting.community_id,
    )


def meeting_schedule(
    *,
    actor: Actor,
    council: Council,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    mode: str = MeetingMode.IN_PERSON,
    location: str = "",
    online_url: str = "",
) -> Meeting:
    """Evening, weekend and online meetings are all allowed (居民下班后也能参加)."""
    if not can_manage(actor, council):
        raise PermissionDenied()
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if not title.strip():
        raise ValidationFailed(_("请填写会议名称。"), field="title")
    if ends_at <= starts_at:
        raise ValidationFailed(_("结束时间必须晚于开始时间。"), field="ends_at")
    if starts_at <= timezone.now():
        raise ValidationFailed(_("会议时间必须在将来。"), field="starts_at")
    if mode not in MeetingMode.values:
        raise ValidationFailed(_("未知的会议形式。"), field="mode")
    if mode in (MeetingMode.ONLINE, MeetingMode.HYBRID) and not online_url.strip():
        raise ValidationFailed(_("线上会议必须提供会议链接。"), field="online_url")
    online_url = clean_online_url(online_url)
    if mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID) and not location.strip():
        raise ValidationFailed(_("线下会议必须填写地点。"), field="location")
    with governed_write(
        actor=actor,
        action="deliberation.meeting_schedule",
        community_id=council.community_id,
        payload={"title": title.strip(), "starts_at": starts_at.isoformat(), "mode": mode},
    ) as w:
        meeting = Meeting.objects.create(
            community_id=council.community_id,
            council=council,
            title=title.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            mode=mode,
            location=location.strip(),
            online_url=online_url.strip(),
        )
        w.target = meeting
    return meeting


def meeting_series_create(
    *,
    actor: Actor,
    council: Council,
    title: str,
    weekday: int,
    start_time: time,
    duration_minutes: int = 90,
    mode: str = MeetingMode.IN_PERSON,
    location: str = "",
    online_url: str = "",
) -> MeetingSeries:
    if not can_manage(actor, council):
        raise PermissionDenied()
    if not 0 <= weekday <= 6:
        raise ValidationFailed(_("星期必须在周一到周日之间。"), field="weekday")
    if not 15 <= duration_minutes <= 480:
        raise ValidationFailed(_("会议时长应在15分钟到8小时之间。"), field="duration_minutes")
    if mode not in MeetingMode.values:
        raise ValidationFailed(_("未知的会议形式。"), field="mode")
    online_url = clean_online_url(online_url)
    with governed_write(
        actor=actor, action="deliberation.series_create", community_id=council.community_id
    ) as w:
        series = MeetingSeries.objects.create(
            community_id=council.community_id,
            council=council,
            title=title.strip() or _("周三议事日"),
            weekday=weekday,
            start_time=start_time,
            duration_minutes=duration_minutes,
            mode=mode,
            location=location.strip(),
            online_url=online_url.strip(),
        )
        w.target = series
        w.payload = {"weekday": weekday, "start": start_time.isoformat(), "title": series.title}
    return series


def meeting_series_generate(
    *, actor: Actor, series: MeetingSeries, until: date, start: date | None = None
) -> list[Meeting]:
    """Create the occurrences of a recurring meeting up to ``until`` (inclusive).

    Idempotent (a unique constraint on series + start time); public holidays are
    skipped because nobody comes to a 周三议事日 on 国庆节.
    """
    if not can_manage(actor, series.council):
        raise PermissionDenied()
    first = start or timezone.localdate() + timedelta(days=1)
    if until < first:
        raise ValidationFailed(_("截止日期必须晚于开始日期。"), field="until")
    if (until - first).days > 366:
        raise ValidationFailed(_("一次最多生成一年的例会。"), field="until")
    cal = WorkCalendar()
    d = first + timedelta(days=(series.weekday - first.weekday()) % 7)
    wanted: list[datetime] = []
    while d <= until:
        if d not in cal.holidays:
            wanted.append(datetime.combine(d, series.start_time, tzinfo=LOCAL_TZ))
        d += timedelta(days=7)
    now = timezone.now()
    with governed_write(
        actor=actor,
        action="deliberation.series_generate",
        community_id=series.community_id,
        target=series,
    ) as w:
        existing = set(
            Meeting.objects.filter(
                community_id=series.community_id, series=series, starts_at__in=wanted
            ).values_list("starts_at", flat=True)
        )
        new = [
            Meeting(
                community_id=series.community_id,
                council_id=series.council_id,
                series=series,
                title=f"{series.title}（{s.astimezone(LOCAL_TZ):%m月%d日}）",
                starts_at=s,
                ends_at=s + timedelta(minutes=series.duration_minutes),
                mode=series.mode,
                location=series.location,
                online_url=series.online_url,
            )
            for s in wanted
            if s not in existing and s > now
        ]
        Meeting.objects.bulk_create(new)
        w.payload = {"count": len(new), "until": until.isoformat()}
    return list(
        Meeting.objects.filter(
            community_id=series.community_id,
            series=series,
            starts_at__in=[m.starts_at for m in new],
        ).order_by("starts_at")
    )


def _days_left(meeting: Meeting, at: datetime) -> str:
    delta = meeting.starts_at - at
    hours = max(0, int(delta.total_seconds() // 3600))
    return _("%(d)s天%(h)s小时") % {"d": hours // 24, "h": hours % 24}


def agenda_add(*, actor: Actor, meeting: Meeting, topic: Topic) -> AgendaItem:
    """议题预告制: the agenda is fixed at least ``materials_days`` before the meeting."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    if topic.community_id != meeting.community_id:
        raise ValidationFailed(_("只能把本社区的议题列入议程。"), field="topic")
    if topic.step not in (Step.DISCUSSING, Step.REVIEWING, Step.RESOLVING):
        raise ValidationFailed(_("只有处于商议、审议或决议阶段的议题可以上会。"), field="topic")
    cfg = settings_for(meeting.community_id)
    now = timezone.now()
    if meeting.status != Meeting.Status.SCHEDULED:
        raise InvalidTransition(_("会议已结束或已取消，不能调整议程。"))
    if meeting.starts_at - now < timedelta(days=cfg.materials_days):
        raise ValidationFailed(
            _("议题预告制：议题须在会前%(n)s天确定并公布，距开会仅剩%(left)s，请列入下次会议。")
            % {"n": cfg.materials_days, "left": _days_left(meeting, now)},
            code="agenda_too_late",
        )
    with governed_write(
        actor=actor,
        action="deliberation.agenda_add",
        community_id=meeting.community_id,
        target=meeting,
    ) as w:
        # The meeting's lock serialises agenda changes, so the order numbers are unique.
        _lock_meeting(meeting)
        agenda = AgendaItem.objects.filter(community_id=meeting.community_id, meeting=meeting)
        if agenda.filter(topic=topic).exists():
            raise Conflict(_("该议题已在议程中。"))
        order = agenda.count() + 1
        item = AgendaItem.objects.create(
            community_id=meeting.community_id, meeting=meeting, topic=topic, order=order
        )
        w.payload = {"topic": topic.pk, "order": order}
    return item


def meeting_publish_materials(*, actor: Actor, meeting: Meeting, materials: str) -> Meeting:
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    materials = within(materials, field="materials", limit=10000, label=_("材料内容"))
    if not materials:
        raise ValidationFailed(_("请填写会议材料。"), field="materials")
    cfg = settings_for(meeting.community_id)
    now = timezone.now()
    if meeting.starts_at - now < timedelta(days=cfg.materials_days):
        raise ValidationFailed(
            _("议题预告制：会议材料须在会前%(n)s天公布，距开会仅剩%(left)s。")
            % {"n": cfg.materials_days, "left": _days_left(meeting, now)},
            code="materials_too_late",
        )
    with governed_write(
        actor=actor,
        action="deliberation.materials_publish",
        community_id=meeting.community_id,
        payload={"length": len(materials)},
    ) as w:
        locked = _lock_meeting(meeting)
        if not AgendaItem.objects.filter(community_id=locked.community_id, meeting=locked).exists():
            raise ValidationFailed(_("请先确定议程，再公布材料。"))
        locked.materials = materials
        locked.materials_published_at = now
        locked.save(update_fields=["materials", "materials_published_at", "updated_at"])
        w.target = locked
    meeting.materials = locked.materials
    meeting.materials_published_at = locked.materials_published_at
    meeting.updated_at = locked.updated_at
    return meeting


def meeting_issue_notice(
    *,
    actor: Actor,
    meeting: Meeting,
    channels: Iterable[str] = (Channel.WEB, Channel.INAPP, Channel.POSTER),
    publish_at: datetime | None = None,
    extra: str = "",
) -> Notice:
    """The meeting notice: at least ``notice_days`` ahead, online AND offline (the A4
    poster for the notice boards is the offline channel). It is an ordinary notice to
    the whole community, since residents may attend as observers."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    chosen = list(dict.fromkeys(channels))
    from linli.notices.models import OFFLINE_CHANNELS, ONLINE_CHANNELS

    if not set(chosen) & ONLINE_CHANNELS or not set(chosen) & OFFLINE_CHANNELS:
        raise ValidationFailed(
            _("会议通知必须同时通过线上（网页/站内/短信/微信）和线下（公告栏张贴）渠道发布。"),
            field="channels",
        )
    cfg = settings_for(meeting.community_id)
    when = _aware(publish_at) if publish_at else timezone.now()
    if meeting.starts_at - when < timedelta(days=cfg.notice_days):
        raise ValidationFailed(
            _("会议通知须至少提前%(n)s天发布：发布时间距开会仅%(left)s。请改期或另定会议时间。")
            % {"n": cfg.notice_days, "left": _days_left(meeting, when)},
            code="notice_too_late",
            field="publish_at",
        )
    agenda = [
        a.topic.title
        for a in AgendaItem.objects.filter(
            community_id=meeting.community_id, meeting=meeting
        ).select_related("topic")
    ]
    local = timezone.localtime(meeting.starts_at)
    place = meeting.location or ""
    if meeting.mode != MeetingMode.IN_PERSON:
        place = f"{place} {_('线上链接')}：{meeting.online_url}".strip()
    body_lines = [
        _("时间：%(t)s") % {"t": local.strftime("%Y年%m月%d日 %H:%M")},
        _("地点：%(p)s") % {"p": place},
        _("形式：%(m)s") % {"m": meeting.get_mode_display()},
        _("议程：") + ("；".join(f"{i + 1}. {t}" for i, t in enumerate(agenda)) or _("待定")),
    ]
    if extra.strip():
        body_lines.append(extra.strip())
    with governed_write(
        actor=actor, action="deliberation.meeting_notice", community_id=meeting.community_id
    ) as w:
        locked = _lock_meeting(meeting)
        if locked.notice_id is not None:
            raise Conflict(_("该会议已发布通知。"))
        if locked.status != Meeting.Status.SCHEDULED:
            raise InvalidTransition(_("会议已结束或已取消。"))
        notice = notice_create(
            actor=actor,
            community=locked.community,
            title=_("会议通知：%(t)s") % {"t": locked.title},
            summary=_("%(t)s在%(p)s召开，欢迎居民旁听、提前留言。")
            % {"t": local.strftime("%m月%d日 %H:%M"), "p": place or _("线上")},
            body="\n".join(body_lines),
            channels=chosen,
            kind=Notice.Kind.MEETING,
            source_type="deliberation.meeting",
            source_id=str(locked.pk),
        )
        notice_publish(actor=actor, notice=notice, publish_at=when)
        locked.notice = notice
        locked.save(update_fields=["notice", "updated_at"])
        w.target = locked
        w.payload = {"notice": notice.pk, "publish_at": when.isoformat(), "channels": chosen}
    meeting.notice = notice
    meeting.updated_at = locked.updated_at
    return notice


@dataclass(frozen=True)
class AttendanceEntry:
    member_id: int
    mode: str
    proxy_name: str = ""


def meeting_record_attendance(
    *, actor: Actor, meeting: Meeting, entries: list[AttendanceEntry]
) -> list[Attendance]:
    """Sign-in sheet: in person, online, by written proxy (委托), or absent."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    if meeting.status != Meeting.Status.SCHEDULED:
        raise InvalidTransition(_("会议已结束或已取消，不能再登记出席。"))
    members = {
        m.pk: m
        for m in CouncilMember.objects.filter(
            community_id=meeting.community_id, council_id=meeting.council_id, is_active=True
        )
    }
    for e in entries:
        if e.member_id not in members:
            raise ValidationFailed(_("出席名单中有非本会现任成员。"))
        if e.mode not in Attendance.Mode.values:
            raise ValidationFailed(_("未知的出席方式。"))
        if e.mode == Attendance.Mode.PROXY and not e.proxy_name.strip():
            raise ValidationFailed(
                _("委托出席必须写明受托人：%(n)s") % {"n": members[e.member_id].display_name}
            )
    with governed_write(
        actor=actor,
        action="deliberation.attendance",
        community_id=meeting.community_id,
        target=meeting,
        payload={"entries": [[e.member_id, e.mode, e.proxy_name] for e in entries]},
    ):
        out = []
        for e in entries:
            row, _created = Attendance.objects.update_or_create(
                community_id=meeting.community_id,
                meeting=meeting,
                member_id=e.member_id,
                defaults={"mode": e.mode, "proxy_name": e.proxy_name.strip()},
            )
            out.append(row)
    return out


def meeting_conclude(*, actor: Actor, meeting: Meeting, minutes: str = "") -> Meeting:
    """Close the meeting: held if present members reach the quorum (exact fraction,
    inclusive), otherwise recorded as not convened (feeds 议事会召开成功率).

    Proxy attendance counts as present: the member's written mandate is how they take
    part when they cannot come (as in most 议事规则). The quorum is counted under the
    meeting's lock, and decides which of the table's two endings applies.
    """
    minutes = within(minutes, field="minutes", limit=10000, label=_("会议纪要"))
    MEETING.check(actor, meeting, "hold")  # refuse cheaply before taking the lock
    cfg = settings_for(meeting.community_id)
    with transaction.atomic():
        locked = _lock_meeting(meeting)
        total = CouncilMember.objects.filter(
            community_id=locked.community_id, council_id=locked.council_id, is_active=True
        ).count()
        present = (
            Attendance.objects.filter(
                community_id=locked.community_id, meeting=locked, member__is_active=True
            )
            .exclude(mode=Attendance.Mode.ABSENT)
            .count()
        )
        quorate = total > 0 and present * cfg.quorum_denominator >= total * cfg.quorum_numerator
        if quorate and not minutes.strip():
            raise ValidationFailed(_("会议已达法定人数，请填写会议纪要。"), field="minutes")
        action = "hold" if quorate else "fail"

        def record(row: Meeting, w: Write) -> None:
            w.action = MEETING_EVENTS[action]
            row.minutes = minutes
            row.members_total = total
            row.members_present = present
            row.concluded_at = timezone.now()
            w.payload.update(
                status=row.status,
                present=present,
                total=total,
                quorum=f"{cfg.quorum_numerator}/{cfg.quorum_denominator}",
            )

        MEETING.apply(actor=actor, obj=locked, action=action, effects=record, locked=True)
    for f in ("status", "minutes", "members_total", "members_present", "concluded_at"):
        setattr(meeting, f, getattr(locked, f))
    meeting.updated_at = locked.updated_at
    return meeting


def meeting_cancel(*, actor: Actor, meeting: Meeting, reason: str) -> Meeting:
    def named(row: Meeting, w: Write) -> None:
        w.action = "deliberation.meeting_cancel"

    row = apply_scoped(
        MEETING, actor=actor, obj=meeting, action="cancel", reason=reason.strip(), effects=named
    )
    meeting.status = row.status
    meeting.updated_at = row.updated_at
    return meeting
