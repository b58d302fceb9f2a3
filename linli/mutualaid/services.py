"""Writes for 邻里互助 and 社区合伙人. Every function is keyword-only, checks permission
first, validates, runs in one transaction with its audit event
(:func:`governed_write` / ``Machine.apply``) and notifies on commit.

Settlement goes through the ledger's own services: a resident helper earns time-bank
hours (rule ``timebank_service``, for helping an elderly or disabled neighbour) or
points (rule ``mutual_aid``) with an idempotency key derived from the match, so a
repeated settle never pays twice; a partner's delivered service credits the partner's
social-responsibility points account (``AccountKind.PARTNER``) only when community
staff confirm it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import Building, Organisation, OrgUnit, Resident, SpecialGroup
from linli.core import idempotency, ratelimit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row
from linli.ledger import services as ledger
from linli.ledger.models import AccountKind, Currency, EarnKind, TxKind
from linli.mutualaid import matching
from linli.mutualaid.categories import NeedCategory
from linli.mutualaid.models import (
    Channel,
    Contribution,
    ContributionStatus,
    Match,
    MatchKind,
    MatchStatus,
    Need,
    NeedStatus,
    Offer,
    OfferingKind,
    OfferStatus,
    Partner,
    PartnerOffering,
    PartnerStatus,
    SettleIn,
)
from linli.mutualaid.permissions import (
    can_edit_partner,
    can_manage_partners,
    can_post_for_resident,
    is_partner_member,
)
from linli.mutualaid.states import (
    CONTRIBUTION,
    HELPER_SIDE_ACCEPT,
    MATCH,
    NEED,
    NEED_SIDE_ACCEPT,
    match_helper_side,
    match_need_side,
    need_side,
    sees_match,
    sees_need,
)
from linli.volunteers.models import Slot

# Creates are rate-limited per user (declared here, next to the actions they guard).
for _name, _limit in {
    "mutualaid.need": ratelimit.Limit(per_minute=5, per_day=40),
    "mutualaid.offer": ratelimit.Limit(per_minute=5, per_day=30),
    "mutualaid.match": ratelimit.Limit(per_minute=20, per_day=300),
    "mutualaid.contribution": ratelimit.Limit(per_minute=10, per_day=200),
}.items():
    ratelimit.LIMITS.setdefault(_name, {"user": _limit})

MAX_SERVICE_MINUTES = ledger.MAX_SERVICE_MINUTES
MAX_PARTNER_POINTS = 1000  # one delivered service; far above a normal award
ELDERLY_AGE = ledger.ELDERLY_AGE


# --------------------------------------------------------------------------- helpers


def _uid(actor: Actor) -> int | None:
    return getattr(actor, "pk", None)


def _me(actor: Actor) -> int:
    """The acting user's id; writes that name their author need a signed-in user."""
    pk = getattr(actor, "pk", None)
    if not isinstance(pk, int):
        raise PermissionDenied()
    return pk


def _act_for(actor: Actor, resident: Resident, channel: str) -> str:
    """The resident themself (channel self), or staff of their community 代办 with a
    named channel. Returns the channel to record."""
    if channel not in Channel.values:
        raise ValidationFailed(_("未知的代办渠道。"), field="channel")
    if scope_of(actor).resident_id == resident.pk:
        return Channel.SELF
    if not can_post_for_resident(actor, resident):
        raise PermissionDenied()
    if channel == Channel.SELF:
        raise ValidationFailed(_("代办时请选择渠道（电话、上门或窗口）。"), field="channel")
    return channel


def is_timebank_recipient(r: Resident) -> bool:
    """The ledger's rule: the time bank records service to the elderly or disabled."""
    return r.age(timezone.localdate().year) >= ELDERLY_AGE or SpecialGroup.DISABLED in (
        r.tags or []
    )


def _notify(w: Write, user_id: int | None, subject: str, body: str) -> None:
    if user_id:
        w.notify(Message("inapp", str(user_id), subject, body))


def _clean_slots(slots: list[str] | None) -> list[str]:
    out = sorted(set(slots or []))
    if any(s not in Slot.values for s in out):
        raise ValidationFailed(_("未知的服务时段。"), field="slots")
    return out


def _building(resident: Resident, building: Building | None) -> int | None:
    if building is not None:
        if building.community_id != resident.community_id:
            raise ValidationFailed(_("楼栋不属于本社区。"), field="building")
        return int(building.pk)
    return int(resident.household.building_id)


# --------------------------------------------------------------------------- needs


def need_post(
    *,
    actor: Actor,
    resident: Resident,
    category: str,
    title: str,
    detail: str = "",
    building: Building | None = None,
    wanted_from: datetime | None = None,
    wanted_until: datetime | None = None,
    minutes: Any = 60,
    settle_in: str = SettleIn.MINUTES,
    channel: str = Channel.SELF,
    idempotency_key: str = "",
) -> Need:
    """A resident asks for help (or staff for them, 代办 with the channel). A repeat
    with the same idempotency key returns the first need."""
    channel = _act_for(actor, resident, channel)
    if category not in NeedCategory.values:
        raise ValidationFailed(_("请选择需求类别。"), field="category")
    title = within(title, field="title", limit=60, label=_("需要什么帮助"))
    if not title:
        raise ValidationFailed(_("请写一句需要什么帮助。"), field="title")
    detail = within(detail, field="detail", limit=500, label=_("说明"))
    mins = ledger.clean_amount(minutes, field="minutes", label=_("预计时长（分钟）"))
    if mins > MAX_SERVICE_MINUTES:
        raise ValidationFailed(_("单次互助时长不能超过 12 小时。"), field="minutes")
    if settle_in not in SettleIn.values:
        raise ValidationFailed(_("未知的结算方式。"), field="settle_in")
    if settle_in == SettleIn.MINUTES and not is_timebank_recipient(resident):
        raise ValidationFailed(
            _("时间银行只记录为老年人或残疾人提供的服务，请选择积分结算或无偿互助。"),
            field="settle_in",
            code="not_timebank_recipient",
        )
    if wanted_from and wanted_until and wanted_until <= wanted_from:
        raise ValidationFailed(_("最晚时间必须晚于开始时间。"), field="wanted_until")
    if wanted_until and wanted_until <= timezone.now():
        raise ValidationFailed(_("最晚时间已经过去。"), field="wanted_until")
    building_id = _building(resident, building)
    key = idempotency.clean(idempotency_key)
    ratelimit.check("mutualaid.need", user=actor)
    with governed_write(
        actor=actor, action="mutualaid.need_posted", community_id=resident.community_id
    ) as w:
        need = Need(
            community_id=resident.community_id,
            requester=resident,
            category=category,
            title=title,
            detail=detail,
            building_id=building_id,
            wanted_from=wanted_from,
            wanted_until=wanted_until,
            minutes=mins,
            settle_in=settle_in,
            posted_by_id=_me(actor),
            channel=channel,
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, need, key=key, owned=lambda n: n.posted_by_id == _uid(actor)
        )
        if prior is not None:
            return prior
        w.target = need
        w.payload.update(category=category, channel=channel, settle_in=settle_in)
    return need


def need_cancel(*, actor: Actor, need: Need, reason: str = "") -> Need:
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    return NEED.apply(actor=actor, obj=need, action="cancel", reason=reason)


# --------------------------------------------------------------------------- offers


def offer_post(
    *,
    actor: Actor,
    resident: Resident,
    category: str,
    title: str,
    detail: str = "",
    slots: list[str] | None = None,
    channel: str = Channel.SELF,
    idempotency_key: str = "",
) -> Offer:
    """A resident offers help of one category (我能帮)."""
    channel = _act_for(actor, resident, channel)
    if category not in NeedCategory.values:
        raise ValidationFailed(_("请选择类别。"), field="category")
    title = within(title, field="title", limit=60, label=_("我能提供"))
    if not title:
        raise ValidationFailed(_("请写一句您能提供什么帮助。"), field="title")
    detail = within(detail, field="detail", limit=300, label=_("说明"))
    slot_list = _clean_slots(slots)
    key = idempotency.clean(idempotency_key)
    ratelimit.check("mutualaid.offer", user=actor)
    with governed_write(
        actor=actor, action="mutualaid.offer_posted", community_id=resident.community_id
    ) as w:
        offer = Offer(
            community_id=resident.community_id,
            resident=resident,
            category=category,
            title=title,
            detail=detail,
            building_id=resident.household.building_id,
            slots=slot_list,
            posted_by_id=_me(actor),
            channel=channel,
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, offer, key=key, owned=lambda o: o.posted_by_id == _uid(actor)
        )
        if prior is not None:
            return prior
        w.target = offer
        w.payload.update(category=category, channel=channel)
    return offer


def offer_withdraw(*, actor: Actor, offer: Offer) -> Offer:
    if scope_of(actor).resident_id != offer.resident_id and not can_post_for_resident(actor, offer):
        raise PermissionDenied()
    with governed_write(
        actor=actor, action="mutualaid.offer_withdrawn", community_id=offer.community_id
    ) as w:
        row = lock_row(Offer.objects.all(), offer.pk, community_id=offer.community_id)
        if row.status == OfferStatus.WITHDRAWN:
            w.record = False
            return row
        row.status = OfferStatus.WITHDRAWN
        row.save(update_fields=["status", "updated_at"])
        w.target = row
    offer.status = row.status
    return row


# --------------------------------------------------------------------------- matches


def _helper_user(match: Match) -> int | None:
    if match.helper is not None:
        return match.helper.user_id
    return match.owner_user_id


def match_propose(
    *, actor: Actor, need: Need, kind: str, candidate_id: int, accept: bool = True
) -> Match:
    """Put one ranked candidate to both sides. The requester choosing a suggestion
    (``accept``) accepts it on their side at once; staff proposing on the unmatched
    queue leave both sides to accept. Proposing the same candidate again returns the
    existing match."""
    if not sees_need(actor, need):
        raise NotFound()
    if not need_side(actor, need):  # the requester, or staff for them (代办)
        raise PermissionDenied()
    if need.status != NeedStatus.OPEN:
        raise Conflict(_("该需求已不再等待匹配（已匹配、完成或取消）。"), code="need_closed")
    if kind not in MatchKind.values:
        raise ValidationFailed(_("未知的匹配来源。"), field="kind")
    existing = Match.objects.filter(
        community_id=need.community_id, need_id=need.pk, kind=kind, candidate_id=candidate_id
    ).first()
    if existing is not None:
        return existing
    found = matching.find(need, kind, candidate_id)
    if found is None:
        raise ValidationFailed(_("该推荐已失效，请刷新后重新选择。"), code="stale_suggestion")
    c = found.candidate
    ratelimit.check("mutualaid.match", user=actor)
    helper_id = int(c.extra["resident_id"]) if "resident_id" in c.extra else None
    partner_id = int(c.extra["partner_id"]) if "partner_id" in c.extra else None
    with governed_write(
        actor=actor, action="mutualaid.match_proposed", community_id=need.community_id
    ) as w:
        # The need's row lock orders proposals against its agreement.
        locked = lock_row(Need.objects.all(), need.pk, community_id=need.community_id)
        if locked.status != NeedStatus.OPEN:
            raise Conflict(_("该需求已不再等待匹配（已匹配、完成或取消）。"), code="need_closed")
        match = Match(
            community_id=need.community_id,
            need=locked,
            kind=kind,
            candidate_id=candidate_id,
            title=c.title[:80],
            helper_id=helper_id,
            partner_id=partner_id,
            owner_user_id=None if helper_id or partner_id else c.owner_user_id,
            score=found.score,
            reasons=found.reasons,
            proposed_by_id=_me(actor),
        )
        if not insert_or_skip(match):  # a concurrent identical proposal won
            w.record = False
            return Match.objects.get(
                community_id=need.community_id,
                need_id=need.pk,
                kind=kind,
                candidate_id=candidate_id,
            )
        w.target = match
        w.payload.update(need=need.pk, kind=kind, candidate=candidate_id, score=found.score)
        _notify(
            w,
            c.owner_user_id,
            _("有邻居需要您的帮助"),
            _("“%(t)s”：请查看并决定是否接受。") % {"t": locked.title},
        )
        if locked.requester.user_id != _uid(actor):
            _notify(
                w,
                locked.requester.user_id,
                _("为您的需求找到了帮手"),
                _("“%(t)s”：请查看推荐并确认。") % {"t": locked.title},
            )
    if accept:
        match.need = locked
        match = MATCH.apply(actor=actor, obj=match, action="accept_need")
    return match


def _side_actions(actor: Actor, match: Match) -> tuple[str, ...]:
    """Which side's acceptance steps ``actor`` may take (staff for both sides: 代办)."""
    sides: tuple[str, ...] = ()
    if match_need_side(actor, match):
        sides += NEED_SIDE_ACCEPT
    if match_helper_side(actor, match):
        sides += HELPER_SIDE_ACCEPT
    return sides


def match_accept(*, actor: Actor, match: Match) -> Match:
    """One side accepts. The second side's acceptance agrees the match and marks the
    need matched, in one transaction. Accepting again is refused, nothing changes."""
    if not sees_match(actor, match):
        raise NotFound()
    sides = _side_actions(actor, match)
    if not sides:
        raise PermissionDenied()
    with transaction.atomic():
        # Need first, then match: the same order as proposing, cancelling and settling,
        # so two writers on one need never wait on each other crosswise.
        need = lock_row(
            Need.objects.select_related("requester"),
            match.need_id,
            community_id=match.community_id,
        )
        row = lock_row(
            Match.objects.select_related("partner", "helper"),
            match.pk,
            community_id=match.community_id,
        )
        row.need = need
        action = next((a for a in sides if MATCH.allowed(a, row.status)), None)
        if action is None:
            if row.status in (MatchStatus.AGREED, MatchStatus.SETTLED):
                raise Conflict(_("该匹配已经双方确认，无需再次接受。"), code="already_accepted")
            mine = (
                MatchStatus.NEED_ACCEPTED
                if NEED_SIDE_ACCEPT[0] in sides
                else MatchStatus.HELPER_ACCEPTED
            )
            if row.status == mine:
                raise Conflict(_("您已接受过该匹配，正在等待对方确认。"), code="already_accepted")
            raise Conflict(
                _("当前状态为“%(s)s”，不能接受。") % {"s": row.get_status_display()},
                code="invalid_transition",
            )
        MATCH.check(actor, row, action)  # on the locked rows (is the need still open?)
        if MATCH[action].target == MatchStatus.AGREED:

            def agreed(m: Match, w: Write) -> None:
                m.agreed_at = timezone.now()

                def matched(n: Need, w2: Write) -> None:
                    n.matched_at = m.agreed_at
                    w2.audit_actor = actor

                NEED.apply(actor=None, obj=need, action="match", locked=True, effects=matched)
                for uid in {need.requester.user_id, _helper_user(m)}:
                    _notify(
                        w,
                        uid,
                        _("互助匹配成功"),
                        _("“%(t)s”双方已确认，请按约定时间联系。") % {"t": need.title},
                    )

            out = MATCH.apply(actor=actor, obj=row, action=action, locked=True, effects=agreed)
        else:

            def told(m: Match, w: Write) -> None:
                other = _helper_user(m) if action == "accept_need" else m.need.requester.user_id
                _notify(
                    w,
                    other,
                    _("对方已接受匹配"),
                    _("“%(t)s”：对方已接受，等待您确认。") % {"t": m.need.title},
                )

            out = MATCH.apply(actor=actor, obj=row, action=action, locked=True, effects=told)
    match.status = out.status
    return out


def match_decline(*, actor: Actor, match: Match) -> Match:
    return MATCH.apply(actor=actor, obj=match, action="decline")


def match_cancel(*, actor: Actor, match: Match, reason: str) -> Match:
    """Either side calls off an agreed match; the need goes back to 待匹配."""
    reason = within(reason, field="reason", limit=200, label=_("理由"))
    MATCH.check(actor, match, "cancel", reason=reason)
    with transaction.atomic():
        need = lock_row(Need.objects.all(), match.need_id, community_id=match.community_id)

        def reopen(m: Match, w: Write) -> None:
            m.need = need
            NEED.apply(actor=None, obj=need, action="reopen", locked=True)
            for uid in {need.requester.user_id, _helper_user(m)}:
                if uid != _uid(actor):
                    _notify(w, uid, _("互助匹配已取消"), reason)

        out = MATCH.apply(actor=actor, obj=match, action="cancel", reason=reason, effects=reopen)
    match.status = out.status
    return out


def _rating(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed(_("评价请选择 1 到 5 星。"), field="rating")
    return value


def match_settle(
    *,
    actor: Actor,
    match: Match,
    rating: Any = None,
    minutes: Any = None,
    points: Any = None,
) -> Match:
    """The help happened: close the match, mark the need done and settle.

    * a resident helper: hours (the need's ``minutes`` unless given) under the
      ``timebank_service`` rule, or points under ``mutual_aid``, or nothing — per the
      need's settlement choice; the ledger key is ``mutualaid.match:<id>``;
    * a partner's service: ``points`` credited to the partner's points account, as a
      confirmed contribution (community staff only — never the partner itself);
    * a shared resource: nothing to pay here (the booking has its own rules).
    """
    stars = _rating(rating)
    MATCH.check(actor, match, "settle")
    need = match.need
    mins = need.minutes
    if minutes not in (None, ""):
        mins = ledger.clean_amount(minutes, field="minutes", label=_("服务时长（分钟）"))
        if mins > MAX_SERVICE_MINUTES:
            raise ValidationFailed(_("单次互助时长不能超过 12 小时。"), field="minutes")
    partner_points = 0
    if match.kind == MatchKind.PARTNER_SERVICE:
        partner_points = ledger.clean_amount(
            10 if points in (None, "") else points, field="points", label=_("社会责任积分")
        )
        if partner_points > MAX_PARTNER_POINTS:
            raise ValidationFailed(
                _("单次服务最多 %(n)s 社会责任积分。") % {"n": MAX_PARTNER_POINTS}, field="points"
            )
    with transaction.atomic():
        locked_need = lock_row(Need.objects.all(), match.need_id, community_id=match.community_id)

        def settle(m: Match, w: Write) -> None:
            m.need = locked_need
            m.settled_at = timezone.now()
            m.rating = stars
            how = SettleIn.NONE
            amount = 0
            if m.kind in (MatchKind.VOLUNTEER, MatchKind.OFFER) and m.helper is not None:
                how = SettleIn(locked_need.settle_in)
                if how == SettleIn.MINUTES:
                    if not is_timebank_recipient(locked_need.requester):
                        raise ValidationFailed(
                            _("时间银行只记录为老年人或残疾人提供的服务。"), field="settle_in"
                        )
                    claim = ledger.earning_award(
                        actor=actor,
                        resident=m.helper,
                        kind=EarnKind.TIMEBANK_SERVICE,
                        amount=mins,
                        idempotency_key=f"mutualaid.match:{m.pk}:settle",
                        description=locked_need.title,
                        authorised=True,  # the machine checked: the person helped / staff
                    )
                elif how == SettleIn.POINTS:
                    claim = ledger.earning_award(
                        actor=actor,
                        resident=m.helper,
                        kind=EarnKind.MUTUAL_AID,
                        idempotency_key=f"mutualaid.match:{m.pk}:settle",
                        description=locked_need.title,
                        authorised=True,
                    )
                else:
                    claim = None
                if claim is not None:
                    amount = claim.amount
                    m.ledger_tx_id = claim.transaction_id
                if m.helper.user_id and amount:
                    shown = ledger.fmt_hours(amount) if how == SettleIn.MINUTES else str(amount)
                    unit = _("小时") if how == SettleIn.MINUTES else _("积分")
                    _notify(
                        w,
                        m.helper.user_id,
                        _("互助已结算"),
                        _("感谢您帮助邻居“%(t)s”，获得 %(n)s %(u)s。")
                        % {"t": locked_need.title, "n": shown, "u": unit},
                    )
            elif m.kind == MatchKind.PARTNER_SERVICE and m.partner is not None:
                how = SettleIn.POINTS
                amount = partner_points
                c = Contribution.objects.create(
                    community_id=m.community_id,
                    partner=m.partner,
                    match=m,
                    title=m.title[:80],
                    served_on=timezone.localdate(),
                    people_served=1,
                    points=amount,
                    status=ContributionStatus.REPORTED,
                    reported_by_id=_me(actor),
                )
                # The same confirmation path as a reported contribution (its rules,
                # its ledger posting), inside this transaction.
                c.partner = m.partner
                _confirm(actor, c, amount, w)
                m.ledger_tx_id = c.ledger_tx_id
            m.settled_in = how
            m.settled_amount = amount
            w.payload.update(settled_in=how, amount=amount, rating=stars)
            NEED.apply(actor=None, obj=locked_need, action="complete", locked=True)

        out = MATCH.apply(actor=actor, obj=match, action="settle", effects=settle)
    match.status = out.status
    return out


# --------------------------------------------------------------------------- partners


def partner_save(
    *,
    actor: Actor,
    community: OrgUnit,
    organisation: Organisation,
    intro: str = "",
    address: str = "",
    building: Building | None = None,
    public: bool = True,
    status: str = PartnerStatus.ACTIVE,
) -> Partner:
    """Create or update a partner profile. Community staff create partners; members of
    the partner may edit its profile (not its status)."""
    existing = Partner.objects.filter(community=community, organisation=organisation).first()
    if existing is None:
        if not can_manage_partners(actor, community):
            raise PermissionDenied()
        if organisation.kind not in (
            Organisation.Kind.ENTERPRISE,
            Organisation.Kind.SOCIAL_ORG,
            Organisation.Kind.PROPERTY,
        ):
            raise ValidationFailed(_("社区合伙人须为企业或社会组织。"), field="organisation")
    elif not can_edit_partner(actor, existing):
        raise PermissionDenied()
    if status not in PartnerStatus.values:
        raise ValidationFailed(_("未知的状态。"), field="status")
    if (
        existing is not None
        and status != existing.status
        and not can_manage_partners(actor, community)
    ):
        raise PermissionDenied(_("合作状态由社区工作人员调整。"))
    if building is not None and building.community_id != community.pk:
        raise ValidationFailed(_("楼栋不属于本社区。"), field="building")
    intro = within(intro, field="intro", limit=300, label=_("简介"))
    address = within(address, field="address", limit=100, label=_("地址"))
    with governed_write(
        actor=actor, action="mutualaid.partner_saved", community_id=community.pk
    ) as w:
        partner, created = Partner.objects.update_or_create(
            community=community,
            organisation=organisation,
            defaults={
                "intro": intro,
                "address": address,
                "building": building,
                "public": public,
                "status": status,
            },
        )
        w.target = partner
        w.payload.update(created=created, public=public, status=status)
    return partner


def offering_save(
    *,
    actor: Actor,
    partner: Partner,
    kind: str,
    category: str,
    title: str,
    description: str = "",
    is_active: bool = True,
    offering: PartnerOffering | None = None,
) -> PartnerOffering:
    if not can_edit_partner(actor, partner):
        raise PermissionDenied()
    if kind not in OfferingKind.values:
        raise ValidationFailed(_("未知的服务类型。"), field="kind")
    if category not in NeedCategory.values:
        raise ValidationFailed(_("请选择对应的需求类别。"), field="category")
    title = within(title, field="title", limit=60, label=_("名称"))
    if not title:
        raise ValidationFailed(_("请填写名称。"), field="title")
    description = within(description, field="description", limit=300, label=_("说明"))
    if offering is not None and offering.partner_id != partner.pk:
        raise NotFound()
    with governed_write(
        actor=actor, action="mutualaid.offering_saved", community_id=partner.community_id
    ) as w:
        if offering is None:
            offering = PartnerOffering.objects.create(
                community_id=partner.community_id,
                partner=partner,
                kind=kind,
                category=category,
                title=title,
                description=description,
                is_active=is_active,
            )
        else:
            offering.kind, offering.category, offering.title = kind, category, title
            offering.description, offering.is_active = description, is_active
            offering.save()
        w.target = offering
        w.payload.update(kind=kind, category=category, active=is_active)
    return offering


def contribution_report(
    *,
    actor: Actor,
    partner: Partner,
    title: str,
    served_on: date,
    people_served: Any = 1,
    points: Any = 10,
    idempotency_key: str = "",
) -> Contribution:
    """A partner (or staff) reports a service delivered; it earns nothing until the
    community confirms it."""
    if not can_edit_partner(actor, partner):
        raise PermissionDenied()
    title = within(title, field="title", limit=80, label=_("服务内容"))
    if not title:
        raise ValidationFailed(_("请填写服务内容。"), field="title")
    if served_on > timezone.localdate():
        raise ValidationFailed(_("服务日期不能晚于今天。"), field="served_on")
    people = ledger.clean_amount(people_served, field="people_served", label=_("服务人次"))
    pts = ledger.clean_amount(points, field="points", label=_("社会责任积分"))
    if pts > MAX_PARTNER_POINTS:
        raise ValidationFailed(
            _("单次服务最多 %(n)s 社会责任积分。") % {"n": MAX_PARTNER_POINTS}, field="points"
        )
    key = idempotency.clean(idempotency_key)
    ratelimit.check("mutualaid.contribution", user=actor)
    with governed_write(
        actor=actor, action="mutualaid.contribution_reported", community_id=partner.community_id
    ) as w:
        c = Contribution(
            community_id=partner.community_id,
            partner=partner,
            title=title,
            served_on=served_on,
            people_served=people,
            points=pts,
            status=ContributionStatus.REPORTED,
            reported_by_id=_me(actor),
            idempotency_key=key,
        )
        prior = idempotency.replayed(
            w, c, key=key, owned=lambda row: row.reported_by_id == _uid(actor)
        )
        if prior is not None:
            return prior
        w.target = c
        w.payload.update(points=pts, people=people)
    return c


def _confirm(actor: Actor, c: Contribution, points: int, w: Write) -> None:
    """Credit the partner's points account for ``c`` (issuer → partner). Precondition:
    inside the write, permission checked (community staff, not the partner)."""
    if is_partner_member(actor, c.partner):  # defence in depth: never self-awarded
        raise PermissionDenied(_("合作单位不能给自己发放积分，须由社区工作人员确认服务。"))
    cid = c.community_id
    key = f"mutualaid.contribution:{c.pk}"
    rhash = ledger.request_hash(op="partner_points", contribution=c.pk, points=points)
    tx = ledger.insert_transaction(
        actor=actor,
        community_id=cid,
        currency=Currency.POINTS,
        kind=TxKind.EARN,
        idempotency_key=key,
        rhash=rhash,
        memo=str(_("社会责任积分：%(t)s") % {"t": c.title}),
        source=f"mutualaid.contribution:{c.pk}",
    )
    if tx is None:
        raise Conflict(_("该服务已发放过积分。"), code="already_posted")
    acc = ledger.partner_account(cid, c.partner.organisation_id, Currency.POINTS)
    issuer = ledger.system_account(cid, Currency.POINTS, AccountKind.ISSUER)
    ledger.transaction_post(
        actor=actor,
        community_id=cid,
        currency=Currency.POINTS,
        kind=TxKind.EARN,
        legs=[ledger.Leg(acc.pk, points), ledger.Leg(issuer.pk, -points)],
        idempotency_key=key,
        rhash=rhash,
        lifetime={acc.pk: points},
        tx=tx,
        w=w,
    )
    c.points = points
    c.status = ContributionStatus.CONFIRMED
    c.decided_by_id = _uid(actor)
    c.ledger_tx = tx
    c.save(update_fields=["points", "status", "decided_by", "ledger_tx", "updated_at"])


def contribution_confirm(
    *, actor: Actor, contribution: Contribution, points: Any = None
) -> Contribution:
    """Community staff confirm a reported service: the partner's points account is
    credited. A member of the partner is refused (a partner cannot award itself)."""
    CONTRIBUTION.check(actor, contribution, "confirm")
    pts = contribution.points
    if points not in (None, ""):
        pts = ledger.clean_amount(points, field="points", label=_("社会责任积分"))
        if pts > MAX_PARTNER_POINTS:
            raise ValidationFailed(
                _("单次服务最多 %(n)s 社会责任积分。") % {"n": MAX_PARTNER_POINTS}, field="points"
            )

    def effects(row: Contribution, w: Write) -> None:
        _confirm(actor, row, pts, w)
        w.payload["points"] = pts
        for uid in _partner_user_ids(row.partner):
            _notify(
                w,
                uid,
                _("社会责任积分到账"),
                _("“%(t)s”已由社区确认，获得 %(n)s 积分。") % {"t": row.title, "n": pts},
            )

    return CONTRIBUTION.apply(actor=actor, obj=contribution, action="confirm", effects=effects)


def contribution_reject(*, actor: Actor, contribution: Contribution, reason: str) -> Contribution:
    reason = within(reason, field="reason", limit=200, label=_("理由"))

    def effects(row: Contribution, w: Write) -> None:
        row.reason = reason
        row.decided_by_id = _uid(actor)

    return CONTRIBUTION.apply(
        actor=actor, obj=contribution, action="reject", reason=reason, effects=effects
    )


def _partner_user_ids(partner: Partner) -> list[int]:
    from linli.accounts.models import Membership

    return list(
        Membership.objects.active()
        .filter(organisation_id=partner.organisation_id)
        .values_list("user_id", flat=True)
        .distinct()[:20]
    )
