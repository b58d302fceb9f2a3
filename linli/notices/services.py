"""Every write to notices: create, publish, withdraw, read receipts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import ratelimit
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.notify import Message, send_on_commit
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row
from linli.notices.models import PUSH_CHANNELS, Channel, Notice, NoticeDelivery, NoticeRead
from linli.notices.permissions import can_publish_in, can_view_notice
from linli.notices.states import NOTICE

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
    actor: Actor,
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
    ratelimit.check("notices.create", user=actor)
    with governed_write(actor=actor, action="notices.create", community_id=community.pk) as w:
        notice = Notice.objects.create(
            community=community,
            kind=kind,
            title=title,
            body=body,
            summary=summary,
            audience=audience,
            audience_resident_ids=resident_ids,
            channels=chosen,
            created_by_id=cast(int, getattr(actor, "pk", None)),
            source_type=source_type,
            source_id=source_id,
        )
        if buildings:
            notice.buildings.set(buildings)
        w.target = notice
        w.payload.update(title=title, audience=audience, channels=chosen, kind=kind)
    return notice


def notice_publish(*, actor: Actor, notice: Notice, publish_at: datetime | None = None) -> Notice:
    """Publish now or at ``publish_at`` (never backdated: the 3-day meeting notice rule
    depends on the publish time being true). SMS/WeChat go out after commit."""
    NOTICE.check(actor, notice, "publish")
    now = timezone.now()
    when = publish_at or now
    if when < now - BACKDATE_TOLERANCE:
        raise ValidationFailed(_("发布时间不能早于当前时间。"), field="publish_at")

    def publish(row: Notice, w: Write) -> None:
        row.publish_at = when
        row.published_by_id = getattr(actor, "pk", None)
        w.payload.update(publish_at=when.isoformat(), channels=row.channels)
        if when <= now:
            # Due now: push in this transaction. A scheduled notice is pushed at its time
            # by send_due_notices (the scheduler), not when staff press publish.
            for channel in _push_channels(row):
                _deliver(row, channel)

    row = NOTICE.apply(actor=actor, obj=notice, action="publish", effects=publish)
    _sync(notice, row)
    return notice


def _sync(notice: Notice, row: Notice) -> None:
    """Copy what a transition wrote onto the caller's object (no re-read)."""
    notice.status = row.status
    notice.publish_at = row.publish_at
    notice.published_by_id = row.published_by_id
    notice.updated_at = row.updated_at


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
    # The unique (community, notice, channel) key is the sent marker: losing it to a
    # concurrent sender inserts nothing (no savepoint needed).
    if not insert_or_skip(
        NoticeDelivery(
            community_id=notice.community_id,
            notice=notice,
            channel=channel,
            sent_at=timezone.now(),
            recipients=len(phones),
        )
    ):
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
            locked = lock_row(Notice.objects.select_related("community"), pk)
            # Withdrawn between the scan and the lock: nothing goes out.
            if locked.status != Notice.Status.PUBLISHED:
                continue
            if _deliver(locked, channel):
                sent += 1
                recipients += NoticeDelivery.objects.get(
                    community_id=locked.community_id, notice_id=locked.pk, channel=channel
                ).recipients
    return DueResult(checked=len(todo), sent=sent, recipients=recipients)


def notice_withdraw(*, actor: Actor, notice: Notice, reason: str) -> Notice:
    row = NOTICE.apply(
        actor=actor,
        obj=notice,
        action="withdraw",
        reason=within(reason, field="reason", limit=200, label=_("撤回原因")),
    )
    _sync(notice, row)
    return notice


def notice_mark_read(*, actor: Actor, notice: Notice) -> NoticeRead:
    """Record a read receipt (idempotent: a second read keeps the first time).

    One ``INSERT … ON CONFLICT DO NOTHING`` on the (community, notice, user) key; only
    a repeated read looks the first receipt up. Not written to the audit log: reading is
    not a governance act, and a busy notice would otherwise flood it.
    """
    if not can_view_notice(actor, notice):
        raise NotFound()
    user_id = cast(int, getattr(actor, "pk", None))
    read = NoticeRead(
        community_id=notice.community_id,
        notice=notice,
        user_id=user_id,
        resident_id=scope_of(actor).resident_id,
        read_at=timezone.now(),
    )
    if not insert_or_skip(read):
        # Read before (or a concurrent first read won the key): that receipt counts.
        return NoticeRead.objects.get(
            community_id=notice.community_id, notice_id=notice.pk, user_id=user_id
        )
    return read
