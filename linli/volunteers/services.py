"""Writes for volunteers and activities.

Places are counted under a row lock on the activity, so two people taking the last
place at the same moment cannot both get it; the second is waitlisted. Cancelling a
place promotes the earliest waitlisted sign-up in the same transaction. Check-out
awards points or hours through the ledger with a key derived from the sign-up, so a
repeated check-out never pays twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core import audit
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message, send_on_commit
from linli.ledger import services as ledger
from linli.ledger.models import Currency, EarningRule, EarnKind
from linli.ledger.permissions import LEVELS, has_credit_level
from linli.volunteers.models import (
    HOLDS_PLACE,
    Activity,
    ActivityKind,
    ActivityStatus,
    SignUp,
    SignUpStatus,
    SkillCategory,
    Slot,
    VolunteerProfile,
    VolunteerSkill,
)
from linli.volunteers.permissions import can_check_in, can_create_activity, can_manage_activity

CHECKIN_SALT = "volunteers.checkin"
# A volunteer's personal check-in pass (shown on their sign-up, scanned by staff at the
# door). Its own salt, so a pass can never be replayed as a venue code or vice versa.
PASS_SALT = "volunteers.pass"  # noqa: S105 (a signing salt, not a secret)
CHECKIN_MAX_AGE = 3 * 24 * 3600

# Activity state machine: one table, each transition a service below.
ACTIVITY_TRANSITIONS: dict[str, set[str]] = {
    ActivityStatus.OPEN: {ActivityStatus.CLOSED, ActivityStatus.FINISHED, ActivityStatus.CANCELLED},
    ActivityStatus.CLOSED: {ActivityStatus.OPEN, ActivityStatus.FINISHED, ActivityStatus.CANCELLED},
    ActivityStatus.FINISHED: set(),
    ActivityStatus.CANCELLED: set(),
}


def _move(activity: Activity, to: str) -> None:
    if to not in ACTIVITY_TRANSITIONS[activity.status]:
        raise InvalidTransition(
            _("活动当前状态为“%(s)s”，不能执行此操作。") % {"s": activity.get_status_display()}
        )
    activity.status = to


# --------------------------------------------------------------------------- profiles


def profile_save(
    *,
    actor: Any,
    resident: Resident,
    intro: str = "",
    skills: list[tuple[str, str]] | None = None,
    availability: list[str] | None = None,
    listed: bool = True,
) -> VolunteerProfile:
    scope = scope_of(actor)
    if scope.resident_id != resident.pk and not can_create_activity(actor, resident):
        raise PermissionDenied()
    skills = skills or []
    bad = [c for c, _d in skills if c not in SkillCategory.values]
    if bad:
        raise ValidationFailed(_("未知的技能类别。"), field="skills")
    slots = sorted(set(availability or []))
    if any(s not in Slot.values for s in slots):
        raise ValidationFailed(_("未知的服务时段。"), field="availability")
    with transaction.atomic():
        profile, created = VolunteerProfile.objects.update_or_create(
            resident=resident,
            defaults={
                "community_id": resident.community_id,
                "intro": intro[:300],
                "availability": slots,
                "listed": listed,
                "is_active": True,
            },
        )
        profile.skills.all().delete()
        seen: set[str] = set()
        rows = []
        for cat, detail in skills:
            if cat not in seen:
                seen.add(cat)
                rows.append(VolunteerSkill(profile=profile, category=cat, detail=detail[:100]))
        VolunteerSkill.objects.bulk_create(rows)
        audit.record(
            actor=actor,
            action="volunteers.profile_saved",
            target=profile,
            community_id=resident.community_id,
            payload={"skills": sorted(seen), "slots": slots, "listed": listed, "created": created},
        )
    return profile


# --------------------------------------------------------------------------- activities


def activity_create(
    *,
    actor: Any,
    community: OrgUnit,
    kind: str,
    title: str,
    location: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: Any,
    description: str = "",
    earn_kind: str = "",
    priority_level: str = "",
    priority_until: datetime | None = None,
) -> Activity:
    if not can_create_activity(actor, community):
        raise PermissionDenied()
    title, location = (title or "").strip(), (location or "").strip()
    if not title:
        raise ValidationFailed(_("请填写活动名称。"), field="title")
    if not location:
        raise ValidationFailed(_("请填写活动地点。"), field="location")
    if kind not in ActivityKind.values:
        raise ValidationFailed(_("未知的活动类型。"), field="kind")
    if ends_at <= starts_at:
        raise ValidationFailed(_("结束时间必须晚于开始时间。"), field="ends_at")
    cap = ledger.clean_amount(capacity, field="capacity", label=_("名额"))
    if earn_kind:
        if earn_kind not in (EarnKind.VOLUNTEER_SERVICE, EarnKind.TIMEBANK_SERVICE):
            raise ValidationFailed(_("活动只能按志愿服务积分或时间银行计酬。"), field="earn_kind")
        if not EarningRule.objects.filter(
            community=community, kind=earn_kind, is_active=True
        ).exists():
            raise ValidationFailed(
                _("本社区尚未启用该积分规则，请先在积分规则中设置。"), field="earn_kind"
            )
    if priority_level not in LEVELS:
        raise ValidationFailed(_("未知的信用等级。"), field="priority_level")
    if priority_level and priority_until is None:
        raise ValidationFailed(_("请设置优先报名截止时间。"), field="priority_until")
    with transaction.atomic():
        activity = Activity.objects.create(
            community=community,
            kind=kind,
            title=title[:100],
            location=location[:100],
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=cap,
            organiser=actor,
            description=description,
            earn_kind=earn_kind,
            priority_level=priority_level,
            priority_until=priority_until if priority_level else None,
        )
        audit.record(
            actor=actor,
            action="volunteers.activity_created",
            target=activity,
            community_id=community.pk,
            payload={"title": activity.title, "capacity": cap, "earn": earn_kind},
        )
    return activity


def _taken(activity: Activity) -> int:
    return SignUp.objects.filter(activity=activity, status__in=HOLDS_PLACE).count()


def in_priority_window(activity: Activity) -> bool:
    return bool(
        activity.priority_level
        and activity.priority_until
        and timezone.now() < activity.priority_until
    )


def signup(
    *, actor: Any, activity: Activity, resident: Resident, use_voucher: bool = False
) -> SignUp:
    """Take a place, or join the waitlist when full. Idempotent per person.

    During the priority window only residents with the activity's credit level may sign
    up — or anyone who spends a 优先报名 voucher (``use_voucher``). The voucher is used
    in this same transaction, and only when it secures a place: when the activity is
    already full the request is refused and the voucher kept.
    """
    scope = scope_of(actor)
    if scope.resident_id != resident.pk and not can_check_in(actor, activity):
        raise PermissionDenied()
    if resident.community_id != activity.community_id:
        raise NotFound()
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status != ActivityStatus.OPEN:
            raise InvalidTransition(_("该活动当前不接受报名。"))
        if locked.ends_at <= timezone.now():
            raise InvalidTransition(_("活动已结束。"))
        existing = (
            SignUp.objects.filter(activity=locked, resident=resident)
            .exclude(status=SignUpStatus.CANCELLED)
            .first()
        )
        if existing is not None:
            return existing
        voucher = None
        if (
            in_priority_window(locked)
            and use_voucher
            and not has_credit_level(locked.priority_level)(resident.user)
        ):
            if _taken(locked) >= locked.capacity:
                raise Conflict(
                    _("名额已满，优先报名券未使用，请在开放报名后加入候补。"),
                    code="full",
                )
            voucher = ledger.priority_voucher_consume(
                actor=actor, resident=resident, source=f"volunteers.activity:{locked.pk}"
            )
        elif in_priority_window(locked) and not has_credit_level(locked.priority_level)(
            resident.user
        ):
            raise PermissionDenied(
                _("优先报名阶段仅限信用等级 %(l)s 及以上居民，%(t)s 后开放报名。")
                % {
                    "l": locked.priority_level,
                    "t": timezone.localtime(locked.priority_until).strftime("%m-%d %H:%M"),
                },
                code="priority_only",
            )
        status = (
            SignUpStatus.REGISTERED if _taken(locked) < locked.capacity else SignUpStatus.WAITLISTED
        )
        s = SignUp.objects.create(
            activity=locked, resident=resident, status=status, priority_voucher=voucher
        )
        audit.record(
            actor=actor,
            action="volunteers.signed_up",
            target=s,
            community_id=locked.community_id,
            payload={
                "activity": locked.pk,
                "status": status,
                "voucher": voucher.pk if voucher else None,
            },
        )
    return s


def signup_cancel(*, actor: Any, signup: SignUp) -> SignUp:
    scope = scope_of(actor)
    if scope.resident_id != signup.resident_id and not can_check_in(actor, signup.activity):
        raise PermissionDenied()
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=signup.activity_id)
        s = SignUp.objects.select_for_update().get(pk=signup.pk)
        if s.status not in (SignUpStatus.REGISTERED, SignUpStatus.WAITLISTED):
            raise InvalidTransition(_("已签到或已完成的报名不能取消。"))
        held = s.status == SignUpStatus.REGISTERED
        s.status = SignUpStatus.CANCELLED
        s.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="volunteers.signup_cancelled",
            target=s,
            community_id=activity.community_id,
        )
        if held and _taken(activity) < activity.capacity:
            nxt = (
                SignUp.objects.select_for_update()
                .filter(activity=activity, status=SignUpStatus.WAITLISTED)
                .select_related("resident")
                .order_by("created_at", "id")
                .first()
            )
            if nxt is not None:
                nxt.status = SignUpStatus.REGISTERED
                nxt.save(update_fields=["status", "updated_at"])
                audit.record(
                    actor=actor,
                    action="volunteers.waitlist_promoted",
                    target=nxt,
                    community_id=activity.community_id,
                )
                if nxt.resident.user_id:
                    send_on_commit(
                        Message(
                            "inapp",
                            str(nxt.resident.user_id),
                            _("候补成功"),
                            _("您已从候补转为正式报名：%(t)s") % {"t": activity.title},
                        )
                    )
    return s


def checkin_token(activity: Activity) -> str:
    return signing.dumps({"a": activity.pk}, salt=CHECKIN_SALT, compress=True)


def activity_from_token(token: str) -> Activity:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE)
    except signing.BadSignature:
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token") from None
    activity = Activity.objects.filter(pk=data.get("a")).first()
    if activity is None:
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token")
    return activity


def _check_in(s: SignUp, actor: Any) -> SignUp:
    if s.status == SignUpStatus.CHECKED_IN:
        return s
    if s.status != SignUpStatus.REGISTERED:
        raise InvalidTransition(_("只有已报名（非候补）的居民可以签到。"))
    s.status = SignUpStatus.CHECKED_IN
    s.checked_in_at = timezone.now()
    s.checked_in_by = actor
    s.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
    audit.record(
        actor=actor, action="volunteers.checked_in", target=s, community_id=s.activity.community_id
    )
    return s


def check_in(*, actor: Any, signup: SignUp) -> SignUp:
    """Staff or the organiser checks someone in at the door."""
    if not can_check_in(actor, signup.activity):
        raise PermissionDenied()
    with transaction.atomic():
        s = SignUp.objects.select_for_update().select_related("activity").get(pk=signup.pk)
        if s.activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
            raise InvalidTransition(_("活动已结束或已取消。"))
        return _check_in(s, actor)


def check_in_by_token(*, actor: Any, token: str) -> SignUp:
    """The volunteer scans the code shown at the venue and checks themself in."""
    activity = activity_from_token(token)
    rid = scope_of(actor).resident_id
    if rid is None:
        raise PermissionDenied(_("请用居民账号扫码签到。"))
    if activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise InvalidTransition(_("活动已结束或已取消。"))
    with transaction.atomic():
        s = (
            SignUp.objects.select_for_update()
            .select_related("activity")
            .filter(activity=activity, resident_id=rid)
            .exclude(status=SignUpStatus.CANCELLED)
            .first()
        )
        if s is None:
            raise NotFound(_("您没有报名该活动。"))
        return _check_in(s, actor)


def pass_token(s: SignUp) -> str:
    return signing.dumps({"s": s.pk}, salt=PASS_SALT, compress=True)


def signup_from_pass(*, viewer: Any, token: str) -> SignUp:
    """The sign-up behind a scanned pass. Only door staff of the activity may resolve
    it; for anyone else a valid pass is indistinguishable from a forged one."""
    try:
        data = signing.loads(token, salt=PASS_SALT, max_age=CHECKIN_MAX_AGE)
    except signing.BadSignature:
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token") from None
    s = (
        SignUp.objects.select_related("activity", "resident__household__building")
        .filter(pk=data.get("s"))
        .first()
    )
    if s is None or not can_check_in(viewer, s.activity):
        raise NotFound()
    return s


def check_in_by_pass(*, actor: Any, token: str) -> SignUp:
    """Staff scan the pass on a volunteer's phone: the same check-in as at the list."""
    return check_in(actor=actor, signup=signup_from_pass(viewer=actor, token=token))


def _award_minutes(activity: Activity) -> int:
    # 1 hour served = 1 hour credited: the scheduled length of the activity.
    return max(1, int((activity.ends_at - activity.starts_at).total_seconds() // 60))


def check_out(*, actor: Any, signup: SignUp) -> SignUp:
    """Complete one attendance and award by the activity's rule (caps apply)."""
    if not can_check_in(actor, signup.activity):
        raise PermissionDenied()
    with transaction.atomic():
        s = (
            SignUp.objects.select_for_update()
            .select_related("activity", "resident")
            .get(pk=signup.pk)
        )
        if s.status == SignUpStatus.COMPLETED:
            return s
        if s.status != SignUpStatus.CHECKED_IN:
            raise InvalidTransition(_("请先签到再签退。"))
        activity = s.activity
        awarded = 0
        if activity.earn_kind:
            is_hours = activity.earn_kind == EarnKind.TIMEBANK_SERVICE
            claim = ledger.award(
                actor=actor,
                resident=s.resident,
                kind=activity.earn_kind,
                amount=_award_minutes(activity) if is_hours else None,
                idempotency_key=f"volunteers.signup:{s.pk}:award",
                description=activity.title,
                service_date=timezone.localtime(activity.starts_at).date(),
                clamp_to_cap=True,
                authorised=True,  # permission checked above (organiser/staff of the activity)
            )
            awarded = claim.amount if claim is not None else 0
        s.status = SignUpStatus.COMPLETED
        s.checked_out_at = timezone.now()
        s.awarded = awarded
        s.save(update_fields=["status", "checked_out_at", "awarded", "updated_at"])
        audit.record(
            actor=actor,
            action="volunteers.checked_out",
            target=s,
            community_id=activity.community_id,
            payload={"awarded": awarded, "kind": activity.earn_kind},
        )
        if s.resident.user_id and awarded:
            unit = _("分钟") if activity.earn_kind == EarnKind.TIMEBANK_SERVICE else _("积分")
            send_on_commit(
                Message(
                    "inapp",
                    str(s.resident.user_id),
                    _("活动奖励到账"),
                    _("感谢参加“%(t)s”，获得 %(n)s %(u)s。")
                    % {"t": activity.title, "n": awarded, "u": unit},
                )
            )
    return s


def activity_finish(*, actor: Any, activity: Activity) -> int:
    """Check out everyone still checked in, then close the activity. Returns how many."""
    if not can_manage_activity(actor, activity):
        raise PermissionDenied()
    n = 0
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        for s in SignUp.objects.filter(activity=locked, status=SignUpStatus.CHECKED_IN).order_by(
            "id"
        ):
            check_out(actor=actor, signup=s)
            n += 1
        _move(locked, ActivityStatus.FINISHED)
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="volunteers.activity_finished",
            target=locked,
            community_id=locked.community_id,
            payload={"checked_out": n},
        )
    return n


def activity_set_status(*, actor: Any, activity: Activity, status: str) -> Activity:
    if not can_manage_activity(actor, activity):
        raise PermissionDenied()
    if status == ActivityStatus.FINISHED:
        raise ValidationFailed(_("请使用“结束活动并发放奖励”。"))
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        _move(locked, status)
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action=f"volunteers.activity_{status}",
            target=locked,
            community_id=locked.community_id,
        )
    return locked


__all__ = ["Conflict", "Currency"]
