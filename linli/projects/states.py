"""The micro-project fast track, declared once with :mod:`linli.core.transitions`.

征集联名 → 居民提议（待社区审核）→ 社区审核通过（待街道备案）→ 街道已备案, with 未通过
from either review step (a reason is required) and 已撤回 by the proposer before the
community has decided. Services change ``status`` only through ``MICRO.apply``; pages
and the API take their buttons from ``available``; the permission matrix iterates over
the table.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core.errors import DomainError, InvalidTransition, ValidationFailed
from linli.core.transitions import Machine, Transition, predicate, transition
from linli.core.types import Actor
from linli.projects.models import CoSigner, MicroProject, MicroStep, PBProject, Programme
from linli.projects.permissions import files_for, is_proposer, manages

S = MicroProject.Status


def enough_households(actor: Actor, project: MicroProject) -> DomainError | None:
    from linli.projects.services.settings import settings_for

    need = settings_for(project.community_id).min_households
    have = CoSigner.objects.filter(community_id=project.community_id, project_id=project.pk).count()
    if have < need:
        return ValidationFailed(
            _("联名户数不足：至少需要 %(need)s 户，目前 %(have)s 户。")
            % {"need": need, "have": have},
            field="households",
            code="too_few_households",
        )
    return None


def phases_done(actor: Actor, project: MicroProject) -> DomainError | None:
    from linli.projects.models import DeliveryPhase

    open_phases = DeliveryPhase.objects.filter(
        community_id=project.community_id, project_id=project.pk, done_at__isnull=True
    ).count()
    if open_phases:
        return InvalidTransition(_("还有 %(n)s 个实施阶段未完成，不能验收。") % {"n": open_phases})
    return None


@predicate
def _manages(actor: Actor, obj: MicroProject | Programme) -> bool:
    return bool(manages(actor, obj))


@predicate
def _files(actor: Actor, obj: MicroProject) -> bool:
    return bool(files_for(actor, obj))


@predicate
def _proposer(actor: Actor, obj: MicroProject) -> bool:
    return bool(is_proposer(actor, obj))


def _visible(actor: Actor, obj: MicroProject | Programme) -> bool:
    from linli.projects.permissions import can_view_project

    return bool(can_view_project(actor, obj))


def _history(
    project: MicroProject, t: Transition[MicroProject], actor: Actor, before: str, reason: str
) -> None:
    now = timezone.now()
    due = {S.PROPOSED: project.review_due, S.REVIEWED: project.filing_due}.get(S(before))
    MicroStep.objects.create(
        community_id=project.community_id,
        project=project,
        from_status=before,
        to_status=t.target,
        actor=actor if getattr(actor, "pk", None) else None,  # type: ignore[misc]
        reason=reason.strip()[:500],
        at=now,
        late=bool(due and now > due),
    )


MICRO: Machine[MicroProject] = Machine(
    name="projects.micro",
    model=MicroProject,
    visible=_visible,
    history=_history,
    state_label=lambda p: str(p.get_status_display()),
    transitions=[
        transition(
            "submit",
            gettext_lazy("提交社区审核"),
            [S.GATHERING],
            S.PROPOSED,
            who=_proposer | _manages,
            guard=enough_households,
        ),
        transition("approve", gettext_lazy("社区审核通过"), [S.PROPOSED], S.REVIEWED, who=_manages),
        transition(
            "reject",
            gettext_lazy("社区审核不通过"),
            [S.PROPOSED],
            S.REJECTED,
            who=_manages,
            reason_required=True,
        ),
        transition("file", gettext_lazy("街道备案"), [S.REVIEWED], S.FILED, who=_files),
        transition(
            "refuse_filing",
            gettext_lazy("街道不予备案"),
            [S.REVIEWED],
            S.REJECTED,
            who=_files,
            reason_required=True,
        ),
        transition("start", gettext_lazy("开始实施"), [S.FILED], S.IN_PROGRESS, who=_manages),
        transition(
            "accept",
            gettext_lazy("竣工验收"),
            [S.IN_PROGRESS],
            S.DELIVERED,
            who=_manages,
            guard=phases_done,
        ),
        transition(
            "withdraw",
            gettext_lazy("撤回提议"),
            [S.GATHERING, S.PROPOSED],
            S.WITHDRAWN,
            who=_proposer | _manages,
        ),
    ],
)

# The step each open status waits for, and the field holding its deadline.
WAITING = {S.PROPOSED: "review_due", S.REVIEWED: "filing_due"}


# --------------------------------------------------------------------------- programmes

P = Programme.Phase


def _voting_date_reached(actor: Actor, prog: Programme) -> DomainError | None:
    if timezone.now() < prog.voting_opens:
        return InvalidTransition(
            _("投票开始时间（%(t)s）未到。")
            % {"t": timezone.localtime(prog.voting_opens).strftime("%m-%d %H:%M")}
        )
    if not PBProject.objects.filter(community_id=prog.community_id, programme_id=prog.pk).exists():
        return InvalidTransition(_("还没有任何提案，不能开始投票。"))
    return None


def _voting_over(actor: Actor, prog: Programme) -> DomainError | None:
    # The vote runs its published course: nobody closes it early.
    if timezone.now() < prog.voting_closes:
        return InvalidTransition(
            _("投票截止时间（%(t)s）未到，不能提前结束。")
            % {"t": timezone.localtime(prog.voting_closes).strftime("%m-%d %H:%M")}
        )
    return None


PROGRAMME: Machine[Programme] = Machine(
    name="projects.programme",
    model=Programme,
    state_field="phase",
    visible=_visible,
    state_label=lambda p: str(p.get_phase_display()),
    transitions=[
        transition(
            "open_proposals", gettext_lazy("开始征集提案"), [P.DRAFT], P.PROPOSALS, who=_manages
        ),
        transition(
            "start_review", gettext_lazy("进入专家评审"), [P.PROPOSALS], P.REVIEW, who=_manages
        ),
        transition(
            "open_voting",
            gettext_lazy("公布入围名单并开始投票"),
            [P.REVIEW],
            P.VOTING,
            who=_manages,
            guard=_voting_date_reached,
        ),
        transition(
            "close_voting",
            gettext_lazy("结束投票并计算结果"),
            [P.VOTING],
            P.RESULTS,
            who=_manages,
            guard=_voting_over,
        ),
        transition(
            "start_implementation",
            gettext_lazy("进入项目实施"),
            [P.RESULTS],
            P.IMPLEMENTATION,
            who=_manages,
        ),
        transition(
            "close", gettext_lazy("结束本期计划"), [P.IMPLEMENTATION], P.CLOSED, who=_manages
        ),
    ],
)
