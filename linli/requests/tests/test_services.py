"""Deadlines on the working calendar, the sweep, duplicates, bad input, metrics."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from linli.core.models import AuditEvent
from linli.core.notify import MemorySender
from linli.requests import services as svc
from linli.requests.models import DueState, RequestPhoto, ServiceRequest, Status
from linli.requests.selectors import find_duplicates, request_metrics
from linli.requests.tests.conftest import MONDAY, SH

pytestmark = pytest.mark.django_db


def _jpeg(size: tuple[int, int] = (40, 30), exif: bool = True) -> SimpleUploadedFile:
    img = Image.new("RGB", size, (200, 50, 50))
    buf = io.BytesIO()
    kw: dict[str, Any] = {}
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "PhoneMaker"  # Make
        ex[0x0110] = "SecretPhone 9"  # Model
        kw["exif"] = ex.tobytes()
    img.save(buf, format="JPEG", **kw)
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


# ------------------------------------------------------------------ deadlines


def test_deadlines_in_a_plain_week(submit: Any) -> None:
    req = submit("fac-light")  # 24 h response, 5 working days feedback
    assert req.response_due == MONDAY + timedelta(hours=24)
    assert req.feedback_due == datetime(2026, 3, 9, 9, 0, tzinfo=SH)
    assert req.next_due_kind == "response" and req.next_due_at == req.response_due
    assert req.due_state == DueState.OK


def test_working_days_skip_qingming_holiday(holidays: None, submit: Any) -> None:
    # Friday 3 April 2026; 4–6 April is the Qingming break (Sat–Mon).
    req = submit("env-clutter", now=datetime(2026, 4, 3, 9, 0, tzinfo=SH))  # 7 working days
    assert req.feedback_due == datetime(2026, 4, 15, 9, 0, tzinfo=SH)
    # Response limits are clock hours: they run through the holiday.
    assert req.response_due == datetime(2026, 4, 4, 9, 0, tzinfo=SH)


def test_working_days_count_make_up_saturdays(holidays: None, submit: Any) -> None:
    # Saturday 14 Feb 2026 is a make-up working day; 15–23 Feb is Spring Festival;
    # Saturday 28 Feb is worked again.
    req = submit("fac-light", now=datetime(2026, 2, 14, 9, 0, tzinfo=SH))  # 5 working days
    assert req.feedback_due == datetime(2026, 2, 28, 9, 0, tzinfo=SH)


def test_weekend_report_counts_from_monday(submit: Any) -> None:
    req = submit("fac-light", now=datetime(2026, 3, 7, 15, 0, tzinfo=SH))  # Saturday
    # Counted from Monday 00:00; 5 working days later is the next Monday 00:00.
    assert req.feedback_due == datetime(2026, 3, 16, 0, 0, tzinfo=SH)


def test_complex_matter_gets_plan_deadline(world: Any, submit: Any) -> None:
    req = submit("ho-leak")
    req = svc.request_accept(
        actor=world.user("property"), request=req, is_complex=True, now=MONDAY + timedelta(hours=1)
    )
    assert req.plan_due == datetime(2026, 3, 5, 10, 0, tzinfo=SH)  # 3 working days
    assert req.next_due_kind == "plan"
    req = svc.request_plan(
        actor=world.user("property"),
        request=req,
        plan="周四安排防水施工",
        now=MONDAY + timedelta(hours=3),
    )
    assert req.next_due_kind == "feedback"


def test_whistle_gives_department_24h_and_48h(world: Any, submit: Any) -> None:
    req = submit("env-clutter")
    sec = world.user("secretary")
    req = svc.request_accept(actor=sec, request=req, now=MONDAY)
    req = svc.request_dispatch(
        actor=sec, request=req, target=f"org:{world.department.pk}", now=MONDAY + timedelta(hours=1)
    )
    assert req.is_whistle and req.owner_unit_id == world.community.pk
    assert req.whistle_response_due == MONDAY + timedelta(hours=25)
    assert req.whistle_onsite_due == MONDAY + timedelta(hours=49)
    dept = world.user("department")
    req = svc.request_start(actor=dept, request=req, now=MONDAY + timedelta(hours=5))
    assert req.whistle_response_due is None
    req = svc.request_onsite(actor=dept, request=req, now=MONDAY + timedelta(hours=20))
    assert req.onsite_at is not None and req.whistle_onsite_due is None
    # 首接负责制: the community accepted first and stays accountable.
    assert req.owner_unit_id == world.community.pk and req.assignee_org_id == world.department.pk


# ------------------------------------------------------------------ sweep


def test_sweep_marks_soon_overdue_and_escalates(world: Any, submit: Any, oncommit: Any) -> None:
    req = submit("fac-light")
    r = svc.sweep_deadlines(now=MONDAY + timedelta(hours=21))
    req.refresh_from_db()
    assert r.due_soon == 1 and req.due_state == DueState.SOON and req.escalation_level == 0

    MemorySender.outbox.clear()
    with oncommit(execute=True):
        r = svc.sweep_deadlines(now=MONDAY + timedelta(hours=25))
    req.refresh_from_db()
    assert req.due_state == DueState.OVERDUE and req.escalation_level == 1 and r.escalated == 1
    told = {m.to for m in MemorySender.outbox}
    assert {"secretary", "worker"} <= told and "street_officer" not in told

    r = svc.sweep_deadlines(now=MONDAY + timedelta(hours=30))  # not again within 24 h
    req.refresh_from_db()
    assert r.escalated == 0 and req.escalation_level == 1

    MemorySender.outbox.clear()
    with oncommit(execute=True):
        svc.sweep_deadlines(now=MONDAY + timedelta(hours=50))
    req.refresh_from_db()
    assert req.escalation_level == 2
    assert "street_officer" in {m.to for m in MemorySender.outbox}
    svc.sweep_deadlines(now=MONDAY + timedelta(hours=80))
    req.refresh_from_db()
    assert req.escalation_level == 2  # the street is the top
    assert req.events.filter(kind="escalated").count() == 2
    assert AuditEvent.objects.filter(action="requests.escalate").count() == 2


def test_accepting_turns_an_overdue_item_green(world: Any, submit: Any) -> None:
    req = submit("fac-light")
    svc.sweep_deadlines(now=MONDAY + timedelta(hours=25))
    req = svc.request_accept(
        actor=world.user("property"), request=req, now=MONDAY + timedelta(hours=26)
    )
    assert req.responded_on_time is False
    assert req.next_due_kind == "feedback" and req.due_state == DueState.OK


def test_sweep_closes_resolved_after_7_days(world: Any, submit: Any) -> None:
    req = submit()
    p = world.user("property")
    svc.request_accept(actor=p, request=req, now=MONDAY)
    svc.request_resolve(
        actor=p, request=req, resolution="已更换灯泡", now=MONDAY + timedelta(hours=3)
    )
    assert svc.sweep_deadlines(now=MONDAY + timedelta(days=6)).auto_closed == 0
    assert svc.sweep_deadlines(now=MONDAY + timedelta(days=7, hours=4)).auto_closed == 1
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.rating is None


# ------------------------------------------------------------------ duplicates


def test_duplicates_same_building_similar_text(world: Any, submit: Any) -> None:
    first = submit("fac-light", "1幢楼道灯坏了，晚上很黑")
    found = find_duplicates(
        community_id=world.community.pk,
        description="1幢楼道里的灯坏了",
        building_id=world.building.pk,
        now=MONDAY + timedelta(days=1),
    )
    assert [c.request.pk for c in found] == [first.pk]
    # Unrelated text, or too old, or closed: nothing.
    assert not find_duplicates(
        community_id=world.community.pk,
        description="小区门口有人占道摆摊卖菜",
        building_id=world.building.pk,
        now=MONDAY,
    )
    assert not find_duplicates(
        community_id=world.community.pk,
        description="1幢楼道里的灯坏了",
        building_id=world.building.pk,
        now=MONDAY + timedelta(days=15),
    )


def test_duplicates_by_distance(world: Any, submit: Any) -> None:
    first = submit(
        "fac-light", "路灯不亮了晚上很黑", building=None, lat="30.300200", lng="120.100100"
    )
    # ~30 m away, no building given: offered.
    near = find_duplicates(
        community_id=world.community.pk,
        description="这里路灯不亮，晚上很黑",
        lat=30.3004,
        lng=120.1001,
        now=MONDAY,
    )
    assert [c.request.pk for c in near] == [first.pk]
    assert near[0].distance_m is not None and near[0].distance_m < 100
    # ~150 m away: not offered.
    assert not find_duplicates(
        community_id=world.community.pk,
        description="这里路灯不亮，晚上很黑",
        lat=30.3015,
        lng=120.1010,
        now=MONDAY,
    )


def test_me_too_and_merge(world: Any, submit: Any) -> None:
    first = submit()
    svc.request_support(actor=world.user("neighbour"), request=first, now=MONDAY)
    with pytest.raises(Conflict):
        svc.request_support(actor=world.user("neighbour"), request=first, now=MONDAY)
    with pytest.raises(NotFound):
        svc.request_support(actor=world.user("stranger"), request=first, now=MONDAY)
    dup = submit("fac-light", "2幢楼道灯也坏了", user="neighbour", building=world.building2)
    svc.request_merge(actor=world.user("secretary"), request=dup, into=first, now=MONDAY)
    first.refresh_from_db()
    dup.refresh_from_db()
    assert dup.status == Status.MERGED and dup.merged_into_id == first.pk
    assert first.support_count == 1  # the neighbour already supported it: counted once


# ------------------------------------------------------------------ bad input


def _nothing_changed(before: tuple[int, int, int]) -> None:
    assert (
        ServiceRequest.objects.count(),
        AuditEvent.objects.count(),
        RequestPhoto.objects.count(),
    ) == before


def _counts() -> tuple[int, int, int]:
    return ServiceRequest.objects.count(), AuditEvent.objects.count(), RequestPhoto.objects.count()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"text": ""}, "至少 5 个字"),
        ({"text": "灯" * 10_000}, "不能超过 2000"),
        ({"building": None, "lat": "31.500000", "lng": "121.500000"}, "不在本社区"),
        ({"building": None}, "请选择楼栋"),
        (
            {"photos": [SimpleUploadedFile("a.jpg", b"not an image at all", "image/jpeg")]},
            "不是有效的图片",
        ),
        (
            {"photos": [SimpleUploadedFile("big.jpg", b"\xff" * (50 * 1024 * 1024), "image/jpeg")]},
            "8 MB",
        ),
    ],
)
def test_bad_submissions_change_nothing(submit: Any, kwargs: dict[str, Any], message: str) -> None:
    before = _counts()
    text = kwargs.pop("text", "1幢楼道灯坏了很久了")
    with pytest.raises(ValidationFailed) as exc:
        submit("fac-light", text, **kwargs)
    assert message in str(exc.value.message)
    _nothing_changed(before)


def test_unknown_or_parent_category(world: Any, cats: Any) -> None:
    before = _counts()
    for cat in (None, cats["facility"]):
        with pytest.raises(ValidationFailed):
            svc.request_submit(
                actor=world.user("resident"),
                category=cat,
                description="楼道灯坏了好几天",
                building=world.building,
            )
    _nothing_changed(before)


def test_building_of_another_community_refused(world: Any, submit: Any) -> None:
    with pytest.raises(ValidationFailed, match="不属于本社区"):
        submit(building=world.other_building)


def test_photo_exif_is_stripped(submit: Any) -> None:
    raw = _jpeg()
    assert b"SecretPhone" in raw.read()
    raw.seek(0)
    req = submit(photos=[raw])
    photo = req.photos.get()
    data = photo.image.read()
    assert b"SecretPhone" not in data and b"PhoneMaker" not in data
    assert Image.open(io.BytesIO(data)).format == "JPEG" and photo.width == 40


def test_rating_someone_elses_request(world: Any, submit: Any) -> None:
    req = submit()
    p = world.user("property")
    svc.request_accept(actor=p, request=req, now=MONDAY)
    svc.request_resolve(actor=p, request=req, resolution="已修复", now=MONDAY)
    before = _counts()
    with pytest.raises(PermissionDenied):
        svc.request_rate(actor=world.user("neighbour"), request=req, rating=1)
    with pytest.raises(NotFound):
        svc.request_rate(actor=world.user("stranger"), request=req, rating=1)
    with pytest.raises(ValidationFailed):
        svc.request_rate(actor=world.user("resident"), request=req, rating=9)
    _nothing_changed(before)
    req.refresh_from_db()
    assert req.rating is None and req.status == Status.RESOLVED


def test_urge_once_per_24h(world: Any, submit: Any) -> None:
    req = submit()
    svc.request_urge(actor=world.user("resident"), request=req, now=MONDAY + timedelta(hours=1))
    with pytest.raises(RateLimited, match="24 小时"):
        svc.request_urge(actor=world.user("resident"), request=req, now=MONDAY + timedelta(hours=2))
    svc.request_urge(actor=world.user("resident"), request=req, now=MONDAY + timedelta(hours=26))
    req.refresh_from_db()
    assert req.urge_count == 2


def test_complaint_only_when_overdue(world: Any, submit: Any, oncommit: Any) -> None:
    req = submit()
    with pytest.raises(Conflict, match="尚未超过"):
        svc.request_complain(
            actor=world.user("resident"),
            request=req,
            text="一直没人管",
            now=MONDAY + timedelta(hours=2),
        )
    MemorySender.outbox.clear()
    with oncommit(execute=True):
        req = svc.request_complain(
            actor=world.user("resident"),
            request=req,
            text="一直没人管",
            now=MONDAY + timedelta(hours=30),
        )
    assert req.complaint_count == 1
    assert "secretary" in {m.to for m in MemorySender.outbox}


def test_resident_cannot_move_closed_back_to_in_progress(world: Any, submit: Any) -> None:
    req = submit()
    p = world.user("property")
    svc.request_accept(actor=p, request=req, now=MONDAY)
    svc.request_resolve(actor=p, request=req, resolution="已修复", now=MONDAY)
    svc.request_rate(actor=world.user("resident"), request=req, rating=4, now=MONDAY)
    before = _counts()
    with pytest.raises(PermissionDenied, match="开始处理"):
        svc.request_start(actor=world.user("resident"), request=req)
    _nothing_changed(before)


def test_reopen_only_within_7_days(world: Any, submit: Any) -> None:
    req = submit()
    p = world.user("property")
    svc.request_accept(actor=p, request=req, now=MONDAY)
    svc.request_resolve(actor=p, request=req, resolution="已修复", now=MONDAY)
    with pytest.raises(Exception, match="7 天"):
        svc.request_reopen(
            actor=world.user("resident"),
            request=req,
            reason="又坏了",
            now=MONDAY + timedelta(days=8),
        )
    req = svc.request_reopen(
        actor=world.user("resident"), request=req, reason="又坏了", now=MONDAY + timedelta(days=2)
    )
    assert req.status == Status.REOPENED and req.reopen_count == 1
    assert req.response_due == MONDAY + timedelta(days=3)


def test_reject_needs_reason(world: Any, submit: Any) -> None:
    req = submit()
    with pytest.raises(ValidationFailed):
        svc.request_reject(actor=world.user("secretary"), request=req, reason=" ")
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED


def test_reroute_and_bulk_assign(world: Any, submit: Any) -> None:
    a = submit()
    b = submit("env-clutter", "1幢楼道堆满纸箱", now=MONDAY)
    svc.request_accept(actor=world.user("secretary"), request=b, now=MONDAY)
    with pytest.raises(PermissionDenied):
        svc.request_reroute(
            actor=world.user("property"),
            request=a,
            target=f"unit:{world.grid.pk}",
            reason="属网格事项",
        )
    with pytest.raises(ValidationFailed):  # a unit of another community
        svc.request_bulk_assign(
            actor=world.user("secretary"),
            request_ids=[a.pk, b.pk],
            target=f"unit:{world.other_grid.pk}",
            reason="调整",
        )
    assert ServiceRequest.objects.get(pk=b.pk).status == Status.ACCEPTED
    n = svc.request_bulk_assign(
        actor=world.user("secretary"),
        request_ids=[a.pk, b.pk],
        target=f"unit:{world.grid.pk}",
        reason="网格员统一处理",
    )
    assert n == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == Status.SUBMITTED and a.assignee_unit_id == world.grid.pk
    assert b.status == Status.DISPATCHED and b.assignee_unit_id == world.grid.pk


def test_staff_record_for_resident(world: Any, cats: Any) -> None:
    req = svc.request_submit(
        actor=world.user("worker"),
        category=cats["di-noise"],
        description="楼上夜里装修噪音很大",
        channel="hotline",
        community=world.community,
        resident=world.residents["resident"],
        building=world.building,
        now=MONDAY,
    )
    assert req.channel == "hotline" and req.reporter == world.user("resident")
    assert req.recorded_by == world.user("worker") and req.assignee_unit_id == world.grid.pk
    with pytest.raises(PermissionDenied):
        svc.request_submit(
            actor=world.user("other_secretary"),
            category=cats["di-noise"],
            description="噪音很大啊啊",
            channel="visit",
            community=world.community,
            building=world.building,
        )
    with pytest.raises(PermissionDenied):  # staff without a resident record use 代办
        svc.request_submit(
            actor=world.user("secretary"),
            category=cats["di-noise"],
            description="噪音很大啊啊",
            building=world.building,
        )


# ------------------------------------------------------------------ metrics


def test_metrics(world: Any, submit: Any) -> None:
    p = world.user("property")
    reqs = [submit(now=MONDAY + timedelta(minutes=i)) for i in range(4)]
    svc.request_accept(actor=p, request=reqs[0], now=MONDAY + timedelta(hours=1))
    svc.request_resolve(
        actor=p, request=reqs[0], resolution="修好了", now=MONDAY + timedelta(hours=10)
    )
    svc.request_rate(actor=world.user("resident"), request=reqs[0], rating=5)
    svc.request_accept(actor=p, request=reqs[1], now=MONDAY + timedelta(hours=30))  # late response
    svc.request_resolve(
        actor=p, request=reqs[1], resolution="修好了", now=MONDAY + timedelta(days=10)
    )  # late
    svc.request_rate(actor=world.user("resident"), request=reqs[1], rating=2)
    svc.request_reject(
        actor=world.user("secretary"),
        request=reqs[2],
        reason="重复反映",
        now=MONDAY + timedelta(hours=2),
    )
    m = request_metrics(
        viewer=world.user("secretary"),
        community=world.community,
        start=MONDAY - timedelta(days=1),
        end=MONDAY + timedelta(days=30),
    )
    assert m.total == 4 and m.responded == 2 and m.response_rate == 0.5
    assert m.resolved == 2 and m.resolution_rate == 0.5 and m.on_time_rate == 0.5
    assert m.satisfaction_mean == 3.5 and m.satisfaction_share_4_5 == 0.5
    assert m.p90_cycle_hours is not None and m.p90_cycle_hours > 200
    assert m.by_category == {"公用设施": 4} and m.by_channel == {"app": 4}
    with pytest.raises(NotFound):
        request_metrics(
            viewer=world.user("other_secretary"),
            community=world.community,
            start=MONDAY,
            end=MONDAY + timedelta(days=1),
        )


def test_overlong_staff_note_is_refused_not_cut(world: Any, submit: Any) -> None:
    """A 2 001-character note on accept/start is refused with the limit named; the
    request keeps its status and no timeline row or audit event is written."""
    req = submit()
    events_before = req.events.count()
    audits_before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        svc.request_accept(actor=world.user("grid_worker"), request=req, note="长" * 2001)
    assert "2000" in str(exc.value.message) and "2001" in str(exc.value.message)
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    assert req.events.count() == events_before
    assert AuditEvent.objects.count() == audits_before
    # At the limit it is kept whole.
    svc.request_accept(actor=world.user("grid_worker"), request=req, note="长" * 2000)
    assert req.events.order_by("-id").first().note == "长" * 2000
