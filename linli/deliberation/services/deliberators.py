"""Certified deliberators 社区议事员: enrolment, training and practice, certification,
skill assessments."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row
from linli.deliberation.models import (
    Deliberator,
    DeliberatorActivity,
    Meeting,
    SkillAssessment,
)
from linli.deliberation.permissions import acting_user_id, manages
from linli.deliberation.services.councils import settings_for


def deliberator_enrol(*, actor: Actor, resident: Resident) -> Deliberator:
    community = resident.community
    if not manages(actor, community):
        raise PermissionDenied()
    with governed_write(
        actor=actor,
        action="deliberation.deliberator_enrol",
        community_id=community.pk,
        payload={"resident": resident.pk},
    ) as w:
        if Deliberator.objects.filter(resident=resident).exists():
            raise Conflict(_("该居民已在议事员培养名单中。"))
        d = Deliberator.objects.create(community=community, resident=resident)
        w.target = d
    return d


def deliberator_record_activity(
    *,
    actor: Actor,
    deliberator: Deliberator,
    kind: str,
    on: date,
    note: str = "",
    meeting: Meeting | None = None,
) -> DeliberatorActivity:
    if not manages(actor, deliberator.community):
        raise PermissionDenied()
    if kind not in DeliberatorActivity.Kind.values:
        raise ValidationFailed(_("未知的记录类型。"))
    if on > timezone.localdate():
        raise ValidationFailed(_("日期不能在将来。"), field="on")
    if meeting is not None:
        if meeting.community_id != deliberator.community_id:
            raise ValidationFailed(_("只能记录本社区的会议。"))
        if meeting.status != Meeting.Status.HELD:
            raise ValidationFailed(_("只有已召开的会议才能算作实践会议。"))
    with governed_write(
        actor=actor,
        action="deliberation.deliberator_activity",
        community_id=deliberator.community_id,
        target=deliberator,
        payload={"kind": kind, "on": on.isoformat(), "meeting": meeting.pk if meeting else None},
    ):
        if (
            meeting is not None
            and DeliberatorActivity.objects.filter(
                community_id=deliberator.community_id, deliberator=deliberator, meeting=meeting
            ).exists()
        ):
            raise Conflict(_("这次会议已记录过。"))
        act = DeliberatorActivity.objects.create(
            community_id=deliberator.community_id,
            deliberator=deliberator,
            kind=kind,
            on=on,
            note=note.strip(),
            meeting=meeting,
        )
    return act


def deliberator_certify(*, actor: Actor, deliberator: Deliberator) -> Deliberator:
    """Certification needs at least one training and the configured number (2) of
    practice meetings; certified deliberators get priority to speak."""
    if not manages(actor, deliberator.community):
        raise PermissionDenied()
    cfg = settings_for(deliberator.community_id)
    with governed_write(
        actor=actor,
        action="deliberation.deliberator_certify",
        community_id=deliberator.community_id,
    ) as w:
        d = lock_row(
            Deliberator.objects.all(), deliberator.pk, community_id=deliberator.community_id
        )
        if d.certified_at is not None:
            raise Conflict(_("该居民已是认证议事员。"))
        activities = DeliberatorActivity.objects.filter(community_id=d.community_id, deliberator=d)
        trainings = activities.filter(kind=DeliberatorActivity.Kind.TRAINING).count()
        practice = activities.filter(kind=DeliberatorActivity.Kind.PRACTICE).count()
        if trainings < 1 or practice < cfg.practice_meetings_required:
            raise ValidationFailed(
                _("认证条件未满足：培训%(t)s次（需至少1次），实践会议%(p)s次（需至少%(n)s次）。")
                % {"t": trainings, "p": practice, "n": cfg.practice_meetings_required},
                code="certification_incomplete",
            )
        d.certified_at = timezone.now()
        d.certified_by = actor  # type: ignore[assignment]
        d.save(update_fields=["certified_at", "certified_by", "updated_at"])
        w.target = d
        w.payload = {"trainings": trainings, "practice": practice}
    deliberator.certified_at = d.certified_at
    deliberator.certified_by_id = d.certified_by_id
    deliberator.updated_at = d.updated_at
    return deliberator


def skill_assess(
    *, actor: Actor, deliberator: Deliberator, score: int, on: date, note: str = ""
) -> SkillAssessment:
    if not manages(actor, deliberator.community):
        raise PermissionDenied()
    if not isinstance(score, int) or not 1 <= score <= 10:
        raise ValidationFailed(_("议事能力评分必须是1到10之间的整数。"), field="score")
    if on > timezone.localdate():
        raise ValidationFailed(_("评估日期不能在将来。"), field="on")
    with governed_write(
        actor=actor,
        action="deliberation.skill_assess",
        community_id=deliberator.community_id,
        target=deliberator,
        payload={"score": score, "on": on.isoformat()},
    ):
        a = SkillAssessment.objects.create(
            community_id=deliberator.community_id,
            deliberator=deliberator,
            score=score,
            assessed_on=on,
            assessor_id=acting_user_id(actor),
            note=note.strip(),
        )
    return a
