"""Micro-projects: propose, co-sign, the fast track, and a council topic turned project."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, OrgUnit, Resident
from linli.core import idempotency, ratelimit
from linli.core.calendar import WorkCalendar
from linli.core.errors import NotFound, PermissionDenied, ValidationFailed
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip
from linli.projects.models import (
    BudgetLine,
    Channel,
    CoSigner,
    MicroProject,
    ProjectPhoto,
)
from linli.projects.money import fmt_fen, parse_yuan
from linli.projects.permissions import acting_user, lives_in, manages
from linli.projects.services.settings import settings_for
from linli.projects.states import MICRO
from linli.requests.photos import CleanPhoto, clean_photos

S = MicroProject.Status
TITLE_LIMIT = 80
TEXT_LIMIT = 2000
PLACE_LIMIT = 100
ITEM_LIMIT = 80
MAX_LINES = 20
REASON_LIMIT = 500


def _resident_for(
    actor: Actor, community: OrgUnit, resident: Resident | None
) -> tuple[Resident, bool]:
    """The resident acting and whether staff act for them (代办). A resident acts for
    themself; community staff must name a resident of the community."""
    own = scope_of(actor).resident_id
    if resident is None or (own is not None and resident.pk == own):
        if own is None or not lives_in(actor, community):
            raise PermissionDenied(_("只有本社区居民可以参与。"))
        return Resident.objects.select_related("household").get(pk=own), False
    if not manages(actor, community):
        raise PermissionDenied(_("只有社区工作人员可以代居民办理。"))
    if resident.community_id != community.pk:
        raise ValidationFailed(_("该居民不属于本社区。"), field="resident")
    return resident, True


def _channel(raw: str, on_behalf: bool) -> str:
    if not on_behalf:
        return Channel.ONLINE
    if raw not in Channel.values or raw == Channel.ONLINE:
        raise ValidationFailed(
            _("代办时请选择办理渠道（窗口、电话、上门或纸质）。"), field="channel"
        )
    return raw


def clean_lines(raw: Sequence[tuple[str, Any]]) -> list[tuple[str, int]]:
    """Budget lines as (item, fen); blank rows (no item, no amount) are skipped."""
    lines: list[tuple[str, int]] = []
    for i, (item, amount) in enumerate(raw, start=1):
        item = (item or "").strip()
        if not item and (amount is None or str(amount).strip() == ""):
            continue
        if not item:
            raise ValidationFailed(_("第 %(n)s 行预算缺少名称。") % {"n": i}, field="lines")
        item = within(item, field="lines", limit=ITEM_LIMIT, label=_("预算项"))
        lines.append(
            (item, parse_yuan(amount, field="lines", label=_("第 %(n)s 行金额") % {"n": i}))
        )
    if not lines:
        raise ValidationFailed(_("请至少填写一项预算明细。"), field="lines", code="no_budget_lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(_("预算明细最多 %(n)s 行。") % {"n": MAX_LINES}, field="lines")
    return lines


def check_budget(community_id: int, total_fen: int) -> None:
    cfg = settings_for(community_id)
    if not cfg.min_budget_fen <= total_fen <= cfg.max_budget_fen:
        raise ValidationFailed(
            _("预算合计 %(t)s 元，不在微更新项目的范围（%(lo)s–%(hi)s 元）内。")
            % {
                "t": fmt_fen(total_fen),
                "lo": fmt_fen(cfg.min_budget_fen),
                "hi": fmt_fen(cfg.max_budget_fen),
            },
            field="lines",
            code="budget_out_of_range",
        )


def _save_photos(project: MicroProject, photos: Sequence[CleanPhoto], kind: str) -> None:
    for i, c in enumerate(photos):
        photo = ProjectPhoto(
            community_id=project.community_id,
            project=project,
            kind=kind,
            content_type=c.content_type,
            width=c.width,
            height=c.height,
        )
        ext = (c.content.name or "photo.jpg").rsplit(".", 1)[-1]
        photo.image.save(f"p{project.pk}-{kind}-{i}.{ext}", c.content, save=False)
        photo.save()


def group_messages(project: MicroProject, subject: str, body: str) -> list[Message]:
    """In-app messages to every co-signing resident with an account (the proposers)."""
    user_ids = (
        CoSigner.objects.filter(community_id=project.community_id, project_id=project.pk)
        .filter(resident__user__isnull=False)
        .values_list("resident__user_id", flat=True)
    )
    return [Message("inapp", str(uid), subject, body) for uid in sorted(set(user_ids))]


def series_members(project: MicroProject) -> list[int]:
    """Every round of the recurring project ``project`` belongs to (itself alone when it
    is not part of one)."""
    root = project.series_id or project.pk
    return list(
        MicroProject.objects.filter(community_id=project.community_id)
        .filter(Q(pk=root) | Q(series_id=root))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def series_cut(community_id: int, members: Sequence[int]) -> bool:
    """The series' last two evaluations (across all its rounds) both failed."""
    from linli.projects.models import Evaluation

    last_two = list(
        Evaluation.objects.filter(community_id=community_id, project_id__in=list(members))
        .order_by("-at", "-id")
        .values_list("passed", flat=True)[:2]
    )
    return len(last_two) == 2 and not any(last_two)


def _series_for(community: OrgUnit, continues: int) -> int:
    earlier = MicroProject.objects.filter(
        pk=continues, community_id=community.pk, status__in=["filed", "in_progress", "delivered"]
    ).first()
    if earlier is None:
        raise ValidationFailed(_("请选择本社区已备案的上一期项目。"), field="continues")
    if series_cut(community.pk, series_members(earlier)):
        raise ValidationFailed(
            _("该常态化项目连续两次评估不合格，已停止资助，不能再申报新一期。"),
            field="continues",
            code="series_cut",
        )
    return earlier.series_id or earlier.pk


def micro_propose(
    *,
    actor: Actor,
    community: OrgUnit,
    title: str,
    problem: str,
    plan: str,
    place: str,
    lines: Sequence[tuple[str, Any]],
    building_id: int | None = None,
    photos: Sequence[Any] = (),
    resident: Resident | None = None,
    channel: str = Channel.ONLINE,
    idempotency_key: str = "",
    continues: int | None = None,
) -> MicroProject:
    """A resident (or staff for a resident, 代办) proposes a micro-project. It starts
    by gathering co-signatures; the proposer's household is the first. ``continues``:
    a new round of a recurring project (any earlier round's id) — refused once the
    series has lost its funding."""
    proposer, on_behalf = _resident_for(actor, community, resident)
    channel = _channel(channel, on_behalf)
    ratelimit.check("projects.propose", user=actor)
    key = idempotency.clean(idempotency_key)
    title = within(title, field="title", limit=TITLE_LIMIT, label=_("项目名称"))
    problem = within(problem, field="problem", limit=TEXT_LIMIT, label=_("要解决的问题"))
    plan = within(plan, field="plan", limit=TEXT_LIMIT, label=_("实施方案"))
    place = within(place, field="place", limit=PLACE_LIMIT, label=_("地点"))
    for value, field, label in (
        (title, "title", _("项目名称")),
        (problem, "problem", _("要解决的问题")),
        (plan, "plan", _("实施方案")),
        (place, "place", _("地点")),
    ):
        if not value:
            raise ValidationFailed(_("请填写%(l)s。") % {"l": label}, field=field)
    cleaned = clean_lines(lines)
    total = sum(a for _i, a in cleaned)
    check_budget(community.pk, total)
    if (
        building_id is not None
        and not Building.objects.filter(pk=building_id, community_id=community.pk).exists()
    ):
        raise ValidationFailed(_("请选择本社区的楼栋。"), field="building")
    series_id = _series_for(community, continues) if continues is not None else None
    pics = clean_photos(list(photos), name="project") if photos else []

    with governed_write(
        actor=actor, action="projects.micro_propose", community_id=community.pk
    ) as w:
        project = MicroProject(
            community_id=community.pk,
            title=title,
            problem=problem,
            plan=plan,
            place=place,
            building_id=building_id,
            series_id=series_id,
            budget_fen=total,
            proposer=proposer,
            created_by=acting_user(actor),
            channel=channel,
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, project, key=key, owned=lambda p: p.created_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        BudgetLine.objects.bulk_create(
            [
                BudgetLine(
                    community_id=community.pk,
                    project=project,
                    position=i,
                    item=item,
                    amount_fen=amount,
                )
                for i, (item, amount) in enumerate(cleaned, start=1)
            ]
        )
        CoSigner.objects.create(
            community_id=community.pk,
            project=project,
            household_id=proposer.household_id,
            resident=proposer,
            channel=channel,
            recorded_by=acting_user(actor),
        )
        _save_photos(project, pics, ProjectPhoto.Kind.PROPOSAL)
        w.target = project
        w.payload = {"budget_fen": total, "lines": len(cleaned), "channel": channel}
    return project


def micro_cosign(
    *,
    actor: Actor,
    project: MicroProject,
    resident: Resident | None = None,
    channel: str = Channel.ONLINE,
) -> CoSigner:
    """A household backs a proposal that is still gathering signatures (once per
    household: the database's unique key decides between two members signing at once)."""
    community = project.community
    signer, on_behalf = _resident_for(actor, community, resident)
    channel = _channel(channel, on_behalf)
    ratelimit.check("projects.cosign", user=actor)
    if project.status != S.GATHERING:
        raise ValidationFailed(_("该提议已不再征集联名。"), code="not_gathering")
    with governed_write(
        actor=actor, action="projects.micro_cosign", community_id=project.community_id
    ) as w:
        row = CoSigner(
            community_id=project.community_id,
            project_id=project.pk,
            household_id=signer.household_id,
            resident=signer,
            channel=channel,
            recorded_by=acting_user(actor),
        )
        if not insert_or_skip(row):
            raise ValidationFailed(_("您家已经联名过这个提议了。"), code="already_signed")
        w.target = project
        w.payload = {"household": signer.household_id, "channel": channel}
    return row


def _deadline(
    cal: WorkCalendar, start: datetime, working_days: int, cap: datetime | None
) -> datetime:
    due = cal.add_working_days(start, working_days)
    return min(due, cap) if cap is not None else due


_MESSAGES = {
    "submit": (_("微更新提议已提交"), _("“%(t)s”已提交社区审核，审核截止 %(d)s。")),
    "approve": (_("微更新社区审核通过"), _("“%(t)s”社区审核通过，已报街道备案。")),
    "reject": (_("微更新未通过社区审核"), _("“%(t)s”未通过社区审核。理由：%(r)s")),
    "file": (_("微更新已备案"), _("“%(t)s”已完成街道备案，可以开始实施。")),
    "refuse_filing": (_("微更新未获街道备案"), _("“%(t)s”未获街道备案。理由：%(r)s")),
    "withdraw": (_("微更新提议已撤回"), _("“%(t)s”已撤回。")),
    "start": (_("微更新开始实施"), _("“%(t)s”开始实施，进度可在项目页查看。")),
    "accept": (_("微更新已竣工验收"), _("“%(t)s”已验收，欢迎评价。")),
}


def micro_transition(
    *,
    actor: Actor,
    project: MicroProject,
    action: str,
    reason: str = "",
    now: datetime | None = None,
) -> MicroProject:
    """Move a project along the fast track (see ``states.MICRO``): deadlines are set
    on the working calendar, every proposer is told on commit."""
    if action not in MICRO:
        raise ValidationFailed(_("未知操作。"), field="action")
    reason = within(reason, field="reason", limit=REASON_LIMIT, label=_("理由"))
    when = now or timezone.now()

    def effects(row: MicroProject, w: Write) -> None:
        cfg = settings_for(row.community_id)
        cal = WorkCalendar.cached()
        if action == "submit":
            row.submitted_at = when
            row.path_due = when + timedelta(days=cfg.total_days)
            row.review_due = _deadline(cal, when, cfg.review_days, row.path_due)
        elif action == "approve":
            row.reviewed_at = when
            row.filing_due = _deadline(cal, when, cfg.filing_days, row.path_due)
        elif action == "file":
            row.filed_at = when
        elif action == "accept":
            row.delivered_at = when
        if action in ("reject", "refuse_filing"):
            row.decision_reason = reason
        subject, body = _MESSAGES[action]
        due = row.review_due.astimezone(timezone.get_current_timezone()) if row.review_due else None
        text = body % {"t": row.title, "r": reason, "d": due.strftime("%m-%d %H:%M") if due else ""}
        for m in group_messages(row, str(subject), text):
            w.notify(m)

    return MICRO.apply(actor=actor, obj=project, action=action, reason=reason, effects=effects)


def micro_from_topic(
    *,
    actor: Actor,
    topic: Any,
    place: str,
    lines: Sequence[tuple[str, Any]],
    building_id: int | None = None,
    idempotency_key: str = "",
) -> MicroProject:
    """Turn a council topic whose resolution passed (公示 or 办结) into a micro-project
    waiting for the community's review; the resolution, its ballot and the requests
    behind the topic are linked as evidence. The council's vote replaces co-signing."""
    from linli.deliberation.models import Topic, TopicEvidence

    if not manages(actor, topic):
        raise PermissionDenied()
    if topic.step not in (Topic.Step.PUBLICISED, Topic.Step.CLOSED) or not topic.result_passed:
        raise ValidationFailed(
            _("只有已通过表决并公示的议题才能转为微更新项目。"), code="topic_not_passed"
        )
    if MicroProject.objects.filter(topic_id=topic.pk).exists():
        raise ValidationFailed(_("该议题已经转为微更新项目。"), code="topic_used")
    place = within(place, field="place", limit=PLACE_LIMIT, label=_("地点"))
    if not place:
        raise ValidationFailed(_("请填写%(l)s。") % {"l": _("地点")}, field="place")
    cleaned = clean_lines(lines)
    total = sum(a for _i, a in cleaned)
    check_budget(topic.community_id, total)
    key = idempotency.clean(idempotency_key)
    proposer = Resident.objects.filter(
        user_id=topic.proposer_id, community_id=topic.community_id
    ).first()
    requests = list(
        TopicEvidence.objects.filter(
            community_id=topic.community_id, topic_id=topic.pk
        ).values_list("request_id", flat=True)
    )
    now = timezone.now()
    cfg = settings_for(topic.community_id)
    with governed_write(
        actor=actor, action="projects.micro_from_topic", community_id=topic.community_id
    ) as w:
        path_due = now + timedelta(days=cfg.total_days)
        project = MicroProject(
            community_id=topic.community_id,
            title=topic.title[:TITLE_LIMIT],
            problem=topic.description,
            plan=topic.result_text or topic.description,
            place=place,
            building_id=building_id,
            budget_fen=total,
            proposer=proposer,
            created_by=acting_user(actor),
            channel=Channel.ONLINE,
            status=S.PROPOSED,
            submitted_at=now,
            path_due=path_due,
            review_due=_deadline(WorkCalendar.cached(), now, cfg.review_days, path_due),
            topic=topic,
            evidence={
                "topic": topic.pk,
                "result": topic.result_text[:500],
                "ballot": topic.ballot_id,
                "published_at": topic.published_at.isoformat() if topic.published_at else None,
                "requests": requests,
            },
            idempotency_key=key,
        )
        if not insert_or_skip(project):
            raise ValidationFailed(_("该议题已经转为微更新项目。"), code="topic_used")
        BudgetLine.objects.bulk_create(
            [
                BudgetLine(
                    community_id=topic.community_id,
                    project=project,
                    position=i,
                    item=item,
                    amount_fen=a,
                )
                for i, (item, a) in enumerate(cleaned, start=1)
            ]
        )
        if proposer is not None:
            CoSigner.objects.create(
                community_id=topic.community_id,
                project=project,
                household_id=proposer.household_id,
                resident=proposer,
                recorded_by=acting_user(actor),
            )
        w.target = project
        w.payload = {"topic": topic.pk, "budget_fen": total}
    return project


def require_visible(actor: Actor, project: MicroProject | None) -> MicroProject:
    from linli.projects.permissions import can_view_project

    if project is None or not can_view_project(actor, project):
        raise NotFound()
    return project
