"""Participatory budgeting: programmes and their phases, proposals, expert review,
ballots (online and paper), allocation, overrides and the pabulib export."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row, share_lock
from linli.projects import allocation as alloc
from linli.projects.models import (
    Allocation,
    Channel,
    Criterion,
    Override,
    PBBallot,
    PBChoice,
    PBProject,
    Programme,
    Reviewer,
    Score,
)
from linli.projects.models import (
    Conflict as ConflictRow,
)
from linli.projects.money import fmt_fen, parse_yuan
from linli.projects.permissions import acting_user, lives_in, manages
from linli.projects.states import PROGRAMME

Ph = Programme.Phase
PS = PBProject.Status
MAX_CRITERIA = 10
RULE_FIELDS = ("budget_fen", "ballot_kind", "max_choices", "unit", "method", "shortlist_min_score")


# --------------------------------------------------------------------------- programmes


@dataclass(frozen=True)
class Dates:
    proposals_opens: datetime
    review_opens: datetime
    voting_opens: datetime
    voting_closes: datetime

    def check(self) -> None:
        if not (
            self.proposals_opens <= self.review_opens <= self.voting_opens < self.voting_closes
        ):
            raise ValidationFailed(
                _("各阶段日期须按顺序：征集 ≤ 评审 ≤ 投票开始 < 投票截止。"), field="dates"
            )


def _rules(
    ballot_kind: str, max_choices: int | None, unit: str, method: str, budget_yuan: Any
) -> dict[str, Any]:
    if ballot_kind not in Programme.BallotKind.values:
        raise ValidationFailed(_("请选择投票方式。"), field="ballot_kind")
    if unit not in Programme.Unit.values:
        raise ValidationFailed(_("请选择投票单位。"), field="unit")
    if method not in Programme.Method.values:
        raise ValidationFailed(_("请选择分配方法。"), field="method")
    if ballot_kind == Programme.BallotKind.APPROVAL:
        if not isinstance(max_choices, int) or not 1 <= max_choices <= 50:
            raise ValidationFailed(_("限选投票须设定最多可选项目数（1–50）。"), field="max_choices")
    else:
        max_choices = None
    return {
        "budget_fen": parse_yuan(budget_yuan, field="budget", label=_("总预算")),
        "ballot_kind": ballot_kind,
        "max_choices": max_choices,
        "unit": unit,
        "method": method,
    }


def _criteria(raw: Sequence[tuple[str, Any]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for name, weight in raw:
        name = within(name, field="criteria", limit=60, label=_("评审标准"))
        if not name:
            continue
        try:
            w = int(weight)
        except (TypeError, ValueError):
            w = 0
        if not 1 <= w <= 100:
            raise ValidationFailed(
                _("评审标准“%(n)s”的权重须为 1–100 的整数。") % {"n": name}, field="criteria"
            )
        out.append((name, w))
    if not out:
        raise ValidationFailed(_("请至少设定一项评审标准。"), field="criteria")
    if len(out) > MAX_CRITERIA:
        raise ValidationFailed(_("评审标准最多 %(n)s 项。") % {"n": MAX_CRITERIA}, field="criteria")
    return out


def programme_create(
    *,
    actor: Actor,
    community: OrgUnit,
    title: str,
    description: str,
    budget_yuan: Any,
    ballot_kind: str,
    max_choices: int | None,
    unit: str,
    method: str,
    criteria: Sequence[tuple[str, Any]],
    dates: Dates,
    shortlist_min_score: int = 600,
    idempotency_key: str = "",
) -> Programme:
    if not manages(actor, community):
        raise PermissionDenied()
    title = within(title, field="title", limit=80, label=_("名称"))
    if not title:
        raise ValidationFailed(_("请填写名称。"), field="title")
    description = within(description, field="description", limit=4000, label=_("说明"))
    rules = _rules(ballot_kind, max_choices, unit, method, budget_yuan)
    crit = _criteria(criteria)
    dates.check()
    if not 100 <= shortlist_min_score <= 1000:
        raise ValidationFailed(_("入围最低分须在 1–10 之间。"), field="shortlist_min_score")
    key = idempotency.clean(idempotency_key)
    with governed_write(
        actor=actor, action="projects.programme_create", community_id=community.pk
    ) as w:
        prog = Programme(
            community_id=community.pk,
            title=title,
            description=description,
            shortlist_min_score=shortlist_min_score,
            created_by=acting_user(actor),
            idempotency_key=key,
            proposals_opens=dates.proposals_opens,
            review_opens=dates.review_opens,
            voting_opens=dates.voting_opens,
            voting_closes=dates.voting_closes,
            **rules,
        )
        prior = idempotency.replayed(
            w, prog, key=key, owned=lambda p: p.created_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        Criterion.objects.bulk_create(
            [
                Criterion(community_id=community.pk, programme=prog, position=i, name=n, weight=wt)
                for i, (n, wt) in enumerate(crit, start=1)
            ]
        )
        w.target = prog
        w.payload = {**{k: v for k, v in rules.items()}, "criteria": crit}
    return prog


def programme_update(
    *,
    actor: Actor,
    programme: Programme,
    dates: Dates | None = None,
    rules: dict[str, Any] | None = None,
    criteria: Sequence[tuple[str, Any]] | None = None,
) -> Programme:
    """Change a programme. Rules (budget, ballot, method, shortlist, criteria) only
    before the first phase starts; a phase's start date only before it starts."""
    if not manages(actor, programme):
        raise PermissionDenied()
    with governed_write(
        actor=actor, action="projects.programme_update", community_id=programme.community_id
    ) as w:
        row = lock_row(Programme.objects.all(), programme.pk, community_id=programme.community_id)
        if (rules or criteria) and row.rules_locked_at is not None:
            raise Conflict(
                _("计划已开始，规则（预算、投票方式、分配方法、评审标准）已锁定，不能修改。"),
                code="rules_locked",
            )
        changed: dict[str, Any] = {}
        if rules:
            clean = _rules(
                rules.get("ballot_kind", row.ballot_kind),
                rules.get("max_choices", row.max_choices),
                rules.get("unit", row.unit),
                rules.get("method", row.method),
                rules.get("budget_yuan", fmt_fen(row.budget_fen, grouped=False)),
            )
            for k, v in clean.items():
                setattr(row, k, v)
            changed.update(clean)
        if criteria:
            crit = _criteria(criteria)
            Criterion.objects.filter(programme=row).delete()
            Criterion.objects.bulk_create(
                [
                    Criterion(
                        community_id=row.community_id, programme=row, position=i, name=n, weight=wt
                    )
                    for i, (n, wt) in enumerate(crit, start=1)
                ]
            )
            changed["criteria"] = crit
        if dates:
            dates.check()
            started = _started_phases(row.phase)
            for field, phase in (
                ("proposals_opens", Ph.PROPOSALS),
                ("review_opens", Ph.REVIEW),
                ("voting_opens", Ph.VOTING),
                ("voting_closes", Ph.RESULTS),
            ):
                new = getattr(dates, field)
                if new != getattr(row, field):
                    if phase in started:
                        raise Conflict(
                            _("该阶段已经开始，日期已锁定。"), code="phase_locked", field=field
                        )
                    setattr(row, field, new)
                    changed[field] = new.isoformat()
        row.save()
        w.target = row
        w.payload = changed
    return row


_ORDER = [Ph.DRAFT, Ph.PROPOSALS, Ph.REVIEW, Ph.VOTING, Ph.RESULTS, Ph.IMPLEMENTATION, Ph.CLOSED]


def _started_phases(phase: str) -> set[str]:
    return set(_ORDER[: _ORDER.index(Ph(phase)) + 1])


def programme_advance(*, actor: Actor, programme: Programme, action: str) -> Programme:
    """Move to the next phase. Opening the vote publishes the shortlist (weighted review
    score ≥ the programme's threshold); closing it computes both allocations."""
    if action not in PROGRAMME:
        raise ValidationFailed(_("未知操作。"), field="action")

    def effects(row: Programme, w: Write) -> None:
        now = timezone.now()
        row.phase_started_at = now
        if row.rules_locked_at is None:
            row.rules_locked_at = now
        if action == "open_voting":
            w.payload["shortlist"] = _shortlist(row)
        elif action == "close_voting":
            w.payload["funded"] = _compute(row)

    return PROGRAMME.apply(actor=actor, obj=programme, action=action, effects=effects)


# --------------------------------------------------------------------------- proposals


def pb_project_submit(
    *,
    actor: Actor,
    programme: Programme,
    title: str,
    description: str,
    cost_yuan: Any,
    building_id: int | None = None,
    resident: Resident | None = None,
    channel: str = Channel.ONLINE,
    idempotency_key: str = "",
) -> PBProject:
    from linli.projects.services.micro import _channel, _resident_for

    proposer, on_behalf = _resident_for(actor, programme.community, resident)
    channel = _channel(channel, on_behalf)
    ratelimit.check("projects.propose", user=actor)
    if programme.phase != Ph.PROPOSALS:
        raise ValidationFailed(_("现在不是提案征集阶段。"), code="not_proposals")
    title = within(title, field="title", limit=80, label=_("项目名称"))
    description = within(description, field="description", limit=2000, label=_("项目说明"))
    if not title or not description:
        raise ValidationFailed(_("请填写项目名称和说明。"), field="title")
    cost = parse_yuan(cost_yuan, field="cost", label=_("预算"))
    if cost > programme.budget_fen:
        raise ValidationFailed(
            _("项目预算 %(c)s 元超过本期总预算 %(b)s 元。")
            % {"c": fmt_fen(cost), "b": fmt_fen(programme.budget_fen)},
            field="cost",
            code="over_budget",
        )
    key = idempotency.clean(idempotency_key)
    with governed_write(
        actor=actor, action="projects.pb_submit", community_id=programme.community_id
    ) as w:
        p = PBProject(
            community_id=programme.community_id,
            programme=programme,
            title=title,
            description=description,
            cost_fen=cost,
            building_id=building_id,
            proposer=proposer,
            created_by=acting_user(actor),
            channel=channel,
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, p, key=key, owned=lambda r: r.created_by_id == getattr(actor, "pk", None)
        )
        if prior is not None:
            return prior
        w.target = p
        w.payload = {"cost_fen": cost, "channel": channel}
    return p


# --------------------------------------------------------------------------- review


def reviewer_add(*, actor: Actor, programme: Programme, user: Any, title: str) -> Reviewer:
    if not manages(actor, programme):
        raise PermissionDenied()
    title = within(title, field="title", limit=60, label=_("身份"))
    if not title:
        raise ValidationFailed(_("请填写评审专家的身份（公开）。"), field="title")
    if programme.phase not in (Ph.DRAFT, Ph.PROPOSALS):
        raise ValidationFailed(_("评审开始后不能再增加评审专家。"), code="review_started")
    with governed_write(
        actor=actor, action="projects.reviewer_add", community_id=programme.community_id
    ) as w:
        r = Reviewer(
            community_id=programme.community_id, programme=programme, user=user, title=title
        )
        if not insert_or_skip(r):
            raise ValidationFailed(_("该专家已在评审名单中。"))
        w.target = r
        w.payload = {"user": user.pk, "title": title}
    return r


def _reviewer(actor: Actor, programme: Programme) -> Reviewer:
    r = Reviewer.objects.filter(programme=programme, user_id=getattr(actor, "pk", 0) or 0).first()
    if r is None:
        raise PermissionDenied(_("您不是本期的评审专家。"))
    return r


def conflict_declare(*, actor: Actor, project: PBProject, note: str) -> ConflictRow:
    """A reviewer declares a conflict of interest: they will not score this project
    (scores already given to it are withdrawn)."""
    reviewer = _reviewer(actor, project.programme)
    note = within(note, field="note", limit=200, label=_("利益关系说明"))
    if not note:
        raise ValidationFailed(_("请说明利益关系。"), field="note")
    with governed_write(
        actor=actor, action="projects.conflict_declare", community_id=project.community_id
    ) as w:
        c = ConflictRow(
            community_id=project.community_id, reviewer=reviewer, project=project, note=note
        )
        if not insert_or_skip(c):
            raise ValidationFailed(_("已经申报过。"))
        Score.objects.filter(reviewer=reviewer, project=project).delete()
        w.target = project
        w.payload = {"reviewer": reviewer.pk, "note": note}
    return c


def score_submit(
    *, actor: Actor, project: PBProject, scores: dict[int, Any], comment: str = ""
) -> list[Score]:
    """A reviewer scores a project on every criterion (1–10); a later submission
    replaces the earlier one while the review phase lasts."""
    programme = project.programme
    reviewer = _reviewer(actor, programme)
    if programme.phase != Ph.REVIEW:
        raise ValidationFailed(_("现在不是专家评审阶段。"), code="not_review")
    if ConflictRow.objects.filter(reviewer=reviewer, project=project).exists():
        raise PermissionDenied(_("您已申报与该项目有利益关系，不能评分。"))
    comment = within(comment, field="comment", limit=500, label=_("评语"))
    crits = list(Criterion.objects.filter(programme=programme))
    values: dict[int, int] = {}
    for c in crits:
        raw = scores.get(c.pk)
        try:
            v = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            v = 0
        if not 1 <= v <= 10:
            raise ValidationFailed(
                _("“%(c)s”的分数须为 1–10 的整数。") % {"c": c.name}, field=f"score_{c.pk}"
            )
        values[c.pk] = v
    with governed_write(
        actor=actor, action="projects.score_submit", community_id=project.community_id
    ) as w:
        Score.objects.filter(reviewer=reviewer, project=project).delete()
        rows = Score.objects.bulk_create(
            [
                Score(
                    community_id=project.community_id,
                    reviewer=reviewer,
                    project=project,
                    criterion_id=cid,
                    value=v,
                    comment=comment,
                )
                for cid, v in values.items()
            ]
        )
        w.target = project
        w.payload = {"reviewer": reviewer.pk, "scores": values}
    return rows


def weighted_scores(programme: Programme) -> dict[int, int | None]:
    """Project id → weighted mean score × 100 over all reviewers' scores (None when
    nobody scored it)."""
    weights = dict(Criterion.objects.filter(programme=programme).values_list("pk", "weight"))
    total_w: dict[int, int] = {}
    total: dict[int, int] = {}
    for pid, cid, v in Score.objects.filter(
        community_id=programme.community_id, project__programme=programme
    ).values_list("project_id", "criterion_id", "value"):
        total[pid] = total.get(pid, 0) + weights.get(cid, 0) * v
        total_w[pid] = total_w.get(pid, 0) + weights.get(cid, 0)
    ids = PBProject.objects.filter(programme=programme).values_list("pk", flat=True)
    return {
        pid: (round(100 * total[pid] / total_w[pid]) if total_w.get(pid) else None) for pid in ids
    }


def _shortlist(prog: Programme) -> list[int]:
    scores = weighted_scores(prog)
    chosen = [pid for pid, s in scores.items() if s is not None and s >= prog.shortlist_min_score]
    for pid, s in scores.items():
        PBProject.objects.filter(pk=pid).update(
            score=s, status=PS.SHORTLISTED if pid in chosen else PS.NOT_SHORTLISTED
        )
    return sorted(chosen)


# --------------------------------------------------------------------------- ballots


def _clean_choices(prog: Programme, project_ids: Sequence[Any]) -> tuple[list[int], int]:
    ids: list[int] = []
    for raw in project_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(_("选择的项目无效。"), field="projects") from None
    ids = sorted(set(ids))
    if not ids:
        raise ValidationFailed(_("请至少选择一个项目。"), field="projects", code="empty_ballot")
    costs = dict(
        PBProject.objects.filter(
            community_id=prog.community_id, programme_id=prog.pk, status=PS.SHORTLISTED, pk__in=ids
        ).values_list("pk", "cost_fen")
    )
    if len(costs) != len(ids):
        raise ValidationFailed(_("只能选择本期入围的项目。"), field="projects")
    total = sum(costs.values())
    if prog.ballot_kind == Programme.BallotKind.APPROVAL and len(ids) > (prog.max_choices or 0):
        raise ValidationFailed(
            _("最多只能选 %(k)s 个项目，您选了 %(n)s 个。")
            % {"k": prog.max_choices, "n": len(ids)},
            field="projects",
            code="too_many_choices",
        )
    if prog.ballot_kind == Programme.BallotKind.KNAPSACK and total > prog.budget_fen:
        raise ValidationFailed(
            _("所选项目合计 %(t)s 元，超过总预算 %(b)s 元，请减少选择。")
            % {"t": fmt_fen(total), "b": fmt_fen(prog.budget_fen)},
            field="projects",
            code="over_budget",
        )
    return ids, total


def _aware(value: Any) -> datetime:
    """A raw column value as an aware UTC datetime (SQLite hands back naive text)."""
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value  # type: ignore[no-any-return]


def _cast(
    *,
    actor: Actor,
    programme: Programme,
    voter: Resident,
    project_ids: Sequence[Any],
    channel: str,
    second_staff: Any = None,
    now: datetime | None = None,
) -> PBBallot:
    now = now or timezone.now()
    with governed_write(
        actor=actor, action="projects.ballot_cast", community_id=programme.community_id
    ) as w:
        # A shared lock on the programme: many ballots at once, and closing the vote
        # (FOR UPDATE) waits for the ballots in flight — and is then seen by later ones.
        row = share_lock(
            Programme,
            programme.pk,
            ["phase", "voting_opens", "voting_closes"],
            community_id=programme.community_id,
        )
        if row is None:
            raise NotFound()
        phase, opens, closes = row
        opens, closes = _aware(opens), _aware(closes)
        if phase != Ph.VOTING or now < opens or now >= closes:
            raise ValidationFailed(_("现在不在投票时间内，投票未被记录。"), code="not_voting")
        ids, total = _clean_choices(programme, project_ids)
        per_household = programme.unit == Programme.Unit.HOUSEHOLD
        ballot = PBBallot(
            community_id=programme.community_id,
            programme_id=programme.pk,
            resident_id=voter.pk,
            household_id=voter.household_id,
            per_household=per_household,
            channel=channel,
            entered_by=acting_user(actor) if channel == PBBallot.BallotChannel.PAPER else None,
            second_staff=second_staff,
            total_fen=total,
            cast_at=now,
        )
        if not insert_or_skip(ballot):
            raise Conflict(
                _("您家已经投过票了（每户一票）。")
                if per_household
                else _("您已经投过票了（每人一票）。"),
                code="already_voted",
            )
        PBChoice.objects.bulk_create(
            [
                PBChoice(community_id=programme.community_id, ballot=ballot, project_id=i)
                for i in ids
            ]
        )
        # A secret ballot: the event records that a ballot was cast, not by whom or how.
        w.anonymous = True
        w.target = programme
        w.payload = {"channel": channel}
    return ballot


def ballot_cast(
    *,
    actor: Actor,
    programme: Programme,
    project_ids: Sequence[Any],
    now: datetime | None = None,
) -> PBBallot:
    """A resident of the community casts their ballot online."""
    rid = scope_of(actor).resident_id
    if rid is None or not lives_in(actor, programme):
        raise PermissionDenied(_("只有本社区居民可以投票。"))
    ratelimit.check("projects.vote", user=actor)
    voter = Resident.objects.only("pk", "household_id", "community_id").get(pk=rid)
    return _cast(
        actor=actor,
        programme=programme,
        voter=voter,
        project_ids=project_ids,
        channel=PBBallot.BallotChannel.ONLINE,
        now=now,
    )


def paper_ballot_record(
    *,
    actor: Actor,
    second_staff: Any,
    programme: Programme,
    resident: Resident,
    project_ids: Sequence[Any],
) -> PBBallot:
    """A paper ballot, entered by one staff member and confirmed by a second one."""
    if not manages(actor, programme):
        raise PermissionDenied()
    if second_staff is None or getattr(second_staff, "pk", None) == getattr(actor, "pk", None):
        raise ValidationFailed(_("纸质票须由两名不同的工作人员共同录入。"), field="second_staff")
    if not manages(second_staff, programme):
        raise PermissionDenied(_("第二位录入人不是本社区的工作人员。"))
    if resident.community_id != programme.community_id:
        raise ValidationFailed(_("该居民不属于本社区。"), field="resident")
    return _cast(
        actor=actor,
        programme=programme,
        voter=resident,
        project_ids=project_ids,
        channel=PBBallot.BallotChannel.PAPER,
        second_staff=second_staff,
    )


# --------------------------------------------------------------------------- results


def election_data(prog: Programme) -> tuple[list[alloc.Item], list[list[int]]]:
    """The shortlisted projects and every ballot's choices (no voter identity)."""
    projects = list(
        PBProject.objects.filter(
            community_id=prog.community_id,
            programme_id=prog.pk,
            status__in=[PS.SHORTLISTED, PS.FUNDED, PS.NOT_FUNDED],
        )
        .select_related("building")
        .order_by("pk")
    )
    items = [alloc.Item(p.pk, p.cost_fen, p.building.name if p.building else "—") for p in projects]
    by_ballot: dict[int, list[int]] = {}
    for bid, pid in (
        PBChoice.objects.filter(community_id=prog.community_id, ballot__programme_id=prog.pk)
        .order_by("ballot_id", "project_id")
        .values_list("ballot_id", "project_id")
        .iterator(chunk_size=10_000)
    ):
        by_ballot.setdefault(bid, []).append(pid)
    # Ballots in an order that does not follow casting time (anonymity of the export).
    order = sorted(by_ballot, key=lambda b: hashlib.sha256(f"{prog.pk}:{b}".encode()).digest())
    return items, [by_ballot[b] for b in order]


def _compute(prog: Programme) -> list[int]:
    items, ballots = election_data(prog)
    outcomes = []
    timings: dict[str, float] = {}
    for method in alloc.METHODS:
        t0 = time.perf_counter()
        outcomes.append(alloc.allocate(method, items, ballots, prog.budget_fen))
        timings[method] = time.perf_counter() - t0
    comp = alloc.compare(items, ballots, outcomes)
    now = timezone.now()
    Allocation.objects.filter(programme=prog).delete()
    for o in outcomes:
        Allocation.objects.create(
            community_id=prog.community_id,
            programme=prog,
            method=o.method,
            funded=o.funded,
            spent_fen=o.spent,
            details={
                str(pid): {
                    "votes": e.votes,
                    "cost": e.cost,
                    "funded": e.funded,
                    "reason": e.reason,
                    "rank": e.rank,
                    "effective_support": e.effective_support,
                }
                for pid, e in o.projects.items()
            },
            voters=comp.voters,
            satisfied=comp.satisfied[o.method],
            by_group=comp.by_group[o.method],
            seconds=round(timings[o.method], 3),
            computed_at=now,
        )
    decisive = next(o for o in outcomes if o.method == prog.method)
    votes = {pid: e.votes for pid, e in decisive.projects.items()}
    funded = set(decisive.funded)
    for it in items:
        PBProject.objects.filter(pk=it.id).update(
            votes=votes.get(it.id, 0), status=PS.FUNDED if it.id in funded else PS.NOT_FUNDED
        )
    return sorted(funded)


def override_result(
    *, actor: Actor, programme: Programme, project: PBProject, funded: bool, reason: str
) -> Override:
    """Change one project's result by hand — only with a written reason, which is
    published on the results page next to the computed outcome."""
    if not manages(actor, programme):
        raise PermissionDenied()
    reason = within(reason, field="reason", limit=500, label=_("理由"))
    if not reason:
        raise ValidationFailed(
            _("调整结果必须填写公开的理由。"), field="reason", code="reason_required"
        )
    if project.programme_id != programme.pk:
        raise NotFound()
    with governed_write(
        actor=actor, action="projects.override", community_id=programme.community_id
    ) as w:
        row = lock_row(Programme.objects.all(), programme.pk, community_id=programme.community_id)
        if row.phase != Ph.RESULTS:
            raise ValidationFailed(_("只有在结果公示阶段才能调整结果。"), code="not_results")
        if funded:
            spent = sum(
                PBProject.objects.filter(programme=row, status=PS.FUNDED)
                .exclude(pk=project.pk)
                .values_list("cost_fen", flat=True)
            )
            if spent + project.cost_fen > row.budget_fen:
                raise ValidationFailed(_("调整后总额将超过预算。"), code="over_budget")
        PBProject.objects.filter(pk=project.pk).update(
            status=PS.FUNDED if funded else PS.NOT_FUNDED
        )
        o = Override.objects.create(
            community_id=programme.community_id,
            programme=row,
            project=project,
            funded=funded,
            reason=reason,
            by=acting_user(actor),
            at=timezone.now(),
        )
        w.target = project
        w.payload = {"funded": funded, "reason": reason}
    return o


def pabulib_export(*, programme: Programme) -> str:
    """The anonymised ballots as a pabulib ``.pb`` file (only once the vote is over)."""
    if programme.phase in (Ph.DRAFT, Ph.PROPOSALS, Ph.REVIEW, Ph.VOTING):
        raise ValidationFailed(_("投票结束后才能导出选票。"), code="not_closed")
    items, ballots = election_data(programme)
    meta = {
        "description": programme.title,
        "country": "China",
        "unit": programme.community.name,
        "instance": f"linli-{programme.pk}",
        "rule": "equalshares" if programme.method == "mes" else "greedy",
        "date_begin": timezone.localtime(programme.voting_opens).strftime("%d.%m.%Y"),
        "date_end": timezone.localtime(programme.voting_closes).strftime("%d.%m.%Y"),
        "language": "zh",
        "currency": "CNY (fen)",
    }
    k = programme.max_choices if programme.ballot_kind == Programme.BallotKind.APPROVAL else None
    return alloc.pabulib(items, ballots, programme.budget_fen, meta=meta, max_length=k)


def ballot_count(programme: Programme) -> int:
    return PBBallot.objects.filter(community_id=programme.community_id, programme=programme).count()


__all__ = [
    "Dates",
    "ballot_cast",
    "ballot_count",
    "conflict_declare",
    "override_result",
    "paper_ballot_record",
    "pabulib_export",
    "pb_project_submit",
    "programme_advance",
    "programme_create",
    "programme_update",
    "reviewer_add",
    "score_submit",
    "weighted_scores",
]
