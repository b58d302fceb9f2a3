"""Meetings: 7-day materials rule, 3-day notice on online AND offline channels,
recurring 周三议事日, attendance and quorum ("not convened")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from linli.core.errors import InvalidTransition, ValidationFailed
from linli.core.models import AuditEvent, CalendarDay
from linli.deliberation.models import Meeting
from linli.deliberation.services import (
    AttendanceEntry,
    agenda_add,
    deliberator_certify,
    deliberator_enrol,
    deliberator_record_activity,
    meeting_conclude,
    meeting_issue_notice,
    meeting_publish_materials,
    meeting_record_attendance,
    meeting_schedule,
    meeting_series_create,
    meeting_series_generate,
    skill_assess,
    topic_accept,
    topic_propose,
)
from linli.deliberation.tests.conftest import future
from linli.notices.models import Notice

pytestmark = pytest.mark.django_db


def schedule(cw, days, **kw):
    start = future(days)
    return meeting_schedule(
        actor=cw.w.user("secretary"),
        council=cw.council,
        title="居民议事会",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        location="社区议事厅",
        **kw,
    )


def test_notice_less_than_3_days_ahead_is_refused(cw):
    m = schedule(cw, 2.5)
    before = Notice.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        meeting_issue_notice(actor=cw.w.user("secretary"), meeting=m)
    assert "至少提前3天" in str(exc.value.message) and "2天" in str(exc.value.message)
    m.refresh_from_db()
    assert m.notice_id is None and Notice.objects.count() == before


def test_scheduled_notice_publish_time_is_what_counts(cw):
    m = schedule(cw, 5)
    with pytest.raises(ValidationFailed, match="至少提前3天"):
        meeting_issue_notice(actor=cw.w.user("secretary"), meeting=m, publish_at=future(2.5))
    n = meeting_issue_notice(actor=cw.w.user("secretary"), meeting=m, publish_at=future(1))
    assert n.kind == "meeting" and n.status == "published"
    assert not n.is_visible  # scheduled for tomorrow


def test_notice_needs_online_and_offline_channels(cw):
    m = schedule(cw, 10)
    sec = cw.w.user("secretary")
    with pytest.raises(ValidationFailed, match="线下"):
        meeting_issue_notice(actor=sec, meeting=m, channels=["web", "inapp"])
    with pytest.raises(ValidationFailed, match="线上"):
        meeting_issue_notice(actor=sec, meeting=m, channels=["poster"])
    n = meeting_issue_notice(actor=sec, meeting=m, channels=["web", "poster"])
    m.refresh_from_db()
    assert m.notice_id == n.pk and n.has_online_channel and n.has_offline_channel


def test_materials_and_agenda_at_least_7_days_ahead(cw):
    sec = cw.w.user("secretary")
    topic = topic_propose(
        actor=sec,
        community=cw.w.community,
        title="楼道堆物清理",
        description="楼道堆放杂物，存在消防隐患。",
        source="staff",
    )
    topic_accept(actor=sec, topic=topic)
    late = schedule(cw, 6)
    with pytest.raises(ValidationFailed, match="会前7天"):
        agenda_add(actor=sec, meeting=late, topic=topic)
    with pytest.raises(ValidationFailed, match="会前7天"):
        meeting_publish_materials(actor=sec, meeting=late, materials="方案")
    ok = schedule(cw, 8)
    agenda_add(actor=sec, meeting=ok, topic=topic)
    meeting_publish_materials(actor=sec, meeting=ok, materials="清理方案与时间表")
    ok.refresh_from_db()
    assert ok.materials_published_at is not None


def test_evening_weekend_and_online_meetings(cw):
    sec = cw.w.user("secretary")
    d = timezone.localdate() + timedelta(
        days=(5 - timezone.localdate().weekday()) % 7 + 7
    )  # a Saturday
    from datetime import datetime

    from linli.core.calendar import LOCAL_TZ

    start = datetime(d.year, d.month, d.day, 19, 30, tzinfo=LOCAL_TZ)
    with pytest.raises(ValidationFailed, match="会议链接"):
        meeting_schedule(
            actor=sec,
            council=cw.council,
            title="线上议事",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            mode="online",
        )
    m = meeting_schedule(
        actor=sec,
        council=cw.council,
        title="线上议事",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        mode="online",
        online_url="https://meeting.example.cn/123",
    )
    assert m.mode == "online"


def test_recurring_wednesday_meetings_skip_holidays_and_are_idempotent(cw):
    sec = cw.w.user("secretary")
    from datetime import time

    series = meeting_series_create(
        actor=sec,
        council=cw.council,
        title="周三议事日",
        weekday=2,
        start_time=time(19, 0),
        location="社区议事厅",
    )
    start = timezone.localdate() + timedelta(days=1)
    until = start + timedelta(days=55)
    wednesdays = [
        start + timedelta(days=i) for i in range(56) if (start + timedelta(days=i)).weekday() == 2
    ]
    CalendarDay.objects.create(date=wednesdays[1], kind="holiday", name="测试假日")
    made = meeting_series_generate(actor=sec, series=series, until=until)
    dates = [timezone.localtime(m.starts_at).date() for m in made]
    assert dates == [w for w in wednesdays if w != wednesdays[1]]
    assert all(timezone.localtime(m.starts_at).hour == 19 for m in made)
    again = meeting_series_generate(actor=sec, series=series, until=until)
    assert again == [] and Meeting.objects.filter(series=series).count() == len(dates)


def _past_meeting(cw):
    m = schedule(cw, 1)
    Meeting.objects.filter(pk=m.pk).update(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=1)
    )
    m.refresh_from_db()
    return m


def test_quorum_two_thirds_inclusive_and_not_convened(cw):
    sec = cw.w.user("secretary")
    m = _past_meeting(cw)
    # 7 members: 2/3 → need 5 (4.67). 4 present (incl. proxy) → not convened.
    entries = [
        AttendanceEntry(cw.members[0].pk, "in_person"),
        AttendanceEntry(cw.members[1].pk, "online"),
        AttendanceEntry(cw.members[2].pk, "proxy", "王小明"),
        AttendanceEntry(cw.members[3].pk, "in_person"),
        AttendanceEntry(cw.members[4].pk, "absent"),
    ]
    with pytest.raises(ValidationFailed, match="受托人"):
        meeting_record_attendance(
            actor=sec, meeting=m, entries=[AttendanceEntry(cw.members[2].pk, "proxy")]
        )
    meeting_record_attendance(actor=sec, meeting=m, entries=entries)
    meeting_conclude(actor=sec, meeting=m, minutes="")
    m.refresh_from_db()
    assert m.status == "not_convened" and (m.members_present, m.members_total) == (4, 7)
    with pytest.raises(InvalidTransition):
        meeting_conclude(actor=sec, meeting=m, minutes="再来一次")
    m2 = _past_meeting(cw)
    meeting_record_attendance(
        actor=sec, meeting=m2, entries=[AttendanceEntry(x.pk, "in_person") for x in cw.members[:5]]
    )
    with pytest.raises(ValidationFailed, match="纪要"):
        meeting_conclude(actor=sec, meeting=m2, minutes="")
    meeting_conclude(actor=sec, meeting=m2, minutes="讨论了楼道堆物清理。")
    m2.refresh_from_db()
    assert m2.status == "held"
    assert AuditEvent.objects.filter(action="deliberation.meeting_conclude").count() == 2


def test_certification_needs_training_and_two_practice_meetings(cw):
    sec = cw.w.user("secretary")
    d = deliberator_enrol(actor=sec, resident=cw.residents[3])
    deliberator_record_activity(actor=sec, deliberator=d, kind="training", on=timezone.localdate())
    m = _past_meeting(cw)
    meeting_record_attendance(
        actor=sec, meeting=m, entries=[AttendanceEntry(x.pk, "in_person") for x in cw.members]
    )
    meeting_conclude(actor=sec, meeting=m, minutes="纪要")
    deliberator_record_activity(
        actor=sec, deliberator=d, kind="practice", on=timezone.localdate(), meeting=m
    )
    with pytest.raises(ValidationFailed) as exc:
        deliberator_certify(actor=sec, deliberator=d)
    assert "实践会议1次（需至少2次）" in str(exc.value.message)
    deliberator_record_activity(
        actor=sec, deliberator=d, kind="practice", on=timezone.localdate(), note="模拟议事"
    )
    deliberator_certify(actor=sec, deliberator=d)
    d.refresh_from_db()
    assert d.is_certified
    for bad in [0, 11]:
        with pytest.raises(ValidationFailed):
            skill_assess(actor=sec, deliberator=d, score=bad, on=date.today())
    skill_assess(actor=sec, deliberator=d, score=6, on=date.today() - timedelta(days=90))
    skill_assess(actor=sec, deliberator=d, score=8, on=date.today())
    assert list(d.assessments.values_list("score", flat=True)) == [6, 8]
    from linli.deliberation.selectors import speaking_order

    order = speaking_order(m)
    # The certified deliberator (seated 4th) speaks first.
    assert order[0].resident_id == cw.residents[3].pk
    assert [x.resident_id for x in order[1:]] == [
        r.pk for i, r in enumerate(cw.residents) if i != 3
    ]
