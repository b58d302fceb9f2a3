"""Every write to notices: create, publish, withdraw, read receipts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import audit
from linli.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from linli.core.notify import Message, send_on_commit
from linli.notices.models import PUSH_CHANNELS, Channel, Notice, NoticeDelivery, NoticeRead
from linli.notices.permissions import can_manage_notice, can_publish_in, can_view_notice

# A little slack for the clock between the form being filled in and submitted.
BACKDATE_TOLERANCE = timedelta(minutes=5)
# How far back the scheduler still pushes a notice it missed (e.g. the worker was down).
DUE_LOOKBACK_DAYS = 3


def audience_residents(notice: Notice) -> QuerySet[Resident]:
    """The residents a notice is addressed to (the denominator of 知晓率)."""
    qs = Resident.objects.filter(community_id=notice.community_id, is_active=True)
    if notice.audience == Notice.Audience.BUILDINGS:
        return qs.filter(household__building__in=notice.buildings.all())
    if notice.audience == Notice.Audience.COUNCIL:
        return qs.filter(pk__in=notice.audience_resident_ids or [])
    return qs


def _clean_channels(channels: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(channels))
    bad = [c for c in chosen if c not in Channel.values]
    if bad:
        raise ValidationFailed(_("未知的发布渠道：%(c)s") % {"c": "、".join(bad)}, field="channels")
    if not chosen:
        raise ValidationFailed(_("请至少选择一个发布渠道。"), field="channels")
    return chosen


def notice_create(
    *,
    actor: Any,
    community: OrgUnit,
    title: str,
    body: str,
    summary: str,
    audience: str = Notice.Audience.COMMUNITY,
    channels: Iterable[str] = (Channel.WEB, Channel.INAPP),
    building_ids: Iterable[int] = (),
    audience_resident_ids: Iterable[int] = (),
    kind: str = Notice.Kind.GENERAL,
    source_type: str = "",
    source_id: str = "",
) -> Notice:
    """Create a draft notice. Precondition: the actor publishes for ``community``."""
    if not can_publish_in(actor, community):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以发布公告。"))
    title, body, summary = title.strip(), body.strip(), summary.strip()
    if not title or len(title) > 120:
        raise ValidationFailed(_("标题不能为空，且不超过120字。"), field="title")
    if not body:
        raise ValidationFailed(_("正文不能为空。"), field="body")
    if not summary or len(summary) > 300:
        raise ValidationFailed(
            _("请用几句大白话写一个通俗摘要（不超过300字），方便老人和忙碌的居民快速了解。"),
            field="summary",
        )
    if audience not in Notice.Audience.values:
        raise ValidationFailed(_("未知的发布范围。"), field="audience")
    if kind not in Notice.Kind.values:
        raise ValidationFailed(_("未知的公告类别。"), field="kind")
    chosen = _clean_channels(channels)
    buildings: list[Building] = []
    resident_ids: list[int] = []
    if audience == Notice.Audience.BUILDINGS:
        ids = set(building_ids)
        buildings = list(Building.objects.filter(pk__in=ids, community_id=community.pk))
        if not ids or len(buildings) != len(ids):
            raise ValidationFailed(_("请选择本社区的楼栋。"), field="buildings")
    if audience == Notice.Audience.COUNCIL:
        ids = set(audience_resident_ids)
        found = Resident.objects.filter(pk__in=ids, community_id=community.pk).count()
        if not ids or found != len(ids):
            raise ValidationFailed(_("议事会成员名单为空或包含外社区居民。"), field="audience")
        resident_ids = sorted(ids)
    with transaction.atomic():
        notice = Notice.objects.create(
            community=community,
            kind=kind,
            title=title,
            body=body,
            summary=summary,
            audience=audience,
            audience_resident_ids=resident_ids,
            channels=chosen,
            created_by=actor,
            source_type=source_type,
            source_id=source_id,
        )
        if buildings:
            notice.buildings.set(buildings)
        audit.record(
            actor=actor,
            action="notices.create",
            target=notice,
            community_id=community.pk,
            payload={"title": title, "audience": audience, "channels": chosen, "kind": kind},
        )
    return notice


def notice_publish(*, actor: Any, notice: Notice, publish_at: datetime | None = None) -> Notice:
    """Publish now or at ``publish_at`` (never backdated: the 3-day meeting notice rule
    depends on the publish time being true). SMS/WeChat go out after commit."""
    if not can_manage_notice(actor, notice):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以发布公告。"))
    now = timezone.now()
    when = publish_at or now
    if when < now - BACKDATE_TOLERANCE:
        raise ValidationFailed(_("发布时间不能早于当前时间。"), field="publish_at")
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.status != Notice.Status.DRAFT:
            raise InvalidTransition(_("该公告已发布或已撤回，不能再次发布。"))
        locked.status = Notice.Status.PUBLISHED
        locked.publish_at = when
        locked.published_by = actor
        locked.save(update_fields=["status", "publish_at", "published_by", "updated_at"])
        audit.record(
            actor=actor,
            action="notices.publish",
            target=locked,
            community_id=locked.community_id,
            payload={"publish_at": when.isoformat(), "channels": locked.channels},
        )
        if when <= now:
            # Due now: push in this transaction. A scheduled notice is pushed at its time
            # by send_due_notices (the scheduler), not when staff press publish.
            for channel in _push_channels(locked):
                _deliver(locked, channel)
    notice.refresh_from_db()
    return notice


def _push_channels(notice: Notice) -> list[str]:
    return [c for c in notice.channels if c in PUSH_CHANNELS]


def _deliver(notice: Notice, channel: str) -> bool:
    """Write the sent marker for (notice, channel) and queue its messages for after
    commit. Returns False (sending nothing) if the marker already exists.

    Precondition: inside transaction.atomic with ``notice`` locked (select_for_update),
    so the status read here is the one that commits.
    """
    phones = list(
        audience_residents(notice)
        .exclude(phone="")
        .order_by("pk")
        .values_list("phone", flat=True)
        .distinct()
    )
    try:
        # A savepoint: losing the unique constraint must not poison the outer transaction.
        with transaction.atomic():
            NoticeDelivery.objects.create(notice=notice, channel=channel, recipients=len(phones))
    except IntegrityError:
        return False
    text = f"【{notice.community.name}】{notice.title}：{notice.summary}"
    for phone in phones:
        send_on_commit(Message(channel=channel, to=phone, subject=notice.title, body=text))
    return True


@dataclass(frozen=True)
class DueResult:
    checked: int  # (notice, channel) pairs that were due and not yet sent
    sent: int  # of which this run sent (the rest were sent by a concurrent run)
    recipients: int


def send_due_notices(
    *, now: datetime | None = None, lookback_days: int = DUE_LOOKBACK_DAYS
) -> DueResult:
    """Push every published notice whose publish time has come and that has not been
    pushed yet on one of its SMS/WeChat channels (the scheduler; safe to rerun and to
    run concurrently: the NoticeDelivery unique constraint is the sent marker).

    Notices due more than ``lookback_days`` ago are not pushed any more: a text about a
    meeting that is long past is noise (they stay visible on the web as before).
    """
    now = now or timezone.now()
    candidates = (
        Notice.objects.filter(
            status=Notice.Status.PUBLISHED,
            publish_at__lte=now,
            publish_at__gt=now - timedelta(days=lookback_days),
        )
        .prefetch_related("deliveries")
        .only("pk", "channels")
        .order_by("publish_at", "pk")
    )
    todo: list[tuple[int, str]] = []
    for n in candidates:
        done = {d.channel for d in n.deliveries.all()}
        todo.extend((n.pk, c) for c in _push_channels(n) if c not in done)
    sent = recipients = 0
    for pk, channel in todo:
        with transaction.atomic():
            locked = Notice.objects.select_for_update().select_related("community").get(pk=pk)
            # Withdrawn between the scan and the lock: nothing goes out.
            if locked.status != Notice.Status.PUBLISHED:
                continue
            if _deliver(locked, channel):
                sent += 1
                recipients += locked.deliveries.get(channel=channel).recipients
    return DueResult(checked=len(todo), sent=sent, recipients=recipients)


def notice_withdraw(*, actor: Any, notice: Notice, reason: str) -> Notice:
    if not can_manage_notice(actor, notice):
        raise PermissionDenied()
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("撤回公告必须说明理由。"), field="reason")
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.status != Notice.Status.PUBLISHED:
            raise InvalidTransition(_("只有已发布的公告可以撤回。"))
        locked.status = Notice.Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="notices.withdraw",
            target=locked,
            community_id=locked.community_id,
            payload={"reason": reason},
        )
    notice.refresh_from_db()
    return notice


def notice_mark_read(*, actor: Any, notice: Notice) -> NoticeRead:
    """Record a read receipt (idempotent: a second read keeps the first time).

    Not written to the audit chain: reading is not a governance act, and a busy notice
    would otherwise flood the community's chain.
    """
    if not can_view_notice(actor, notice):
        raise NotFound()
    existing = NoticeRead.objects.filter(notice=notice, user=actor).first()
    if existing is not None:
        return existing
    scope = scope_of(actor)
    try:
        with transaction.atomic():
            return NoticeRead.objects.create(
                notice=notice, user=actor, resident_id=scope.resident_id
            )
    except IntegrityError:
        # A concurrent first read won the unique constraint; that receipt counts.
        return NoticeRead.objects.get(notice=notice, user=actor)
