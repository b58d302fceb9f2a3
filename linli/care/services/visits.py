"""Home visits, recorded on the phone in under a minute, and the one-tap hand-over of
a need found on the visit to the request desk (§1) or the time bank (§4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.care.models import CHECKLIST_KEYS, CareSubject, Visit, VisitChannel, VisitKind
from linli.care.permissions import acting_user, can_record_visit, grid_worker_of, manages_care
from linli.care.services.roster import refresh_due
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row

ratelimit.LIMITS.setdefault("care.visit", {"user": ratelimit.Limit(per_minute=20, per_day=400)})
ratelimit.LIMITS.setdefault("care.handover", {"user": ratelimit.Limit(per_minute=10, per_day=200)})

PHOTO_MAX_BYTES = 8 * 1024 * 1024


def visit_record(
    *,
    actor: Actor,
    subject: CareSubject,
    present: bool,
    checklist: list[str] | None = None,
    needs: str = "",
    note: str = "",
    kind: str = VisitKind.HOME,
    channel: str = VisitChannel.SELF,
    visited_at: datetime | None = None,
    photo: Any = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Visit:
    """Record a visit. The resident's own grid worker records it themself (channel
    ``self``); community workers and the secretary may record it for the grid worker
    (代办: channel phone / paper / wechat, the grid worker is named as visitor). A grid
    worker of another grid is refused. ``visited_at`` defaults to now; it may be up to
    7 days back (a paper form typed in later), never in the future."""
    if not can_record_visit(actor, subject):
        raise PermissionDenied(_("该居民不在您负责的网格内，不能登记走访。"))
    user = acting_user(actor)
    now = now or timezone.now()
    own = bool(grid_worker_of(actor, subject))
    if channel not in VisitChannel.values:
        raise ValidationFailed(_("未知的录入方式。"), field="channel")
    if not own and channel == VisitChannel.SELF:
        raise ValidationFailed(
            _("代为录入时请选择信息来源（电话、纸质记录或微信）。"), field="channel"
        )
    if kind not in VisitKind.values:
        raise ValidationFailed(_("未知的走访方式。"), field="kind")
    when = visited_at or now
    if when > now + timedelta(minutes=5):
        raise ValidationFailed(_("走访时间不能晚于现在。"), field="visited_at")
    if when < now - timedelta(days=7):
        raise ValidationFailed(_("只能补录7天内的走访。"), field="visited_at")
    items = sorted(set(checklist or []))
    if any(i not in CHECKLIST_KEYS for i in items):
        raise ValidationFailed(_("未知的检查项。"), field="checklist")
    if not present:
        items = []  # nobody seen: nothing was checked
    needs = within(needs, field="needs", limit=300, label=_("发现的需求"))
    note = within(note, field="note", limit=300, label=_("备注"))
    if photo is not None and getattr(photo, "size", 0) > PHOTO_MAX_BYTES:
        raise ValidationFailed(_("照片不能超过 8 MB。"), field="photo")
    key = idempotency.clean(idempotency_key)
    ratelimit.check("care.visit", user=actor)
    with governed_write(
        actor=actor, action="care.visit_recorded", community_id=subject.community_id
    ) as w:
        visit = Visit(
            community_id=subject.community_id,
            subject=subject,
            kind=kind,
            visited_at=when,
            visitor=user if own else subject.worker,
            recorded_by=user,
            channel=channel,
            present=bool(present),
            checklist=items,
            needs=needs,
            note=note,
            idempotency_key=key,
        )
        if photo is not None:
            visit.photo.save(getattr(photo, "name", "visit.jpg") or "visit.jpg", photo, save=False)
        if key:
            prior = idempotency.replayed(
                w, visit, key=key, owned=lambda v: v.recorded_by_id == getattr(actor, "pk", None)
            )
            if prior is not None:
                return prior
        else:
            visit.save(force_insert=True)
        refresh_due(subject, now=now)
        w.target = visit
        w.payload = {
            "subject": subject.pk,
            "present": visit.present,
            "kind": kind,
            "channel": channel,
            "for": subject.worker_id if not own else None,
            "needs": bool(needs),
        }
    return visit


def _locked_visit(actor: Actor, visit: Visit) -> Visit:
    row = lock_row(
        Visit.objects.select_related("subject__resident__household__building", "community"),
        visit.pk,
        community_id=visit.community_id,
    )
    if not can_record_visit(actor, row.subject):
        raise NotFound()
    if not row.needs:
        raise ValidationFailed(_("这次走访没有记录需求。"), field="needs")
    if row.request_id or row.activity_id:
        raise Conflict(_("这条需求已经转办过了。"))
    return row


def visit_to_request(*, actor: Actor, visit: Visit, category_code: str = "li-elderly") -> Visit:
    """One tap: the need found becomes a request (诉求, channel 走访/上门) for the
    resident, routed like any other."""
    from linli.requests.models import Category, Channel
    from linli.requests.services import request_submit

    if not can_record_visit(actor, visit.subject):
        raise NotFound()
    category = Category.objects.filter(code=category_code, is_active=True).first()
    if category is None:
        raise ValidationFailed(_("诉求类别不可用，请联系社区管理员。"), field="category")
    ratelimit.check("care.handover", user=actor)
    with governed_write(
        actor=actor, action="care.need_to_request", community_id=visit.community_id
    ) as w:
        row = _locked_visit(actor, visit)
        resident = row.subject.resident
        desc = _("走访发现：%(needs)s") % {"needs": row.needs}
        req = request_submit(
            actor=actor,
            category=category,
            description=desc if len(desc) >= 5 else desc + "（走访）",
            building=resident.household.building,
            channel=Channel.VISIT,
            community=row.community,
            resident=resident,
            idempotency_key=f"care-visit-{row.pk}",
        )
        row.request = req
        row.save(update_fields=["request", "updated_at"])
        w.target = row
        w.payload = {"request": req.pk}
    visit.request = req
    return row


def visit_to_timebank(
    *, actor: Actor, visit: Visit, starts_at: datetime | None = None, minutes: int = 60
) -> Visit:
    """One tap: the need found becomes a time-bank service — a one-place 助老陪伴
    activity at the resident's home that pays the volunteer in time-bank hours
    (linli.volunteers; the community must have the time-bank earning rule on).
    Organising activities is for community workers and the secretary."""
    from linli.ledger.models import EarnKind
    from linli.volunteers import services as volunteers
    from linli.volunteers.models import ActivityKind

    if not can_record_visit(actor, visit.subject):
        raise NotFound()
    if not manages_care(actor, visit):
        raise PermissionDenied(_("时间银行服务由社区工作者发起；网格员可先转为诉求。"))
    if not 15 <= minutes <= 480:
        raise ValidationFailed(_("服务时长应在 15 分钟到 8 小时之间。"), field="minutes")
    local = timezone.localtime(timezone.now())
    start = starts_at or (local + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    ratelimit.check("care.handover", user=actor)
    with governed_write(
        actor=actor, action="care.need_to_timebank", community_id=visit.community_id
    ) as w:
        row = _locked_visit(actor, visit)
        resident = row.subject.resident
        activity = volunteers.activity_create(
            actor=actor,
            community=row.community,
            kind=ActivityKind.ELDERLY,
            title=(_("上门服务：%(needs)s") % {"needs": row.needs})[:100],
            location=str(resident.household)[:100],
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            capacity=1,
            description=_("关爱走访发现的需求，服务对象：%(b)s")
            % {"b": resident.household.building.name},
            earn_kind=EarnKind.TIMEBANK_SERVICE,
        )
        row.activity = activity
        row.save(update_fields=["activity", "updated_at"])
        w.target = row
        w.payload = {"activity": activity.pk}
    visit.activity = activity
    return row


__all__ = ["visit_record", "visit_to_request", "visit_to_timebank"]
