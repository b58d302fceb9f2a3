"""Opening, staffing, escalating, closing and following up a mediation case."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Building, OrgUnit
from linli.core import idempotency, ratelimit
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row
from linli.mediation.models import (
    ACTIVE_STATUSES,
    FOLLOWUP_AFTER_DAYS,
    Agreement,
    Case,
    CaseMediator,
    Channel,
    Kind,
    Level,
    Mediator,
    Outcome,
    Party,
    Referral,
)
from linli.mediation.permissions import (
    can_assign_mediators,
    can_open_case,
    forget,
    runs_case,
    sees_case,
)
from linli.mediation.services._common import (
    OPEN_LIMIT,
    PARTY_LIMIT,
    PartyIn,
    actor_id,
    check_distinct,
    clean_party,
    manager_usernames,
    mediator_usernames,
    party_phones,
    replayed,
    tell_staff,
)
from linli.mediation.states import CASE, ESCALATE_FROM, LEVEL

# Request categories (linli/requests/catalog.py, under 邻里纠纷 "dispute") → case type.
REQUEST_KINDS = {"di-noise": Kind.NOISE, "di-pet": Kind.OTHER, "di-other": Kind.OTHER}
DISPUTE_PARENT = "dispute"


def _active_mediators(community_id: int, ids: list[int]) -> list[Mediator]:
    wanted = list(dict.fromkeys(ids))
    found = {
        m.pk: m
        for m in Mediator.objects.filter(community_id=community_id, is_active=True, pk__in=wanted)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            _("所选调解员不在本社区调解员名册中（或已停用）。"), field="mediator_ids"
        )
    return [found[i] for i in wanted]


def case_open(
    *,
    actor: Actor,
    community: OrgUnit,
    kind: str,
    title: str,
    facts: str,
    channel: str,
    parties: list[PartyIn],
    building: Building | None = None,
    level: str = "",
    mediator_ids: list[int] | None = None,
    idempotency_key: str = "",
    source_request: Any = None,
) -> Case:
    """Open (受理) a case. At least one applicant; respondents may be added later (a
    dispute reported by one neighbour does not always name the other). The level
    defaults to the building when one is given ("小事不出楼栋"), else the community.
    The first mediator named leads. Idempotent on ``idempotency_key``."""
    if not can_open_case(actor, community):
        raise PermissionDenied(_("只有本社区的网格员、社区工作者、书记或街道干部可以受理调解。"))
    key = idempotency.clean(idempotency_key)
    if kind not in Kind.values:
        raise ValidationFailed(_("请选择纠纷类型。"), field="kind")
    if channel not in Channel.values:
        raise ValidationFailed(_("请选择案件来源。"), field="channel")
    title = within(title, field="title", limit=60, label=_("案由"))
    if not title:
        raise ValidationFailed(_("请填写案由（一句话说明纠纷）。"), field="title")
    facts = within(facts, field="facts", limit=2000, label=_("纠纷简要情况"))
    if len(facts) < 5:
        raise ValidationFailed(_("请填写纠纷简要情况（至少 5 个字）。"), field="facts")
    if building is not None and building.community_id != community.pk:
        raise ValidationFailed(_("所选楼栋不属于本社区。"), field="building")
    level = level or (Level.BUILDING if building is not None else Level.COMMUNITY)
    if level not in Level.values:
        raise ValidationFailed(_("调解层级无效。"), field="level")
    if level == Level.BUILDING and building is None:
        raise ValidationFailed(_("楼栋层级调解须选择楼栋。"), field="building")
    rows = [clean_party(p, community_id=community.pk) for p in parties]
    if not any(p.role == Party.Role.APPLICANT for p in rows):
        raise ValidationFailed(_("请至少登记一名申请人。"), field="parties")
    check_distinct(rows)
    mediators = _active_mediators(community.pk, mediator_ids or [])
    ratelimit.check(OPEN_LIMIT, user=actor)
    now = timezone.now()
    with governed_write(
        actor=actor, action="mediation.case_opened", community_id=community.pk
    ) as w:
        case = Case(
            community=community,
            building=building,
            kind=kind,
            level=level,
            title=title,
            facts=facts,
            channel=channel,
            source_request=source_request,
            opened_by_id=actor_id(actor),
            opened_at=now,
            idempotency_key=key,
        )
        if not insert_or_skip(case):
            # A unique key held it: the idempotency key (a replay: answer with the
            # first case) or, failing that, the one-case-per-request key.
            w.record = False
            held = (
                bool(key)
                and Case.objects.filter(community_id=community.pk, idempotency_key=key).exists()
            )
            if not held:
                raise Conflict(_("该诉求已转为调解案件。"), code="already_a_case")
            return idempotency.original(
                Case.objects.all(),
                community_id=community.pk,
                key=key,
                owned=lambda c: c.opened_by_id == getattr(actor, "pk", None),
            )
        for p in rows:
            p.case = case
        Party.objects.bulk_create(rows)
        CaseMediator.objects.bulk_create(
            [
                CaseMediator(
                    community=community,
                    case=case,
                    mediator=m,
                    user_id=m.user_id,
                    lead=i == 0,
                    assigned_at=now,
                )
                for i, m in enumerate(mediators)
            ]
        )
        w.target = case
        # No names or phones in the audit chain: counts and codes only.
        w.payload.update(
            kind=kind,
            level=level,
            channel=channel,
            parties=len(rows),
            mediators=[m.pk for m in mediators],
            request=getattr(source_request, "pk", None),
        )
        body = _("新调解案件 %(no)s：%(title)s") % {"no": case.number, "title": title}
        tell_staff(w, sorted({m.user.username for m in mediators}), body)
    return case


def is_dispute_request(req: Any) -> bool:
    cat = req.category
    return bool(cat.code == DISPUTE_PARENT or (cat.parent_id and cat.parent.code == DISPUTE_PARENT))


def _title_from(req: Any) -> str:
    """ "噪音扰民：楼上每天夜里…": the category, then the start of what was reported,
    within the 60 characters of a case's subject."""
    text = f"{req.category.name}：{' '.join(req.description.split())}"
    return text if len(text) <= 60 else text[:59] + "…"


def case_for_request(req: Any) -> Case | None:
    return Case.objects.filter(community_id=req.community_id, source_request_id=req.pk).first()


def case_from_request(
    *,
    actor: Actor,
    request: Any,
    kind: str = "",
    mediator_ids: list[int] | None = None,
    idempotency_key: str = "",
) -> Case:
    """Turn a 邻里纠纷 request (linli.requests) into a case in one step: its text
    becomes the facts, its reporter the applicant, its building the level, and the
    case keeps a link to it. Refused for other categories and for a request that is
    already a case."""
    from linli.requests.permissions import can_view_staff

    if not can_view_staff(actor, request):
        raise NotFound()
    if not can_open_case(actor, request.community_id):
        raise PermissionDenied(_("只有本社区的网格员、社区工作者、书记或街道干部可以受理调解。"))
    if not is_dispute_request(request):
        raise ValidationFailed(_("只有“邻里纠纷”类诉求可以转为调解案件。"), field="request")
    existing = case_for_request(request)
    if existing is not None:
        raise Conflict(
            _("该诉求已转为调解案件 %(no)s。") % {"no": existing.number}, code="already_a_case"
        )
    if request.reporter_resident_id:
        applicant = PartyIn(role=Party.Role.APPLICANT, resident_id=request.reporter_resident_id)
    elif request.reporter_name:
        applicant = PartyIn(
            role=Party.Role.APPLICANT,
            name=request.reporter_name,
            phone=request.reporter_phone,
            address=request.address,
        )
    else:
        raise ValidationFailed(_("该诉求没有留下反映人，无法登记申请人。"), field="request")
    building = request.building
    return case_open(
        actor=actor,
        community=request.community,
        kind=kind or REQUEST_KINDS.get(request.category.code, Kind.OTHER),
        title=_title_from(request),
        facts=request.description,
        channel=Channel.REQUEST,
        parties=[applicant],
        building=building,
        mediator_ids=mediator_ids,
        idempotency_key=idempotency_key,
        source_request=request,
    )


def _lock_case(case: Case) -> Case:
    return lock_row(Case.objects.all(), case.pk, community_id=case.community_id)


def party_add(*, actor: Actor, case: Case, party: PartyIn, idempotency_key: str = "") -> Party:
    """Add a party (typically the respondent, once known) while the case is open.
    Idempotent on ``idempotency_key``."""
    if not sees_case(actor, case):
        raise NotFound()
    if not runs_case(actor, case):
        raise PermissionDenied(_("只有本案调解员或社区、街道调解负责人可以登记当事人。"))
    key = idempotency.clean(idempotency_key)
    row = clean_party(party, community_id=case.community_id, case=case)
    row.idempotency_key = key
    earlier: Party | None = replayed(
        Party.objects.all(),
        community_id=case.community_id,
        key=key,
        case=case,
        owned=lambda p: True,  # parties are the case's, not the writer's
    )
    if earlier is not None:
        return earlier
    ratelimit.check(PARTY_LIMIT, user=actor)
    with governed_write(
        actor=actor, action="mediation.party_added", community_id=case.community_id
    ) as w:
        locked = _lock_case(case)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再登记当事人。"))
        if key:
            same = Party.objects.filter(
                community_id=case.community_id, idempotency_key=key, case_id=case.pk
            ).first()
            if same is not None:  # a simultaneous post with the same key went first
                w.record = False
                return same
        if (
            row.resident_id is not None
            and Party.objects.filter(
                community_id=case.community_id, case_id=case.pk, resident_id=row.resident_id
            ).exists()
        ):
            raise Conflict(_("该居民已是本案当事人。"))
        row.case = locked
        row.save()
        w.target = locked
        w.payload.update(role=row.role, resident=row.resident_id is not None)
    forget(case)
    return row


def mediator_assign(*, actor: Actor, case: Case, mediator: Mediator, lead: bool = False) -> None:
    """Put a mediator from the community's roster on the case. The first one leads;
    ``lead=True`` moves the lead to this one."""
    if not sees_case(actor, case):
        raise NotFound()
    if not can_assign_mediators(actor, case):
        if case.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再指派调解员。"))
        raise PermissionDenied(_("只有社区、街道调解负责人可以指派调解员。"))
    if mediator.community_id != case.community_id or not mediator.is_active:
        raise ValidationFailed(
            _("所选调解员不在本社区调解员名册中（或已停用）。"), field="mediator"
        )
    with governed_write(
        actor=actor, action="mediation.mediator_assigned", community_id=case.community_id
    ) as w:
        locked = _lock_case(case)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再指派调解员。"))
        rows = CaseMediator.objects.filter(community_id=case.community_id, case_id=case.pk)
        if rows.filter(mediator_id=mediator.pk).exists():
            raise Conflict(_("该调解员已在本案中。"))
        first = not rows.exists()
        if lead and not first:
            rows.filter(lead=True).update(lead=False)
        CaseMediator.objects.create(
            community_id=case.community_id,
            case=locked,
            mediator=mediator,
            user_id=mediator.user_id,
            lead=lead or first,
            assigned_at=timezone.now(),
        )
        w.target = locked
        w.payload.update(mediator=mediator.pk, lead=lead or first)
        w.notify(
            Message(
                "inapp",
                mediator.user.username,
                _("人民调解"),
                _("您被指派调解案件 %(no)s：%(title)s")
                % {"no": locked.number, "title": locked.title},
            )
        )
    forget(case)


def case_escalate(*, actor: Actor, case: Case, reason: str) -> Case:
    """Move the case up one level (楼栋 → 社区 → 街道) with a reason; the people who
    answer for the new level are told."""
    reason = within(reason, field="reason", limit=500, label=_("提级理由"))
    action = ESCALATE_FROM.get(case.level)
    if action is None:
        if not sees_case(actor, case):
            raise NotFound()
        raise InvalidTransition(_("案件已在街道层级调解，不能再提级。"))

    def effects(row: Case, w: Write) -> None:
        row.escalated_at = timezone.now()
        body = _("调解案件 %(no)s 已提交%(level)s调解：%(title)s") % {
            "no": row.number,
            "level": row.get_level_display(),
            "title": row.title,
        }
        tell_staff(w, manager_usernames(row), body)

    row = LEVEL.apply(actor=actor, obj=case, action=action, reason=reason, effects=effects)
    case.escalated_at = row.escalated_at
    return case


def case_close(
    *,
    actor: Actor,
    case: Case,
    outcome: str,
    note: str = "",
    referral: str = "",
    referral_note: str = "",
) -> Case:
    """结案 with an outcome. Without one it is refused (nothing changes). "调解成功"
    needs an agreement in force (signed by all and sealed); "转交处理" names where the
    dispute goes (third-party assessment, the court …). An agreement schedules the
    follow-up visit 30 days after it took effect."""
    CASE.check(actor, case, "close")  # who and state first: refusals leak nothing
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationFailed(
            _("请先选择调解结果（调解成功、调解不成、当事人撤回或转交处理）再结案。"),
            field="outcome",
        )
    if outcome not in Outcome.values:
        raise ValidationFailed(_("调解结果无效。"), field="outcome")
    note = within(note, field="note", limit=500, label=_("结案说明"))
    referral_note = within(referral_note, field="referral_note", limit=300, label=_("转交说明"))
    if outcome == Outcome.REFERRED:
        if referral not in Referral.values:
            raise ValidationFailed(
                _("转交处理须选择转交去向（第三方评估、人民法院、仲裁机构或行政机关）。"),
                field="referral",
            )
    elif referral:
        raise ValidationFailed(_("只有“转交处理”需要填写转交去向。"), field="referral")
    if outcome in (Outcome.NO_AGREEMENT, Outcome.WITHDRAWN) and not note:
        raise ValidationFailed(_("请填写结案说明（调解不成或撤回的原因）。"), field="note")

    def effects(row: Case, w: Write) -> None:
        now = timezone.now()
        if outcome == Outcome.AGREEMENT:
            signed_on = (
                Agreement.objects.filter(community_id=row.community_id, case_id=row.pk)
                .values_list("signed_on", flat=True)
                .first()
            )
            if signed_on is None:
                raise Conflict(
                    _("调解协议书尚未由各方签名、调解员签名并盖章生效，不能以“调解成功”结案。"),
                    field="outcome",
                )
            row.agreement_effective_on = signed_on
            row.followup_due = signed_on + timedelta(days=FOLLOWUP_AFTER_DAYS)
        row.outcome = outcome
        row.outcome_note = note
        row.referral = referral if outcome == Outcome.REFERRED else ""
        row.referral_note = referral_note if outcome == Outcome.REFERRED else ""
        row.closed_at = now
        w.payload.update(outcome=outcome, referral=row.referral)
        body = _("调解案件 %(no)s 已结案：%(outcome)s") % {
            "no": row.number,
            "outcome": row.get_outcome_display(),
        }
        tell_staff(w, mediator_usernames(row), body)
        for phone in party_phones(row):
            w.notify(Message("sms", phone, _("人民调解"), body))

    row = CASE.apply(actor=actor, obj=case, action="close", effects=effects)
    for f in (
        "outcome",
        "outcome_note",
        "referral",
        "referral_note",
        "closed_at",
        "agreement_effective_on",
        "followup_due",
    ):
        setattr(case, f, getattr(row, f))
    return case


def case_follow_up(*, actor: Actor, case: Case, note: str, performed: bool | None) -> Case:
    """回访: record how the agreement is being kept (after an agreement only)."""
    CASE.check(actor, case, "follow_up")
    note = within(note, field="note", limit=1000, label=_("回访情况"))
    if len(note) < 2:
        raise ValidationFailed(_("请填写回访情况。"), field="note")
    if performed is None:
        raise ValidationFailed(_("请选择协议是否已履行。"), field="performed")

    def effects(row: Case, w: Write) -> None:
        row.followup_at = timezone.now()
        row.followup_note = note
        row.followup_performed = performed
        w.payload.update(performed=performed)

    row = CASE.apply(actor=actor, obj=case, action="follow_up", effects=effects)
    case.followup_at, case.followup_note = row.followup_at, row.followup_note
    case.followup_performed = row.followup_performed
    return case


def due_label(case: Case, today: date | None = None) -> str:
    """ "回访逾期" / "待回访" / "" for lists."""
    if case.status != "closed" or case.followup_due is None:
        return ""
    today = today or timezone.localdate()
    if case.followup_due < today:
        return str(_("回访逾期"))
    return str(_("待回访"))
