"""Resolutions → action items (their statuses are the table
:data:`linli.deliberation.states.ACTION_ITEM`), supervised monthly."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.communities.models import OrgUnit
from linli.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.deliberation.models import ActionItem, ActionUpdate, SupervisionReview, Topic
from linli.deliberation.permissions import acting_user_id, can_manage, can_supervise
from linli.deliberation.states import (
    ACTION_EVENT,
    ACTION_FOR_STATUS,
    ACTION_ITEM,
    apply_scoped,
)

Step = Topic.Step


def action_item_create(
    *,
    actor: Actor,
    topic: Topic,
    title: str,
    owner_name: str,
    deadline: date,
    owner_user: User | None = None,
) -> ActionItem:
    if not can_manage(actor, topic):
        raise PermissionDenied()
    if topic.step not in (Step.PUBLICISED, Step.CLOSED) or not topic.result_passed:
        raise InvalidTransition(_("只有已通过并公示的决议才能分解为落实事项。"))
    if not title.strip() or not owner_name.strip():
        raise ValidationFailed(_("请填写事项和责任人。"))
    if deadline < timezone.localdate():
        raise ValidationFailed(_("完成期限不能早于今天。"), field="deadline")
    with governed_write(
        actor=actor,
        action="deliberation.action_create",
        community_id=topic.community_id,
        payload={
            "title": title.strip(),
            "owner": owner_name.strip(),
            "deadline": deadline.isoformat(),
        },
    ) as w:
        item = ActionItem.objects.create(
            community_id=topic.community_id,
            topic=topic,
            title=title.strip(),
            owner_name=owner_name.strip(),
            owner_user=owner_user,
            deadline=deadline,
        )
        w.target = item
    return item


def action_item_update(
    *, actor: Actor, item: ActionItem, status: str, progress_percent: int, note: str
) -> ActionItem:
    """A progress report: the new status is one of the table's moves (a finished item
    takes none), the report is kept as an :class:`ActionUpdate`."""
    if not ACTION_ITEM["advance"].who(actor, item):  # every move has the same "who"
        raise PermissionDenied()
    action = ACTION_FOR_STATUS.get(status)
    if action is None:
        raise ValidationFailed(_("未知的状态。"), field="status")
    if not 0 <= progress_percent <= 100:
        raise ValidationFailed(_("进度必须在0–100之间。"), field="progress_percent")
    if status == ActionItem.Status.DONE and progress_percent != 100:
        raise ValidationFailed(_("标记为已完成时进度必须是100%。"), field="progress_percent")
    if not note.strip():
        raise ValidationFailed(_("请写明本次进展。"), field="note")
    note = within(note, field="note", limit=300, label=_("本次进展"))
    if item.status == ActionItem.Status.DONE:
        raise InvalidTransition(_("该事项已完成。"))

    def report(row: ActionItem, w: Write) -> None:
        w.action = ACTION_EVENT
        row.progress_percent = progress_percent
        row.latest_note = note
        row.done_at = timezone.now() if status == ActionItem.Status.DONE else None
        ActionUpdate.objects.create(
            item=row,
            community_id=row.community_id,
            author_id=acting_user_id(actor),
            status=status,
            progress_percent=progress_percent,
            note=note,
        )
        w.payload.update(status=status, progress=progress_percent, note=note)

    row = apply_scoped(ACTION_ITEM, actor=actor, obj=item, action=action, effects=report)
    for f in ("status", "progress_percent", "latest_note", "done_at", "updated_at"):
        setattr(item, f, getattr(row, f))
    return item


def supervision_review_record(
    *, actor: Actor, community: OrgUnit, month: date, summary: str
) -> SupervisionReview:
    """The supervision group's monthly review; counts are taken at review time and
    published with it."""
    if not can_supervise(actor, community):
        raise PermissionDenied(_("只有居民监督小组成员或监督员可以提交月度评议。"))
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationFailed(_("不能评议将来的月份。"), field="month")
    if not summary.strip():
        raise ValidationFailed(_("请填写监督意见。"), field="summary")
    summary = within(summary, field="summary", limit=2000, label=_("监督意见"))
    today = timezone.localdate()
    items = ActionItem.objects.filter(community=community)
    with governed_write(
        actor=actor, action="deliberation.supervision_review", community_id=community.pk
    ) as w:
        if SupervisionReview.objects.filter(community=community, month=month).exists():
            raise Conflict(_("该月已提交过监督评议。"))
        review = SupervisionReview.objects.create(
            community=community,
            month=month,
            reviewer_id=acting_user_id(actor),
            summary=summary.strip(),
            items_total=items.count(),
            items_done=items.filter(status=ActionItem.Status.DONE).count(),
            items_overdue=items.exclude(status=ActionItem.Status.DONE)
            .filter(deadline__lt=today)
            .count(),
        )
        w.target = review
        w.payload = {
            "month": month.isoformat(),
            "total": review.items_total,
            "done": review.items_done,
            "overdue": review.items_overdue,
        }
    return review
