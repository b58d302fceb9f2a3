"""Writes for volunteers and activities.

Places are counted under a row lock on the activity, so two people taking the last
place at the same moment cannot both get it; the second is waitlisted. Cancelling a
place promotes the earliest waitlisted sign-up in the same transaction. Check-out
awards points or hours through the ledger with a key derived from the sign-up, so a
repeated check-out never pays twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from django.core import signing
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core import ratelimit
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
from linli.core.writes import Write, governed_write, lock_row
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
from linli.volunteers.permissions import can_check_in, can_create_activity
from linli.volunteers.states import (
    ACTIVITY,
    ACTIVITY_EVENTS,
    SIGNUP,
    SIGNUP_EVENTS,
    STATUS_ACTIONS,
)

CHECKIN_SALT = "volunteers.checkin"
# A volunteer's personal check-in pass (shown on their sign-up, scanned by staff at the
# door). Its own salt, so a pass can never be replayed as a venue code or vice versa.
PASS_SALT = "volunteers.pass"  # noqa: S105 (a signing salt, not a secret)
CHECKIN_MAX_AGE = 3 * 24 * 3600

# --------------------------------------------------------------------------- profiles


def profile_save(
    *,
    actor: Actor,
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
    with governed_write(
        actor=actor, action="volunteers.profile_saved", community_id=resident.community_id
    ) as w:
        profile, created = VolunteerProfile.objects.update_or_create(
            resident=resident,
            defaults={
                "community_id": resident.community_id,
                "intro": within(intro, field="intro", limit=300, label=_("个人简介")),
                "availability": slots,
                "listed": listed,
                "is_active": True,
            },
        )
        VolunteerSkill.objects.filter(
            community_id=resident.community_id, profile_id=profile.pk
        ).delete()
        seen: set[str] = set()
        rows = []
        for cat, detail in skills:
            if cat not in seen:
                seen.add(cat)
                rows.append(
                    VolunteerSkill(
                        community_id=resident.community_id,
                        profile=profile,
                        category=cat,
                        detail=within(detail, field="detail", limit=100, label=_("具体说明")),
                    )
                )
        VolunteerSkill.objects.bulk_create(rows)
        w.target = profile
        w.payload.update(skills=sorted(seen), slots=slots, listed=listed, created=created)
    return profile


# --------------------------------------------------------------------------- activities


def activity_create(
    *,
    actor: Actor,
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
    title = within(title, field="title", limit=100, label=_("活动名称"))
    description = within(description, field="description", limit=2000, label=_("活动内容"))
    location = within(location, field="location", limit=100, label=_("活动地点"))
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
    with governed_write(
        actor=actor, action="volunteers.activity_created", community_id=community.pk
    ) as w:
        activity = Activity.objects.create(
            community=community,
            kind=kind,
            title=title,
            location=location,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=cap,
            organiser_id=cast(int, getattr(actor, "pk", None)),
            description=description,
            earn_kind=earn_kind,
            priority_level=priority_level,
            priority_until=priority_until if priority_level else None,
        )
        w.target = activity
        w.payload.update(title=activity.title, capacity=cap, earn=earn_kind)
    return activity


def in_priority_window(activity: Activity) -> bool:
    return bool(
        activity.priority_level
        and activity.priority_until
        and timezone.now() < activity.priority_until
    )


def _places(activity: Activity, resident_id: int) -> tuple[int, int | None]:
    """One statement: places taken on ``activity`` and the resident's live sign-up id."""
    row = SignUp.objects.filter(
        community_id=activity.community_id, activity_id=activity.pk
    ).aggregate(
        taken=Count("id", filter=Q(status__in=HOLDS_PLACE)),
        mine=Max("id", filter=Q(resident_id=resident_id) & ~Q(status=SignUpStatus.CANCELLED)),
    )
    return int(row["taken"] or 0), row["mine"]


def signup(
    *, actor: Actor, activity: Activity, resident: Resident, use_voucher: bool = False
) -> SignUp:
    """Take a place, or join the waitlist when full. Idempotent per person.

    Who may sign up when is the ``sign_up`` (oneself) / ``sign_up_for`` (door staff for
    someone else) row of :data:`ACTIVITY`, checked again on the locked activity.
    During the priority window only residents with the activity's credit level may sign
    up — or anyone who spends a 优先报名 voucher (``use_voucher``). The voucher is used
    in this same transaction, and only when it secures a place: when the activity is
    already full the request is refused and the voucher kept.
    """
    action = "sign_up" if scope_of(actor).resident_id == resident.pk else "sign_up_for"
    ACTIVITY.check(actor, activity, action)
    if resident.community_id != activity.community_id:
        raise NotFound()
    ratelimit.check("volunteers.signup", user=actor)
    with governed_write(
        actor=actor, action="volunteers.signed_up", community_id=activity.community_id
    ) as w:
        # The activity's row lock serialises sign-ups: places are counted under it.
        locked = lock_row(Activity.objects.all(), activity.pk, community_id=activity.community_id)
        ACTIVITY.check(actor, locked, action)
        taken, mine = _places(locked, resident.pk)
        if mine is not None:
            w.record = False  # a repeated sign-up returns the first one
            return SignUp.objects.get(pk=mine, community_id=locked.community_id)
        voucher = None
        if in_priority_window(locked) and not has_credit_level(locked.priority_level)(
            resident.user
        ):
            if not use_voucher:
                raise PermissionDenied(
                    _("优先报名阶段仅限信用等级 %(l)s 及以上居民，%(t)s 后开放报名。")
                    % {
                        "l": locked.priority_level,
                        "t": timezone.localtime(locked.priority_until).strftime("%m-%d %H:%M"),
                    },
                    code="priority_only",
                )
            if taken >= locked.capacity:
                raise Conflict(
                    _("名额已满，优先报名券未使用，请在开放报名后加入候补。"),
                    code="full",
                )
            voucher = ledger.priority_voucher_consume(
                actor=actor, resident=resident, source=f"volunteers.activity:{locked.pk}"
            )
        status = SignUpStatus.REGISTERED if taken < locked.capacity else SignUpStatus.WAITLISTED
        s = SignUp.objects.create(
            community_id=locked.community_id,
            activity=locked,
            resident=resident,
            status=status,
            priority_voucher=voucher,
        )
        w.target = s
        w.payload.update(
            activity=locked.pk, status=str(status), voucher=voucher.pk if voucher else None
        )
    return s


def _named(
    events: dict[str, str], action: str, more: Callable[[Any, Write], None] | None = None
) -> Callable[[Any, Write], None]:
    """``effects`` that keep the audit action name the log has always used."""

    def effects(row: Any, w: Write) -> None:
        w.action = events[action]
        if more is not None:
            more(row, w)

    return effects


def _already(actor: Actor, s: SignUp, action: str) -> bool:
    """True when ``s`` already is where ``action`` leads (a repeated check-in/out):
    the caller returns it unchanged. Refusals other than the state still apply, so a
    repeat tells nobody more than a first attempt would."""
    if s.status != SIGNUP[action].target:
        return False
    err = SIGNUP.refusal(actor, s, action)
    if err is not None and not isinstance(err, InvalidTransition):
        raise err
    return True


def signup_cancel(*, actor: Actor, signup: SignUp) -> SignUp:
    """Cancel a place or a waitlist entry; a freed place goes to the earliest waitlisted
    sign-up in the same transaction."""
    SIGNUP.check(actor, signup, "cancel")
    with transaction.atomic():
        # Activity first, then sign-ups: the same order as every sign-up, so two
        # cancellations never wait on each other crosswise.
        activity = lock_row(
            Activity.objects.all(), signup.activity_id, community_id=signup.community_id
        )
        row = lock_row(SignUp.objects.all(), signup.pk, community_id=signup.community_id)
        row.activity = activity
        held = row.status == SignUpStatus.REGISTERED
        s = SIGNUP.apply(
            actor=actor,
            obj=row,
            action="cancel",
            locked=True,
            effects=_named(SIGNUP_EVENTS, "cancel"),
        )
        taken, _mine = _places(activity, 0)
        if held and taken < activity.capacity:
            nxt = (
                SignUp.objects.select_for_update(of=("self",))
                .filter(
                    community_id=activity.community_id,
                    activity_id=activity.pk,
                    status=SignUpStatus.WAITLISTED,
                )
                .select_related("resident")
                .order_by("created_at", "id")
                .first()
            )
            if nxt is not None:
                nxt.activity = activity
                user_id = nxt.resident.user_id

                def promoted(row: SignUp, w: Write) -> None:
                    w.audit_actor = actor  # the system moves it; the canceller caused it
                    if user_id:
                        w.notify(
                            Message(
                                "inapp",
                                str(user_id),
                                _("候补成功"),
                                _("您已从候补转为正式报名：%(t)s") % {"t": activity.title},
                            )
                        )

                SIGNUP.apply(
                    actor=None,
                    obj=nxt,
                    action="promote",
                    locked=True,
                    effects=_named(SIGNUP_EVENTS, "promote", promoted),
                )
    signup.status = s.status
    return s


def checkin_token(activity: Activity) -> str:
    # The community rides along so the scan's lookup is tenant-filtered.
    return signing.dumps(
        {"a": activity.pk, "c": activity.community_id}, salt=CHECKIN_SALT, compress=True
    )


def _token_activity(token: str) -> tuple[int, int | None]:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE)
    except signing.BadSignature:
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token") from None
    pk = data.get("a") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token")
    cid = data.get("c")
    return pk, cid if isinstance(cid, int) else None  # codes issued before had no "c"


def activity_from_token(token: str) -> Activity:
    pk, cid = _token_activity(token)
    qs = Activity.objects.filter(pk=pk)
    activity = (qs.filter(community_id=cid) if cid is not None else qs).first()
    if activity is None:
        raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token")
    return activity


def _check_in(actor: Actor, s: SignUp, action: str) -> SignUp:
    """Apply ``check_in`` / ``self_check_in``; checking in twice returns the first."""
    if _already(actor, s, action):
        return s

    def stamp(row: SignUp, w: Write) -> None:
        row.checked_in_at = timezone.now()
        row.checked_in_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]

    try:
        return SIGNUP.apply(
            actor=actor, obj=s, action=action, effects=_named(SIGNUP_EVENTS, action, stamp)
        )
    except InvalidTransition:
        # A concurrent scan won: the volunteer is checked in all the same.
        now = SignUp.objects.filter(pk=s.pk, community_id=s.community_id).first()
        if now is not None and now.status == SignUpStatus.CHECKED_IN:
            return now
        raise


def check_in(*, actor: Actor, signup: SignUp) -> SignUp:
    """Staff or the organiser checks someone in at the door."""
    return _check_in(actor, signup, "check_in")


def check_in_by_token(*, actor: Actor, token: str) -> SignUp:
    """The volunteer scans the code shown at the venue and checks themself in."""
    activity_id, community_id = _token_activity(token)
    rid = scope_of(actor).resident_id
    if rid is None:
        raise PermissionDenied(_("请用居民账号扫码签到。"))
    # One read: the volunteer's live sign-up with its activity (the token's activity
    # must exist, else the code is as bad as a forged one).
    qs = SignUp.objects.select_related("activity").filter(activity_id=activity_id, resident_id=rid)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    s = qs.exclude(status=SignUpStatus.CANCELLED).first()
    if s is None:
        if not Activity.objects.filter(pk=activity_id).exists():
            raise ValidationFailed(_("签到码无效或已过期。"), code="bad_token")
        raise NotFound(_("您没有报名该活动。"))
    return _check_in(actor, s, "self_check_in")


def pass_token(s: SignUp) -> str:
    return signing.dumps({"s": s.pk}, salt=PASS_SALT, compress=True)


def signup_from_pass(*, viewer: Actor, token: str) -> SignUp:
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


def check_in_by_pass(*, actor: Actor, token: str) -> SignUp:
    """Staff scan the pass on a volunteer's phone: the same check-in as at the list."""
    return check_in(actor=actor, signup=signup_from_pass(viewer=actor, token=token))


def _award_minutes(activity: Activity) -> int:
    # 1 hour served = 1 hour credited: the scheduled length of the activity.
    return max(1, int((activity.ends_at - activity.starts_at).total_seconds() // 60))


def check_out(*, actor: Actor, signup: SignUp) -> SignUp:
    """Complete one attendance and award by the activity's rule (caps apply).
    Checking out twice returns the first (the award's key is derived from the
    sign-up, so it never pays twice)."""
    if _already(actor, signup, "check_out"):
        return signup

    def award(row: SignUp, w: Write) -> None:
        activity = row.activity
        awarded = 0
        if activity.earn_kind:
            is_hours = activity.earn_kind == EarnKind.TIMEBANK_SERVICE
            claim = ledger.award(
                actor=actor,
                resident=row.resident,
                kind=activity.earn_kind,
                amount=_award_minutes(activity) if is_hours else None,
                idempotency_key=f"volunteers.signup:{row.pk}:award",
                description=activity.title,
                service_date=timezone.localtime(activity.starts_at).date(),
                clamp_to_cap=True,
                authorised=True,  # the machine checked: door staff of the activity
            )
            awarded = claim.amount if claim is not None else 0
        row.checked_out_at = timezone.now()
        row.awarded = awarded
        w.payload.update(awarded=awarded, kind=activity.earn_kind)
        if row.resident.user_id and awarded:
            unit = _("分钟") if activity.earn_kind == EarnKind.TIMEBANK_SERVICE else _("积分")
            w.notify(
                Message(
                    "inapp",
                    str(row.resident.user_id),
                    _("活动奖励到账"),
                    _("感谢参加“%(t)s”，获得 %(n)s %(u)s。")
                    % {"t": activity.title, "n": awarded, "u": unit},
                )
            )

    s = SIGNUP.apply(
        actor=actor,
        obj=signup,
        action="check_out",
        effects=_named(SIGNUP_EVENTS, "check_out", award),
    )
    signup.status, signup.awarded = s.status, s.awarded
    return s


def activity_finish(*, actor: Actor, activity: Activity) -> int:
    """Check out everyone still checked in, then close the activity. Returns how many."""
    ACTIVITY.check(actor, activity, "finish")
    n = 0
    with transaction.atomic():
        locked = lock_row(Activity.objects.all(), activity.pk, community_id=activity.community_id)
        ACTIVITY.check(actor, locked, "finish")
        for s in (
            SignUp.objects.select_related("activity", "resident")
            .filter(
                community_id=locked.community_id,
                activity_id=locked.pk,
                status=SignUpStatus.CHECKED_IN,
            )
            .order_by("id")
        ):
            check_out(actor=actor, signup=s)
            n += 1

        def counted(row: Activity, w: Write) -> None:
            w.payload["checked_out"] = n

        ACTIVITY.apply(
            actor=actor,
            obj=locked,
            action="finish",
            locked=True,
            effects=_named(ACTIVITY_EVENTS, "finish", counted),
        )
    activity.status = locked.status
    return n


def activity_set_status(*, actor: Actor, activity: Activity, status: str) -> Activity:
    """Close, reopen or cancel an activity (finishing pays awards: activity_finish)."""
    if status == ActivityStatus.FINISHED:
        ACTIVITY.check(actor, activity, "finish")
        raise ValidationFailed(_("请使用“结束活动并发放奖励”。"))
    action = STATUS_ACTIONS.get(status)  # type: ignore[call-overload]
    if action is None:
        raise InvalidTransition()
    return ACTIVITY.apply(
        actor=actor, obj=activity, action=action, effects=_named(ACTIVITY_EVENTS, action)
    )


__all__ = ["Conflict", "Currency"]
