"""Every write in the 议事厅. Each service checks permission, validates, runs in one
transaction with its audit event, and notifies on commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Organisation, OrgUnit, Resident
from linli.core import audit
from linli.core.calendar import LOCAL_TZ, WorkCalendar
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.deliberation import voting_bridge
from linli.deliberation.composition import MemberFacts, Thresholds, check_composition
from linli.deliberation.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    DeliberationSettings,
    Deliberator,
    DeliberatorActivity,
    Meeting,
    MeetingMode,
    MeetingSeries,
    Objection,
    ReviewNote,
    SkillAssessment,
    SupervisionReview,
    Topic,
    TopicComment,
    TopicTransition,
)
from linli.deliberation.permissions import (
    can_comment,
    can_manage,
    can_object,
    can_propose,
    can_review,
    can_supervise,
    manages,
)
from linli.notices.models import Channel, Notice
from linli.notices.services import notice_create, notice_publish

Step = Topic.Step

# ---------------------------------------------------------------------------
# Settings


def settings_for(community: OrgUnit | int) -> DeliberationSettings:
    """The community's thresholds, or the defaults (unsaved) if never configured."""
    cid = community if isinstance(community, int) else community.pk
    found = DeliberationSettings.objects.filter(community_id=cid).first()
    return found or DeliberationSettings(community_id=cid)


SETTINGS_FIELDS = (
    "young_age_below",
    "min_young",
    "elderly_age_from",
    "min_elderly",
    "min_tenants",
    "min_tenant_percent",
    "min_resident_rep_percent",
    "quorum_numerator",
    "quorum_denominator",
    "materials_days",
    "notice_days",
    "objection_days",
    "practice_meetings_required",
)


def settings_update(*, actor: Any, community: OrgUnit, **values: int) -> DeliberationSettings:
    if not manages(actor, community):
        raise PermissionDenied()
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(_("未知的设置项：%(f)s") % {"f": "、".join(sorted(unknown))})
    if any(not isinstance(v, int) or v < 0 for v in values.values()):
        raise ValidationFailed(_("设置值必须是非负整数。"))
    with transaction.atomic():
        obj, _created = DeliberationSettings.objects.select_for_update().get_or_create(
            community=community
        )
        for k, v in values.items():
            setattr(obj, k, v)
        if obj.quorum_denominator == 0 or obj.quorum_numerator > obj.quorum_denominator:
            raise ValidationFailed(_("法定到会比例必须是不超过1的分数。"))
        if obj.min_tenant_percent > 100 or obj.min_resident_rep_percent > 100:
            raise ValidationFailed(_("百分比不能超过100。"))
        obj.save()
        audit.record(
            actor=actor,
            action="deliberation.settings_update",
            target=obj,
            community_id=community.pk,
            payload=values,
        )
    return obj


def thresholds_for(community_id: int) -> Thresholds:
    s = settings_for(community_id)
    return Thresholds(
        young_age_below=s.young_age_below,
        min_young=s.min_young,
        elderly_age_from=s.elderly_age_from,
        min_elderly=s.min_elderly,
        min_tenants=s.min_tenants,
        min_tenant_percent=s.min_tenant_percent,
        min_resident_rep_percent=s.min_resident_rep_percent,
    )


# ---------------------------------------------------------------------------
# Councils and composition rules


@dataclass(frozen=True)
class MemberSpec:
    """One seat: a resident (居民代表) or a named unit representative."""

    resident: Resident | None = None
    name: str = ""
    organisation: Organisation | None = None
    member_type: str = CouncilMember.Type.RESIDENT
    position: str = "成员"


def _facts_of(member: CouncilMember | MemberSpec) -> MemberFacts:
    r = member.resident
    return MemberFacts(
        birth_year=r.birth_year if r is not None else None,
        is_tenant=r is not None and r.household.tenure == "tenant",
        is_resident_rep=member.member_type == CouncilMember.Type.RESIDENT,
    )


def _enforce_composition(council: Council, seats: list[CouncilMember | MemberSpec]) -> None:
    violations = check_composition(
        council.kind,
        [_facts_of(s) for s in seats],
        thresholds_for(council.community_id),
        timezone.localdate().year,
    )
    if violations:
        raise ValidationFailed(
            _("%(council)s成员变更未执行。") % {"council": council.name}
            + " "
            + " ".join(str(v) for v in violations),
            code="composition_rule",
            details={"violations": [v.__dict__ for v in violations]},
        )


def _active_seats(council: Council) -> list[CouncilMember]:
    return list(
        CouncilMember.objects.filter(council=council, is_active=True).select_related(
            "resident__household"
        )
    )


def _validate_spec(council: Council, spec: MemberSpec) -> None:
    if spec.member_type not in CouncilMember.Type.values:
        raise ValidationFailed(_("未知的成员身份。"))
    if spec.member_type == CouncilMember.Type.RESIDENT and spec.resident is None:
        raise ValidationFailed(_("居民代表必须选择一位在册居民。"))
    if spec.resident is not None:
        if spec.resident.community_id != council.community_id or not spec.resident.is_active:
            raise ValidationFailed(_("只能选择本社区在册居民。"))
    elif not spec.name.strip():
        raise ValidationFailed(_("请填写成员姓名。"))


def council_create(*, actor: Any, community: OrgUnit, kind: str, name: str) -> Council:
    if not manages(actor, community):
        raise PermissionDenied()
    if kind not in Council.Kind.values:
        raise ValidationFailed(_("未知的组织类型。"))
    if Council.objects.filter(community=community, kind=kind).exists():
        raise Conflict(_("本社区已有该类组织。"))
    with transaction.atomic():
        council = Council.objects.create(community=community, kind=kind, name=name.strip() or kind)
        audit.record(
            actor=actor,
            action="deliberation.council_create",
            target=council,
            community_id=community.pk,
            payload={"kind": kind, "name": council.name},
        )
    return council


def _seat_payload(s: CouncilMember | MemberSpec) -> dict[str, Any]:
    return {
        "resident": s.resident.pk if s.resident is not None else None,
        "name": s.resident.name if s.resident is not None else s.name,
        "type": s.member_type,
    }


def council_constitute(
    *, actor: Any, council: Council, seats: list[MemberSpec]
) -> list[CouncilMember]:
    """Seat a whole council at once (an election or re-election): the previous members
    leave and the new set must satisfy every composition rule as a whole."""
    if not manages(actor, council):
        raise PermissionDenied()
    for spec in seats:
        _validate_spec(council, spec)
    ids = [s.resident.pk for s in seats if s.resident is not None]
    if len(ids) != len(set(ids)):
        raise ValidationFailed(_("同一位居民不能重复入选。"))
    # Residents from forms come without their household loaded; the rules need tenure.
    loaded = {r.pk: r for r in Resident.objects.select_related("household").filter(pk__in=ids)}
    seats = [
        MemberSpec(loaded[s.resident.pk], s.name, s.organisation, s.member_type, s.position)
        if s.resident is not None
        else s
        for s in seats
    ]
    with transaction.atomic():
        council = Council.objects.select_for_update().get(pk=council.pk)
        _enforce_composition(council, list(seats))
        today = timezone.localdate()
        CouncilMember.objects.filter(council=council, is_active=True).update(
            is_active=False, left_on=today
        )
        created = [
            CouncilMember.objects.create(
                council=council,
                member_type=s.member_type,
                resident=s.resident,
                name=s.name.strip(),
                organisation=s.organisation,
                position=s.position,
                joined_on=today,
            )
            for s in seats
        ]
        audit.record(
            actor=actor,
            action="deliberation.council_constitute",
            target=council,
            community_id=council.community_id,
            payload={"members": [_seat_payload(s) for s in seats]},
        )
    return created


def council_member_add(*, actor: Any, council: Council, spec: MemberSpec) -> CouncilMember:
    if not manages(actor, council):
        raise PermissionDenied()
    _validate_spec(council, spec)
    if spec.resident is not None:
        spec = MemberSpec(
            Resident.objects.select_related("household").get(pk=spec.resident.pk),
            spec.name,
            spec.organisation,
            spec.member_type,
            spec.position,
        )
    with transaction.atomic():
        council = Council.objects.select_for_update().get(pk=council.pk)
        seats: list[CouncilMember | MemberSpec] = list(_active_seats(council))
        if spec.resident is not None and any(
            s.resident is not None and s.resident.pk == spec.resident.pk for s in seats
        ):
            raise Conflict(_("该居民已是成员。"))
        _enforce_composition(council, [*seats, spec])
        member = CouncilMember.objects.create(
            council=council,
            member_type=spec.member_type,
            resident=spec.resident,
            name=spec.name.strip(),
            organisation=spec.organisation,
            position=spec.position,
            joined_on=timezone.localdate(),
        )
        audit.record(
            actor=actor,
            action="deliberation.member_add",
            target=member,
            community_id=council.community_id,
            payload=_seat_payload(spec),
        )
    return member


def council_member_remove(*, actor: Any, member: CouncilMember, reason: str) -> CouncilMember:
    council = member.council
    if not manages(actor, council):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed(_("成员离任必须说明理由。"), field="reason")
    with transaction.atomic():
        council = Council.objects.select_for_update().get(pk=council.pk)
        seats = _active_seats(council)
        if member.pk not in {s.pk for s in seats}:
            raise Conflict(_("该成员已离任。"))
        _enforce_composition(council, [s for s in seats if s.pk != member.pk])
        CouncilMember.objects.filter(pk=member.pk).update(
            is_active=False, left_on=timezone.localdate()
        )
        audit.record(
            actor=actor,
            action="deliberation.member_remove",
            target=member,
            community_id=council.community_id,
            payload={"reason": reason.strip(), **_seat_payload(member)},
        )
    member.refresh_from_db()
    return member


def council_member_replace(
    *, actor: Any, member: CouncilMember, spec: MemberSpec, reason: str
) -> CouncilMember:
    """One member leaves and another joins as a single change (by-election), so a
    swap that keeps the council valid is never refused for a transient state."""
    council = member.council
    if not manages(actor, council):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed(_("成员变更必须说明理由。"), field="reason")
    _validate_spec(council, spec)
    if spec.resident is not None:
        spec = MemberSpec(
            Resident.objects.select_related("household").get(pk=spec.resident.pk),
            spec.name,
            spec.organisation,
            spec.member_type,
            spec.position,
        )
    with transaction.atomic():
        council = Council.objects.select_for_update().get(pk=council.pk)
        seats = _active_seats(council)
        if member.pk not in {s.pk for s in seats}:
            raise Conflict(_("该成员已离任。"))
        rest: list[CouncilMember | MemberSpec] = [s for s in seats if s.pk != member.pk]
        if spec.resident is not None and any(
            s.resident is not None and s.resident.pk == spec.resident.pk for s in rest
        ):
            raise Conflict(_("该居民已是成员。"))
        _enforce_composition(council, [*rest, spec])
        today = timezone.localdate()
        CouncilMember.objects.filter(pk=member.pk).update(is_active=False, left_on=today)
        new = CouncilMember.objects.create(
            council=council,
            member_type=spec.member_type,
            resident=spec.resident,
            name=spec.name.strip(),
            organisation=spec.organisation,
            position=spec.position,
            joined_on=today,
        )
        audit.record(
            actor=actor,
            action="deliberation.member_replace",
            target=new,
            community_id=council.community_id,
            payload={
                "reason": reason.strip(),
                "out": _seat_payload(member),
                "in": _seat_payload(spec),
            },
        )
    return new


# ---------------------------------------------------------------------------
# Topics: the five steps as one explicit transition table


@dataclass(frozen=True)
class Transition:
    label: str
    reason_required: bool = False
    # Extra precondition; raises a DomainError naming what is missing.
    guard: Callable[[Topic], None] | None = None


def _guard_reviewed(topic: Topic) -> None:
    notes = list(topic.review_notes.all())
    missing = [
        label
        for aspect, label in ReviewNote.Aspect.choices
        if aspect != ReviewNote.Aspect.OTHER and not any(n.aspect == aspect for n in notes)
    ]
    if missing:
        raise InvalidTransition(
            _("审议尚未完成：还缺少%(m)s方面的审议意见。")
            % {"m": "、".join(str(m) for m in missing)}
        )
    if any(n.conclusion == ReviewNote.Conclusion.NOT_OK for n in notes):
        raise InvalidTransition(_("有审议意见为“不通过”，不能进入决议；请退回商议或不予采纳。"))


def _guard_vote_closed(topic: Topic) -> None:
    if topic.ballot_id is None:
        raise InvalidTransition(_("决议尚未发起表决，不能公示。"))
    if topic.ballot is None or not voting_bridge.is_closed(topic.ballot):
        raise InvalidTransition(_("表决尚未结束，结束后才能公示结果。"))


def _guard_window_over(topic: Topic) -> None:
    if topic.objections_until is None or timezone.now() < topic.objections_until:
        raise InvalidTransition(_("公示异议期尚未结束，不能办结。"))
    if topic.objections.filter(responded_at__isnull=True).exists():
        raise InvalidTransition(_("还有未答复的异议，答复后才能办结。"))


# The only allowed moves. Anything else (e.g. 提议 → 决议) is refused: no skipping.
TRANSITIONS: dict[tuple[str, str], Transition] = {
    (Step.PROPOSED, Step.DISCUSSING): Transition(_("受理，进入商议")),
    (Step.PROPOSED, Step.REJECTED): Transition(_("不予受理"), reason_required=True),
    (Step.DISCUSSING, Step.REVIEWING): Transition(_("商议结束，提交审议")),
    (Step.REVIEWING, Step.DISCUSSING): Transition(_("退回商议"), reason_required=True),
    (Step.REVIEWING, Step.REJECTED): Transition(_("审议不通过"), reason_required=True),
    (Step.REVIEWING, Step.RESOLVING): Transition(_("审议通过，发起表决"), guard=_guard_reviewed),
    (Step.RESOLVING, Step.PUBLICISED): Transition(_("公示结果"), guard=_guard_vote_closed),
    (Step.PUBLICISED, Step.REVIEWING): Transition(_("异议成立，重新审议"), reason_required=True),
    (Step.PUBLICISED, Step.CLOSED): Transition(_("公示期满，办结"), guard=_guard_window_over),
}


def allowed_next(step: str) -> list[tuple[str, Transition]]:
    return [(to, t) for (frm, to), t in TRANSITIONS.items() if frm == step]


def require_transition(topic: Topic, to: str) -> Transition:
    """The table row for moving ``topic`` to ``to``; refuses any move not in the table."""
    transition = TRANSITIONS.get((topic.step, to))
    if transition is None:
        labels = dict(Step.choices)
        options = "、".join(str(labels[t]) for t, _t in allowed_next(topic.step)) or _("无")
        raise InvalidTransition(
            _("议题不能从「%(a)s」直接到「%(b)s」，不能跳过步骤；当前可以进入：%(o)s。")
            % {"a": labels.get(topic.step, topic.step), "b": labels.get(to, to), "o": options}
        )
    return transition


def _move(*, actor: Any, topic: Topic, to: str, reason: str = "", **changes: Any) -> Topic:
    """Apply one row of TRANSITIONS. Precondition: inside transaction.atomic with the
    topic locked; the caller has checked permission."""
    transition = require_transition(topic, to)
    reason = reason.strip()
    if transition.reason_required and not reason:
        raise ValidationFailed(
            _("「%(t)s」必须填写理由。") % {"t": transition.label}, field="reason"
        )
    if transition.guard is not None:
        transition.guard(topic)
    frm = topic.step
    now = timezone.now()
    topic.step = to
    for k, v in changes.items():
        setattr(topic, k, v)
    topic.save()
    TopicTransition.objects.create(
        topic=topic, from_step=frm, to_step=to, actor=actor, at=now, reason=reason
    )
    audit.record(
        actor=actor,
        action="deliberation.topic_transition",
        target=topic,
        community_id=topic.community_id,
        payload={"from": frm, "to": to, "reason": reason},
    )
    return topic


def _locked(topic: Topic) -> Topic:
    return Topic.objects.select_for_update().select_related("community").get(pk=topic.pk)


def topic_propose(
    *,
    actor: Any,
    community: OrgUnit,
    title: str,
    description: str,
    source: str = Topic.Source.RESIDENT,
    source_ref: str = "",
) -> Topic:
    """议题征集: a resident proposes; staff also record topics from 微心愿 wishes and
    from frequent-request analysis (SPEC §10)."""
    if not can_propose(actor, community):
        raise PermissionDenied(_("只有本社区居民或社区工作人员可以提出议题。"))
    title, description = title.strip(), description.strip()
    if not 4 <= len(title) <= 120:
        raise ValidationFailed(_("议题标题应为4–120字。"), field="title")
    if len(description) < 10:
        raise ValidationFailed(_("请用至少10个字说明议题的背景和建议。"), field="description")
    if source not in Topic.Source.values:
        raise ValidationFailed(_("未知的议题来源。"), field="source")
    if source != Topic.Source.RESIDENT and not manages(actor, community):
        raise PermissionDenied(_("只有社区工作人员可以登记此来源的议题。"))
    with transaction.atomic():
        topic = Topic.objects.create(
            community=community,
            title=title,
            description=description,
            source=source,
            source_ref=source_ref.strip(),
            proposer=actor,
        )
        audit.record(
            actor=actor,
            action="deliberation.topic_propose",
            target=topic,
            community_id=community.pk,
            payload={"title": title, "source": source},
        )
    return topic


def topic_transition(*, actor: Any, topic: Topic, to: str, reason: str = "") -> Topic:
    """Move a topic along the table (the moves that need no extra input)."""
    if to in (Step.RESOLVING, Step.PUBLICISED):
        # These moves carry data (the ballot; the minutes), see their own services.
        raise InvalidTransition(_("请使用“发起表决”或“公示结果”完成此步骤。"))
    if not can_manage(actor, topic):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以推进议题。"))
    with transaction.atomic():
        locked = _locked(topic)
        _move(actor=actor, topic=locked, to=to, reason=reason)
    topic.refresh_from_db()
    return topic


def topic_accept(*, actor: Any, topic: Topic) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.DISCUSSING)


def topic_reject(*, actor: Any, topic: Topic, reason: str) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.REJECTED, reason=reason)


def topic_submit_for_review(*, actor: Any, topic: Topic) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.REVIEWING)


def topic_send_back(*, actor: Any, topic: Topic, reason: str) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.DISCUSSING, reason=reason)


def topic_close(*, actor: Any, topic: Topic) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.CLOSED)


def topic_reopen(*, actor: Any, topic: Topic, reason: str) -> Topic:
    return topic_transition(actor=actor, topic=topic, to=Step.REVIEWING, reason=reason)


def topic_open_vote(
    *,
    actor: Any,
    topic: Topic,
    opens_at: datetime,
    closes_at: datetime,
    eligibility: str = "council",
    secret: bool = False,
) -> Topic:
    """审议 → 决议: open the ballot in the voting app and link it to the topic.

    A council vote (``eligibility="council"``) lets the current council members vote
    and needs ≥ 2/3 of members; a community-wide vote uses the 20 % online-participation
    rule (杭州规则). The ballot is created in the same transaction as the move.
    """
    if not can_manage(actor, topic):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以发起表决。"))
    if closes_at <= opens_at:
        raise ValidationFailed(_("表决截止时间必须晚于开始时间。"), field="closes_at")
    if closes_at <= timezone.now():
        raise ValidationFailed(_("表决截止时间必须在将来。"), field="closes_at")
    with transaction.atomic():
        locked = _locked(topic)
        # Checked before creating the ballot so a refused move leaves nothing behind.
        require_transition(locked, Step.RESOLVING)
        _guard_reviewed(locked)
        voter_ids: list[int] | None = None
        if eligibility == "council":
            council = Council.objects.filter(
                community_id=locked.community_id, kind=Council.Kind.COUNCIL
            ).first()
            voter_ids = (
                list(
                    CouncilMember.objects.filter(
                        council=council, is_active=True, resident__isnull=False
                    ).values_list("resident_id", flat=True)
                )
                if council
                else []
            )
            if not voter_ids:
                raise ValidationFailed(_("本社区议事会还没有成员，不能发起议事会表决。"))
        ballot = voting_bridge.open_ballot(
            actor=actor,
            topic=locked,
            eligibility=eligibility,
            voter_resident_ids=voter_ids,
            opens_at=opens_at,
            closes_at=closes_at,
            secret=secret,
        )
        _move(actor=actor, topic=locked, to=Step.RESOLVING, ballot=ballot)
    topic.refresh_from_db()
    return topic


def topic_publicise(*, actor: Any, topic: Topic, minutes: str) -> Topic:
    """决议 → 公示: publish the result (computed by the voting app) and the minutes,
    open the objections window, and publish a result notice to the community."""
    if not can_manage(actor, topic):
        raise PermissionDenied(_("只有本社区的社区工作者或书记可以公示结果。"))
    minutes = minutes.strip()
    if not minutes:
        raise ValidationFailed(_("公示必须附会议纪要。"), field="minutes")
    cfg = settings_for(topic.community_id)
    with transaction.atomic():
        locked = _locked(topic)
        if locked.step == Step.RESOLVING:
            _guard_vote_closed(locked)
            assert locked.ballot is not None  # guaranteed by _guard_vote_closed
            outcome = voting_bridge.outcome(viewer=actor, ballot=locked.ballot)
        else:
            outcome = None
        now = timezone.now()
        _move(
            actor=actor,
            topic=locked,
            to=Step.PUBLICISED,
            minutes=minutes,
            result_text=outcome.explanation if outcome else "",
            result_passed=outcome.passed if outcome else None,
            published_at=now,
            objections_until=now + timedelta(days=cfg.objection_days),
        )
        verdict = _("通过") if locked.result_passed else _("未通过")
        notice = notice_create(
            actor=actor,
            community=locked.community,
            title=_("议题决议公示：%(t)s") % {"t": locked.title},
            summary=_("议题“%(t)s”表决%(v)s。如有异议，请在%(d)s前通过议事厅提出。")
            % {
                "t": locked.title,
                "v": verdict,
                "d": timezone.localtime(locked.objections_until).strftime("%Y-%m-%d %H:%M"),
            },
            body=f"{locked.result_text}\n\n{_('会议纪要')}：\n{minutes}",
            channels=[Channel.WEB, Channel.INAPP, Channel.POSTER],
            kind=Notice.Kind.RESULT,
            source_type="deliberation.topic",
            source_id=str(locked.pk),
        )
        notice_publish(actor=actor, notice=notice)
    topic.refresh_from_db()
    return topic


def topic_comment(*, actor: Any, topic: Topic, body: str) -> TopicComment:
    """商议: online discussion, open only while the topic is in 商议."""
    if topic.step != Step.DISCUSSING:
        raise InvalidTransition(_("只有在“商议”阶段才能发表意见。"))
    if not can_comment(actor, topic):
        raise PermissionDenied(_("只有本社区居民可以参与商议。"))
    body = body.strip()
    if not 2 <= len(body) <= 1000:
        raise ValidationFailed(_("意见应为2–1000字。"), field="body")
    from linli.accounts.scope import scope_of

    with transaction.atomic():
        locked = _locked(topic)
        if locked.step != Step.DISCUSSING:
            raise InvalidTransition(_("只有在“商议”阶段才能发表意见。"))
        comment = TopicComment.objects.create(
            topic=locked, author=actor, resident_id=scope_of(actor).resident_id, body=body
        )
        audit.record(
            actor=actor,
            action="deliberation.comment",
            target=comment,
            community_id=locked.community_id,
            payload={"topic": locked.pk, "length": len(body)},
        )
    return comment


def review_note_add(
    *, actor: Any, topic: Topic, aspect: str, conclusion: str, body: str
) -> ReviewNote:
    """审议: the council checks feasibility, budget and law."""
    if topic.step != Step.REVIEWING:
        raise InvalidTransition(_("只有在“审议”阶段才能填写审议意见。"))
    if not can_review(actor, topic):
        raise PermissionDenied(_("只有议事会成员或社区工作人员可以审议。"))
    if aspect not in ReviewNote.Aspect.values:
        raise ValidationFailed(_("未知的审议方面。"), field="aspect")
    if conclusion not in ReviewNote.Conclusion.values:
        raise ValidationFailed(_("未知的审议结论。"), field="conclusion")
    body = body.strip()
    if len(body) < 4:
        raise ValidationFailed(_("请写明审议意见。"), field="body")
    with transaction.atomic():
        locked = _locked(topic)
        if locked.step != Step.REVIEWING:
            raise InvalidTransition(_("只有在“审议”阶段才能填写审议意见。"))
        note = ReviewNote.objects.create(
            topic=locked, author=actor, aspect=aspect, conclusion=conclusion, body=body
        )
        audit.record(
            actor=actor,
            action="deliberation.review_note",
            target=note,
            community_id=locked.community_id,
            payload={"topic": locked.pk, "aspect": aspect, "conclusion": conclusion, "body": body},
        )
    return note


def objection_file(*, actor: Any, topic: Topic, body: str) -> Objection:
    if topic.step != Step.PUBLICISED:
        raise InvalidTransition(_("只有在公示期内才能提出异议。"))
    if not can_object(actor, topic):
        raise PermissionDenied(_("公示异议期已结束，或您不是本社区居民。"))
    body = body.strip()
    if not 4 <= len(body) <= 1000:
        raise ValidationFailed(_("异议内容应为4–1000字。"), field="body")
    with transaction.atomic():
        # Re-check under the row lock, as comments and review notes do: the topic may
        # have been closed, or its window ended, since the caller loaded it.
        locked = _locked(topic)
        if not can_object(actor, locked):
            raise InvalidTransition(_("只有在公示期内才能提出异议。"))
        obj = Objection.objects.create(topic=locked, author=actor, body=body)
        audit.record(
            actor=actor,
            action="deliberation.objection",
            target=obj,
            community_id=locked.community_id,
            payload={"topic": locked.pk, "body": body},
        )
    return obj


def objection_answer(*, actor: Any, objection: Objection, response: str) -> Objection:
    if not can_manage(actor, objection.topic):
        raise PermissionDenied()
    response = response.strip()
    if not response:
        raise ValidationFailed(_("请填写答复。"), field="response")
    with transaction.atomic():
        obj = Objection.objects.select_for_update().get(pk=objection.pk)
        if obj.responded_at is not None:
            raise Conflict(_("该异议已答复。"))
        obj.response = response
        obj.responded_at = timezone.now()
        obj.save(update_fields=["response", "responded_at", "updated_at"])
        audit.record(
            actor=actor,
            action="deliberation.objection_answer",
            target=obj,
            community_id=obj.topic.community_id,
            payload={"response": response},
        )
    return obj


# ---------------------------------------------------------------------------
# Meetings


def _aware(dt: datetime) -> datetime:
    return dt if timezone.is_aware(dt) else dt.replace(tzinfo=LOCAL_TZ)


def meeting_schedule(
    *,
    actor: Any,
    council: Council,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    mode: str = MeetingMode.IN_PERSON,
    location: str = "",
    online_url: str = "",
) -> Meeting:
    """Evening, weekend and online meetings are all allowed (居民下班后也能参加)."""
    if not can_manage(actor, council):
        raise PermissionDenied()
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if not title.strip():
        raise ValidationFailed(_("请填写会议名称。"), field="title")
    if ends_at <= starts_at:
        raise ValidationFailed(_("结束时间必须晚于开始时间。"), field="ends_at")
    if starts_at <= timezone.now():
        raise ValidationFailed(_("会议时间必须在将来。"), field="starts_at")
    if mode not in MeetingMode.values:
        raise ValidationFailed(_("未知的会议形式。"), field="mode")
    if mode in (MeetingMode.ONLINE, MeetingMode.HYBRID) and not online_url.strip():
        raise ValidationFailed(_("线上会议必须提供会议链接。"), field="online_url")
    if mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID) and not location.strip():
        raise ValidationFailed(_("线下会议必须填写地点。"), field="location")
    with transaction.atomic():
        meeting = Meeting.objects.create(
            community_id=council.community_id,
            council=council,
            title=title.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            mode=mode,
            location=location.strip(),
            online_url=online_url.strip(),
        )
        audit.record(
            actor=actor,
            action="deliberation.meeting_schedule",
            target=meeting,
            community_id=council.community_id,
            payload={"title": meeting.title, "starts_at": starts_at.isoformat(), "mode": mode},
        )
    return meeting


def meeting_series_create(
    *,
    actor: Any,
    council: Council,
    title: str,
    weekday: int,
    start_time: time,
    duration_minutes: int = 90,
    mode: str = MeetingMode.IN_PERSON,
    location: str = "",
    online_url: str = "",
) -> MeetingSeries:
    if not can_manage(actor, council):
        raise PermissionDenied()
    if not 0 <= weekday <= 6:
        raise ValidationFailed(_("星期必须在周一到周日之间。"), field="weekday")
    if not 15 <= duration_minutes <= 480:
        raise ValidationFailed(_("会议时长应在15分钟到8小时之间。"), field="duration_minutes")
    if mode not in MeetingMode.values:
        raise ValidationFailed(_("未知的会议形式。"), field="mode")
    with transaction.atomic():
        series = MeetingSeries.objects.create(
            community_id=council.community_id,
            council=council,
            title=title.strip() or _("周三议事日"),
            weekday=weekday,
            start_time=start_time,
            duration_minutes=duration_minutes,
            mode=mode,
            location=location.strip(),
            online_url=online_url.strip(),
        )
        audit.record(
            actor=actor,
            action="deliberation.series_create",
            target=series,
            community_id=council.community_id,
            payload={"weekday": weekday, "start": start_time.isoformat(), "title": series.title},
        )
    return series


def meeting_series_generate(
    *, actor: Any, series: MeetingSeries, until: date, start: date | None = None
) -> list[Meeting]:
    """Create the occurrences of a recurring meeting up to ``until`` (inclusive).

    Idempotent (a unique constraint on series + start time); public holidays are
    skipped because nobody comes to a 周三议事日 on 国庆节.
    """
    if not can_manage(actor, series.council):
        raise PermissionDenied()
    first = start or timezone.localdate() + timedelta(days=1)
    if until < first:
        raise ValidationFailed(_("截止日期必须晚于开始日期。"), field="until")
    if (until - first).days > 366:
        raise ValidationFailed(_("一次最多生成一年的例会。"), field="until")
    cal = WorkCalendar()
    d = first + timedelta(days=(series.weekday - first.weekday()) % 7)
    wanted: list[datetime] = []
    while d <= until:
        if d not in cal.holidays:
            wanted.append(datetime.combine(d, series.start_time, tzinfo=LOCAL_TZ))
        d += timedelta(days=7)
    now = timezone.now()
    with transaction.atomic():
        existing = set(
            Meeting.objects.filter(series=series, starts_at__in=wanted).values_list(
                "starts_at", flat=True
            )
        )
        new = [
            Meeting(
                community_id=series.community_id,
                council_id=series.council_id,
                series=series,
                title=f"{series.title}（{s.astimezone(LOCAL_TZ):%m月%d日}）",
                starts_at=s,
                ends_at=s + timedelta(minutes=series.duration_minutes),
                mode=series.mode,
                location=series.location,
                online_url=series.online_url,
            )
            for s in wanted
            if s not in existing and s > now
        ]
        Meeting.objects.bulk_create(new)
        audit.record(
            actor=actor,
            action="deliberation.series_generate",
            target=series,
            community_id=series.community_id,
            payload={"count": len(new), "until": until.isoformat()},
        )
    return list(
        Meeting.objects.filter(series=series, starts_at__in=[m.starts_at for m in new]).order_by(
            "starts_at"
        )
    )


def _days_left(meeting: Meeting, at: datetime) -> str:
    delta = meeting.starts_at - at
    hours = max(0, int(delta.total_seconds() // 3600))
    return _("%(d)s天%(h)s小时") % {"d": hours // 24, "h": hours % 24}


def agenda_add(*, actor: Any, meeting: Meeting, topic: Topic) -> AgendaItem:
    """议题预告制: the agenda is fixed at least ``materials_days`` before the meeting."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    if topic.community_id != meeting.community_id:
        raise ValidationFailed(_("只能把本社区的议题列入议程。"), field="topic")
    if topic.step not in (Step.DISCUSSING, Step.REVIEWING, Step.RESOLVING):
        raise ValidationFailed(_("只有处于商议、审议或决议阶段的议题可以上会。"), field="topic")
    cfg = settings_for(meeting.community_id)
    now = timezone.now()
    if meeting.status != Meeting.Status.SCHEDULED:
        raise InvalidTransition(_("会议已结束或已取消，不能调整议程。"))
    if meeting.starts_at - now < timedelta(days=cfg.materials_days):
        raise ValidationFailed(
            _("议题预告制：议题须在会前%(n)s天确定并公布，距开会仅剩%(left)s，请列入下次会议。")
            % {"n": cfg.materials_days, "left": _days_left(meeting, now)},
            code="agenda_too_late",
        )
    with transaction.atomic():
        if AgendaItem.objects.filter(meeting=meeting, topic=topic).exists():
            raise Conflict(_("该议题已在议程中。"))
        order = AgendaItem.objects.filter(meeting=meeting).count() + 1
        item = AgendaItem.objects.create(meeting=meeting, topic=topic, order=order)
        audit.record(
            actor=actor,
            action="deliberation.agenda_add",
            target=meeting,
            community_id=meeting.community_id,
            payload={"topic": topic.pk, "order": order},
        )
    return item


def meeting_publish_materials(*, actor: Any, meeting: Meeting, materials: str) -> Meeting:
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    materials = materials.strip()
    if not materials:
        raise ValidationFailed(_("请填写会议材料。"), field="materials")
    cfg = settings_for(meeting.community_id)
    now = timezone.now()
    if meeting.starts_at - now < timedelta(days=cfg.materials_days):
        raise ValidationFailed(
            _("议题预告制：会议材料须在会前%(n)s天公布，距开会仅剩%(left)s。")
            % {"n": cfg.materials_days, "left": _days_left(meeting, now)},
            code="materials_too_late",
        )
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if not locked.agenda.exists():
            raise ValidationFailed(_("请先确定议程，再公布材料。"))
        locked.materials = materials
        locked.materials_published_at = now
        locked.save(update_fields=["materials", "materials_published_at", "updated_at"])
        audit.record(
            actor=actor,
            action="deliberation.materials_publish",
            target=locked,
            community_id=locked.community_id,
            payload={"length": len(materials)},
        )
    meeting.refresh_from_db()
    return meeting


def meeting_issue_notice(
    *,
    actor: Any,
    meeting: Meeting,
    channels: Iterable[str] = (Channel.WEB, Channel.INAPP, Channel.POSTER),
    publish_at: datetime | None = None,
    extra: str = "",
) -> Notice:
    """The meeting notice: at least ``notice_days`` ahead, online AND offline (the A4
    poster for the notice boards is the offline channel). It is an ordinary notice to
    the whole community, since residents may attend as observers."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    chosen = list(dict.fromkeys(channels))
    from linli.notices.models import OFFLINE_CHANNELS, ONLINE_CHANNELS

    if not set(chosen) & ONLINE_CHANNELS or not set(chosen) & OFFLINE_CHANNELS:
        raise ValidationFailed(
            _("会议通知必须同时通过线上（网页/站内/短信/微信）和线下（公告栏张贴）渠道发布。"),
            field="channels",
        )
    cfg = settings_for(meeting.community_id)
    when = _aware(publish_at) if publish_at else timezone.now()
    if meeting.starts_at - when < timedelta(days=cfg.notice_days):
        raise ValidationFailed(
            _("会议通知须至少提前%(n)s天发布：发布时间距开会仅%(left)s。请改期或另定会议时间。")
            % {"n": cfg.notice_days, "left": _days_left(meeting, when)},
            code="notice_too_late",
            field="publish_at",
        )
    agenda = [a.topic.title for a in meeting.agenda.select_related("topic")]
    local = timezone.localtime(meeting.starts_at)
    place = meeting.location or ""
    if meeting.mode != MeetingMode.IN_PERSON:
        place = f"{place} {_('线上链接')}：{meeting.online_url}".strip()
    body_lines = [
        _("时间：%(t)s") % {"t": local.strftime("%Y年%m月%d日 %H:%M")},
        _("地点：%(p)s") % {"p": place},
        _("形式：%(m)s") % {"m": meeting.get_mode_display()},
        _("议程：") + ("；".join(f"{i + 1}. {t}" for i, t in enumerate(agenda)) or _("待定")),
    ]
    if extra.strip():
        body_lines.append(extra.strip())
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.notice_id is not None:
            raise Conflict(_("该会议已发布通知。"))
        if locked.status != Meeting.Status.SCHEDULED:
            raise InvalidTransition(_("会议已结束或已取消。"))
        notice = notice_create(
            actor=actor,
            community=locked.community,
            title=_("会议通知：%(t)s") % {"t": locked.title},
            summary=_("%(t)s在%(p)s召开，欢迎居民旁听、提前留言。")
            % {"t": local.strftime("%m月%d日 %H:%M"), "p": place or _("线上")},
            body="\n".join(body_lines),
            channels=chosen,
            kind=Notice.Kind.MEETING,
            source_type="deliberation.meeting",
            source_id=str(locked.pk),
        )
        notice_publish(actor=actor, notice=notice, publish_at=when)
        locked.notice = notice
        locked.save(update_fields=["notice", "updated_at"])
        audit.record(
            actor=actor,
            action="deliberation.meeting_notice",
            target=locked,
            community_id=locked.community_id,
            payload={"notice": notice.pk, "publish_at": when.isoformat(), "channels": chosen},
        )
    meeting.refresh_from_db()
    return notice


@dataclass(frozen=True)
class AttendanceEntry:
    member_id: int
    mode: str
    proxy_name: str = ""


def meeting_record_attendance(
    *, actor: Any, meeting: Meeting, entries: list[AttendanceEntry]
) -> list[Attendance]:
    """Sign-in sheet: in person, online, by written proxy (委托), or absent."""
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    if meeting.status != Meeting.Status.SCHEDULED:
        raise InvalidTransition(_("会议已结束或已取消，不能再登记出席。"))
    members = {
        m.pk: m for m in CouncilMember.objects.filter(council_id=meeting.council_id, is_active=True)
    }
    for e in entries:
        if e.member_id not in members:
            raise ValidationFailed(_("出席名单中有非本会现任成员。"))
        if e.mode not in Attendance.Mode.values:
            raise ValidationFailed(_("未知的出席方式。"))
        if e.mode == Attendance.Mode.PROXY and not e.proxy_name.strip():
            raise ValidationFailed(
                _("委托出席必须写明受托人：%(n)s") % {"n": members[e.member_id].display_name}
            )
    with transaction.atomic():
        out = []
        for e in entries:
            row, _created = Attendance.objects.update_or_create(
                meeting=meeting,
                member_id=e.member_id,
                defaults={"mode": e.mode, "proxy_name": e.proxy_name.strip()},
            )
            out.append(row)
        audit.record(
            actor=actor,
            action="deliberation.attendance",
            target=meeting,
            community_id=meeting.community_id,
            payload={"entries": [[e.member_id, e.mode, e.proxy_name] for e in entries]},
        )
    return out


def meeting_conclude(*, actor: Any, meeting: Meeting, minutes: str = "") -> Meeting:
    """Close the meeting: held if present members reach the quorum (exact fraction,
    inclusive), otherwise recorded as not convened (feeds 议事会召开成功率).

    Proxy attendance counts as present: the member's written mandate is how they take
    part when they cannot come (as in most 议事规则).
    """
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    cfg = settings_for(meeting.community_id)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status != Meeting.Status.SCHEDULED:
            raise InvalidTransition(_("会议已结束或已取消。"))
        if locked.starts_at > timezone.now():
            raise InvalidTransition(_("会议尚未开始，不能结束会议。"))
        total = CouncilMember.objects.filter(council_id=locked.council_id, is_active=True).count()
        present = (
            Attendance.objects.filter(meeting=locked, member__is_active=True)
            .exclude(mode=Attendance.Mode.ABSENT)
            .count()
        )
        quorate = total > 0 and present * cfg.quorum_denominator >= total * cfg.quorum_numerator
        if quorate and not minutes.strip():
            raise ValidationFailed(_("会议已达法定人数，请填写会议纪要。"), field="minutes")
        locked.status = Meeting.Status.HELD if quorate else Meeting.Status.NOT_CONVENED
        locked.minutes = minutes.strip()
        locked.members_total = total
        locked.members_present = present
        locked.concluded_at = timezone.now()
        locked.save()
        audit.record(
            actor=actor,
            action="deliberation.meeting_conclude",
            target=locked,
            community_id=locked.community_id,
            payload={
                "status": locked.status,
                "present": present,
                "total": total,
                "quorum": f"{cfg.quorum_numerator}/{cfg.quorum_denominator}",
            },
        )
    meeting.refresh_from_db()
    return meeting


def meeting_cancel(*, actor: Any, meeting: Meeting, reason: str) -> Meeting:
    if not can_manage(actor, meeting):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed(_("取消会议必须说明理由。"), field="reason")
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status != Meeting.Status.SCHEDULED:
            raise InvalidTransition(_("会议已结束或已取消。"))
        locked.status = Meeting.Status.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="deliberation.meeting_cancel",
            target=locked,
            community_id=locked.community_id,
            payload={"reason": reason.strip()},
        )
    meeting.refresh_from_db()
    return meeting


# ---------------------------------------------------------------------------
# Certified deliberators 社区议事员


def deliberator_enrol(*, actor: Any, resident: Resident) -> Deliberator:
    community = resident.community
    if not manages(actor, community):
        raise PermissionDenied()
    with transaction.atomic():
        if Deliberator.objects.filter(resident=resident).exists():
            raise Conflict(_("该居民已在议事员培养名单中。"))
        d = Deliberator.objects.create(community=community, resident=resident)
        audit.record(
            actor=actor,
            action="deliberation.deliberator_enrol",
            target=d,
            community_id=community.pk,
            payload={"resident": resident.pk},
        )
    return d


def deliberator_record_activity(
    *,
    actor: Any,
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
    with transaction.atomic():
        if (
            meeting is not None
            and DeliberatorActivity.objects.filter(
                deliberator=deliberator, meeting=meeting
            ).exists()
        ):
            raise Conflict(_("这次会议已记录过。"))
        act = DeliberatorActivity.objects.create(
            deliberator=deliberator, kind=kind, on=on, note=note.strip(), meeting=meeting
        )
        audit.record(
            actor=actor,
            action="deliberation.deliberator_activity",
            target=deliberator,
            community_id=deliberator.community_id,
            payload={
                "kind": kind,
                "on": on.isoformat(),
                "meeting": meeting.pk if meeting else None,
            },
        )
    return act


def deliberator_certify(*, actor: Any, deliberator: Deliberator) -> Deliberator:
    """Certification needs at least one training and the configured number (2) of
    practice meetings; certified deliberators get priority to speak."""
    if not manages(actor, deliberator.community):
        raise PermissionDenied()
    cfg = settings_for(deliberator.community_id)
    with transaction.atomic():
        d = Deliberator.objects.select_for_update().get(pk=deliberator.pk)
        if d.certified_at is not None:
            raise Conflict(_("该居民已是认证议事员。"))
        trainings = d.activities.filter(kind=DeliberatorActivity.Kind.TRAINING).count()
        practice = d.activities.filter(kind=DeliberatorActivity.Kind.PRACTICE).count()
        if trainings < 1 or practice < cfg.practice_meetings_required:
            raise ValidationFailed(
                _("认证条件未满足：培训%(t)s次（需至少1次），实践会议%(p)s次（需至少%(n)s次）。")
                % {"t": trainings, "p": practice, "n": cfg.practice_meetings_required},
                code="certification_incomplete",
            )
        d.certified_at = timezone.now()
        d.certified_by = actor
        d.save(update_fields=["certified_at", "certified_by", "updated_at"])
        audit.record(
            actor=actor,
            action="deliberation.deliberator_certify",
            target=d,
            community_id=d.community_id,
            payload={"trainings": trainings, "practice": practice},
        )
    deliberator.refresh_from_db()
    return deliberator


def skill_assess(
    *, actor: Any, deliberator: Deliberator, score: int, on: date, note: str = ""
) -> SkillAssessment:
    if not manages(actor, deliberator.community):
        raise PermissionDenied()
    if not isinstance(score, int) or not 1 <= score <= 10:
        raise ValidationFailed(_("议事能力评分必须是1到10之间的整数。"), field="score")
    if on > timezone.localdate():
        raise ValidationFailed(_("评估日期不能在将来。"), field="on")
    with transaction.atomic():
        a = SkillAssessment.objects.create(
            deliberator=deliberator, score=score, assessed_on=on, assessor=actor, note=note.strip()
        )
        audit.record(
            actor=actor,
            action="deliberation.skill_assess",
            target=deliberator,
            community_id=deliberator.community_id,
            payload={"score": score, "on": on.isoformat()},
        )
    return a


# ---------------------------------------------------------------------------
# Resolutions → action items, supervised monthly


def action_item_create(
    *,
    actor: Any,
    topic: Topic,
    title: str,
    owner_name: str,
    deadline: date,
    owner_user: Any = None,
) -> ActionItem:
    if not can_manage(actor, topic):
        raise PermissionDenied()
    if topic.step not in (Step.PUBLICISED, Step.CLOSED) or not topic.result_passed:
        raise InvalidTransition(_("只有已通过并公示的决议才能分解为落实事项。"))
    if not title.strip() or not owner_name.strip():
        raise ValidationFailed(_("请填写事项和责任人。"))
    if deadline < timezone.localdate():
        raise ValidationFailed(_("完成期限不能早于今天。"), field="deadline")
    with transaction.atomic():
        item = ActionItem.objects.create(
            community_id=topic.community_id,
            topic=topic,
            title=title.strip(),
            owner_name=owner_name.strip(),
            owner_user=owner_user,
            deadline=deadline,
        )
        audit.record(
            actor=actor,
            action="deliberation.action_create",
            target=item,
            community_id=topic.community_id,
            payload={
                "title": item.title,
                "owner": item.owner_name,
                "deadline": deadline.isoformat(),
            },
        )
    return item


def action_item_update(
    *, actor: Any, item: ActionItem, status: str, progress_percent: int, note: str
) -> ActionItem:
    is_owner = item.owner_user_id is not None and item.owner_user_id == getattr(actor, "pk", None)
    if not (is_owner or can_manage(actor, item)):
        raise PermissionDenied()
    if status not in ActionItem.Status.values:
        raise ValidationFailed(_("未知的状态。"), field="status")
    if not 0 <= progress_percent <= 100:
        raise ValidationFailed(_("进度必须在0–100之间。"), field="progress_percent")
    if status == ActionItem.Status.DONE and progress_percent != 100:
        raise ValidationFailed(_("标记为已完成时进度必须是100%。"), field="progress_percent")
    if not note.strip():
        raise ValidationFailed(_("请写明本次进展。"), field="note")
    with transaction.atomic():
        locked = ActionItem.objects.select_for_update().get(pk=item.pk)
        if locked.status == ActionItem.Status.DONE:
            raise InvalidTransition(_("该事项已完成。"))
        locked.status = status
        locked.progress_percent = progress_percent
        locked.latest_note = note.strip()[:300]
        locked.done_at = timezone.now() if status == ActionItem.Status.DONE else None
        locked.save()
        ActionUpdate.objects.create(
            item=locked,
            author=actor,
            status=status,
            progress_percent=progress_percent,
            note=note[:300],
        )
        audit.record(
            actor=actor,
            action="deliberation.action_update",
            target=locked,
            community_id=locked.community_id,
            payload={"status": status, "progress": progress_percent, "note": note[:300]},
        )
    item.refresh_from_db()
    return item


def supervision_review_record(
    *, actor: Any, community: OrgUnit, month: date, summary: str
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
    today = timezone.localdate()
    items = ActionItem.objects.filter(community=community)
    with transaction.atomic():
        if SupervisionReview.objects.filter(community=community, month=month).exists():
            raise Conflict(_("该月已提交过监督评议。"))
        review = SupervisionReview.objects.create(
            community=community,
            month=month,
            reviewer=actor,
            summary=summary.strip(),
            items_total=items.count(),
            items_done=items.filter(status=ActionItem.Status.DONE).count(),
            items_overdue=items.exclude(status=ActionItem.Status.DONE)
            .filter(deadline__lt=today)
            .count(),
        )
        audit.record(
            actor=actor,
            action="deliberation.supervision_review",
            target=review,
            community_id=community.pk,
            payload={
                "month": month.isoformat(),
                "total": review.items_total,
                "done": review.items_done,
                "overdue": review.items_overdue,
            },
        )
    return review


__all__ = ["NotFound"]
