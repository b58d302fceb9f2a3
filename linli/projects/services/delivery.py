"""Carrying out a filed micro-project: phases with owners and dates, progress, before
and after photos, residents' ratings on acceptance, and the evaluations — two failed
evaluations in a row stop the project's funding automatically, with a notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.core import ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip, lock_row
from linli.projects.models import (
    DeliveryPhase,
    Evaluation,
    Feedback,
    MicroProject,
    ProjectPhoto,
)
from linli.projects.permissions import acting_user, lives_in, manages
from linli.projects.services.micro import (
    _save_photos,
    group_messages,
    series_cut,
    series_members,
)
from linli.requests.photos import clean_photos

S = MicroProject.Status
PASS_SCORE = 60
SIX_MONTHS = timedelta(days=182)


def phase_add(
    *, actor: Actor, project: MicroProject, name: str, owner: str, starts_on: date, due_on: date
) -> DeliveryPhase:
    if not manages(actor, project):
        raise PermissionDenied()
    if project.status not in (S.FILED, S.IN_PROGRESS):
        raise ValidationFailed(_("只有已备案或实施中的项目可以安排实施阶段。"), code="not_filed")
    name = within(name, field="name", limit=40, label=_("阶段"))
    owner = within(owner, field="owner", limit=60, label=_("负责人"))
    if not name or not owner:
        raise ValidationFailed(_("请填写阶段名称和负责人。"), field="name")
    if not isinstance(starts_on, date) or not isinstance(due_on, date) or due_on < starts_on:
        raise ValidationFailed(_("完成期限不能早于开始日期。"), field="due_on")
    with governed_write(
        actor=actor, action="projects.phase_add", community_id=project.community_id
    ) as w:
        lock_row(MicroProject.objects.all(), project.pk, community_id=project.community_id)
        last = DeliveryPhase.objects.filter(project=project).aggregate(m=Max("position"))["m"] or 0
        ph = DeliveryPhase.objects.create(
            community_id=project.community_id,
            project=project,
            position=last + 1,
            name=name,
            owner=owner,
            starts_on=starts_on,
            due_on=due_on,
        )
        w.target = project
        w.payload = {"phase": name, "owner": owner, "due_on": due_on.isoformat()}
    return ph


def phase_progress(*, actor: Actor, phase: DeliveryPhase, progress: Any) -> DeliveryPhase:
    """Report a phase's progress (0–100); 100 marks it done."""
    if not manages(actor, phase):
        raise PermissionDenied()
    try:
        value = int(progress)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 100:
        raise ValidationFailed(_("进度须为 0–100 的整数。"), field="progress")
    with governed_write(
        actor=actor, action="projects.phase_progress", community_id=phase.community_id
    ) as w:
        row = lock_row(
            DeliveryPhase.objects.select_related("project"),
            phase.pk,
            community_id=phase.community_id,
        )
        if row.project.status != S.IN_PROGRESS:
            raise ValidationFailed(_("项目不在实施中。"), code="not_in_progress")
        row.progress = value
        row.done_at = timezone.now() if value == 100 else None
        row.save(update_fields=["progress", "done_at"])
        w.target = row.project
        w.payload = {"phase": row.name, "progress": value}
    return row


def photos_add(*, actor: Actor, project: MicroProject, kind: str, photos: Sequence[Any]) -> None:
    """Before/after photos of the works (staff)."""
    if not manages(actor, project):
        raise PermissionDenied()
    if kind not in (ProjectPhoto.Kind.BEFORE, ProjectPhoto.Kind.AFTER):
        raise ValidationFailed(_("请选择施工前或完工后。"), field="kind")
    if not photos:
        raise ValidationFailed(_("请选择照片。"), field="photos")
    pics = clean_photos(list(photos), name="delivery")
    with governed_write(
        actor=actor, action="projects.photos_add", community_id=project.community_id
    ) as w:
        _save_photos(project, pics, kind)
        w.target = project
        w.payload = {"kind": kind, "n": len(pics)}


def feedback_submit(
    *, actor: Actor, project: MicroProject, rating: Any, comment: str = ""
) -> Feedback:
    """A resident rates a delivered project (1–5) with an optional comment, once."""
    rid = scope_of(actor).resident_id
    if rid is None or not lives_in(actor, project):
        raise PermissionDenied(_("只有本社区居民可以评价。"))
    ratelimit.check("projects.comment", user=actor)
    if project.status != S.DELIVERED:
        raise ValidationFailed(_("项目验收后才能评价。"), code="not_delivered")
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed(_("评分须为 1–5 星。"), field="rating")
    comment = within(comment, field="comment", limit=300, label=_("评价"))
    with governed_write(
        actor=actor, action="projects.feedback", community_id=project.community_id
    ) as w:
        fb = Feedback(
            community_id=project.community_id,
            project_id=project.pk,
            resident_id=rid,
            rating=value,
            comment=comment,
        )
        if not insert_or_skip(fb):
            raise Conflict(_("您已经评价过了。"), code="already_rated")
        w.target = project
        w.payload = {"rating": value}
    return fb


def evaluation_record(
    *,
    actor: Actor,
    project: MicroProject,
    round: str,
    score: Any,
    note: str,
    now: datetime | None = None,
) -> Evaluation:
    """Record an evaluation (60 of 100 passes). After delivery, and again six months
    after it. When the project's last two evaluations both failed, its funding stops at
    once (no more expenses) and the proposers are told."""
    if not manages(actor, project):
        raise PermissionDenied()
    now = now or timezone.now()
    if round not in Evaluation.Round.values:
        raise ValidationFailed(_("请选择评估轮次。"), field="round")
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 100:
        raise ValidationFailed(_("得分须为 0–100 的整数。"), field="score")
    note = within(note, field="note", limit=500, label=_("评估意见"))
    if not note:
        raise ValidationFailed(_("请填写评估意见。"), field="note")
    with governed_write(
        actor=actor, action="projects.evaluation", community_id=project.community_id
    ) as w:
        row = lock_row(MicroProject.objects.all(), project.pk, community_id=project.community_id)
        if row.status != S.DELIVERED or row.delivered_at is None:
            raise ValidationFailed(_("项目验收后才能评估。"), code="not_delivered")
        if round == Evaluation.Round.SIX_MONTHS and now < row.delivered_at + SIX_MONTHS:
            raise ValidationFailed(_("验收满六个月后才能进行第二次评估。"), code="too_early")
        ev = Evaluation(
            community_id=row.community_id,
            project=row,
            round=round,
            score=value,
            passed=value >= PASS_SCORE,
            note=note,
            by=acting_user(actor),
            at=now,
        )
        if not insert_or_skip(ev):
            raise Conflict(_("这一轮已经评估过了。"), code="already_evaluated")
        w.target = row
        w.payload = {"round": round, "score": value, "passed": ev.passed}
        # The project — or, for a recurring project, the group running the whole
        # series — loses its funding when the last two evaluations both failed.
        members = series_members(row)
        if series_cut(row.community_id, members):
            for cut in MicroProject.objects.filter(
                community_id=row.community_id, pk__in=members, funding_cut=False
            ).order_by("pk"):
                cut.funding_cut = True
                cut.save(update_fields=["funding_cut", "updated_at"])
                w.also(
                    action="projects.funding_cut",
                    target=cut,
                    payload={"after": round, "evaluated": row.pk, "series": len(members) > 1},
                )
                for m in group_messages(
                    cut,
                    _("项目已停止资助"),
                    (
                        _("常态化项目“%(t)s”连续两次评估不合格，按规定本系列已停止资助。")
                        if len(members) > 1
                        else _("“%(t)s”连续两次评估不合格，按规定已停止资助。")
                    )
                    % {"t": cut.title},
                ):
                    w.notify(m)
    return ev


def late(phase: DeliveryPhase, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return phase.done_at is None and phase.due_on < today
