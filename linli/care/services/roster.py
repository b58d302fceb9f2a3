"""The care roster: enrolment, the care team, family contacts (with consent), away
status, major events and each subject's due date (from :mod:`linli.care.schedule`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Role, User
from linli.accounts.scope import scope_of
from linli.care import rules as care_rules
from linli.care import schedule
from linli.care.models import (
    CareSettings,
    CareSubject,
    FamilyContact,
    MajorEvent,
    Tier,
    Visit,
    VisitChannel,
)
from linli.care.permissions import acting_user, can_manage_roster, can_set_away, grid_worker_of
from linli.communities.models import OrgUnit, Resident, SpecialGroup
from linli.core import ratelimit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import governed_write, insert_or_skip, lock_row

ratelimit.LIMITS.setdefault("care.enrol", {"user": ratelimit.Limit(per_minute=30, per_day=500)})
ratelimit.LIMITS.setdefault("care.contact", {"user": ratelimit.Limit(per_minute=20, per_day=300)})
ratelimit.LIMITS.setdefault("care.event", {"user": ratelimit.Limit(per_minute=5, per_day=30)})

AWAY_MAX_DAYS = 180
PHONE_RE = re.compile(r"^1\d{10}$")
# Tags that put a resident on the care roster, and the tier each starts in.
CARE_TAGS = (
    SpecialGroup.LIVING_ALONE,
    SpecialGroup.EMPTY_NEST,
    SpecialGroup.DISABLED,
    SpecialGroup.LOW_INCOME,
    SpecialGroup.CHRONIC,
    SpecialGroup.LEFT_BEHIND_CHILD,
)
OVERRIDE_LIMITS = {
    "no_water_hours": (4, 72),
    "no_water_litres": (1, 200),
    "leak_hours": (6, 72),
    "high_use_min_litres": (50, 5000),
    "not_seen_days": (1, 14),
}


def default_tier(tags: list[str]) -> str:
    if SpecialGroup.LIVING_ALONE in tags:
        return Tier.ALONE
    if {SpecialGroup.DISABLED, SpecialGroup.LEFT_BEHIND_CHILD, SpecialGroup.CHRONIC} & set(tags):
        return Tier.MONTHLY
    return Tier.QUARTERLY


def settings_for(community_id: int) -> CareSettings:
    row = CareSettings.objects.filter(community_id=community_id).first()
    if row is None:
        row = CareSettings(community_id=community_id)
        if not insert_or_skip(row):
            row = CareSettings.objects.get(community_id=community_id)
    return row


SETTING_FIELDS = (
    "high_interval_days",
    "event_visit_hours",
    "alone_visits_per_month",
    "grace_days",
    "ack_minutes",
    "no_water_hours",
    "no_water_litres",
    "leak_hours",
    "high_use_min_litres",
    "not_seen_days",
    "silent_hours",
)


def settings_save(*, actor: Actor, community: OrgUnit, **values: Any) -> CareSettings:
    """Change the community's plan and thresholds (community workers, secretary)."""
    if not can_manage_roster(actor, community):
        raise PermissionDenied()
    clean: dict[str, Any] = {}
    for name in SETTING_FIELDS:
        if name in values and values[name] not in (None, ""):
            try:
                n = int(values[name])
            except (TypeError, ValueError):
                raise ValidationFailed(_("请输入整数。"), field=name) from None
            if not 1 <= n <= 10_000:
                raise ValidationFailed(_("数值超出允许范围。"), field=name)
            clean[name] = n
    if "high_use_factor" in values and values["high_use_factor"] not in (None, ""):
        try:
            f = Decimal(str(values["high_use_factor"]))
        except InvalidOperation:
            raise ValidationFailed(_("请输入数字。"), field="high_use_factor") from None
        if not Decimal("1.5") <= f <= Decimal("20"):
            raise ValidationFailed(_("倍数应在 1.5 到 20 之间。"), field="high_use_factor")
        clean["high_use_factor"] = f
    if "duty_phone" in values:
        phone = (values["duty_phone"] or "").strip()
        if phone and not re.match(r"^[0-9-]{7,20}$", phone):
            raise ValidationFailed(_("值班电话格式不正确。"), field="duty_phone")
        clean["duty_phone"] = phone
    if "rules_off" in values:
        off = sorted(set(values["rules_off"] or []))
        if any(r not in care_rules.RULES for r in off):
            raise ValidationFailed(_("未知的规则。"), field="rules_off")
        clean["rules_off"] = off
    with governed_write(actor=actor, action="care.settings_saved", community_id=community.pk) as w:
        row = settings_for(community.pk)
        row = lock_row(CareSettings.objects.all(), row.pk)
        for k, v in clean.items():
            setattr(row, k, v)
        row.save()
        w.target = row
        w.payload = {k: str(v) for k, v in clean.items()}
    return row


# --------------------------------------------------------------------------- due dates


def refresh_due(subject: CareSubject, *, now: datetime | None = None) -> CareSubject:
    """Recompute ``next_due_at`` (and ``last_visit_at``) from the home visits and the
    community's recent major events. Writes the two columns only."""
    now = now or timezone.now()
    plan = schedule.plan_of(settings_for(subject.community_id))
    visits = list(
        Visit.objects.filter(
            community_id=subject.community_id, subject_id=subject.pk, kind="home", present=True
        )
        .order_by("-visited_at")
        .values_list("visited_at", flat=True)[:10]
    )
    events = list(
        MajorEvent.objects.filter(
            community_id=subject.community_id, declared_at__gte=now - timedelta(days=30)
        ).values_list("declared_at", flat=True)
    )
    subject.last_visit_at = max(visits) if visits else None
    subject.next_due_at = schedule.next_due(
        tier=subject.tier,
        plan=plan,
        enrolled_at=subject.created_at or now,
        visits=visits,
        events=events,
        now=now,
    )
    CareSubject.objects.filter(pk=subject.pk).update(
        last_visit_at=subject.last_visit_at, next_due_at=subject.next_due_at
    )
    return subject


# --------------------------------------------------------------------------- team


def _check_worker(worker: User | None, resident: Resident) -> User:
    if worker is None:
        raise ValidationFailed(_("请选择责任网格员。"), field="worker")
    grid = resident.grid
    if not scope_of(worker).covers(grid.path, Role.GRID_WORKER):
        raise ValidationFailed(_("所选网格员不负责该居民所在网格。"), field="worker")
    return worker


def _check_volunteer(user: User | None, resident: Resident, field: str) -> User | None:
    if user is None:
        return None
    their = scope_of(user)
    if their.resident_id is None or their.community_id != resident.community_id:
        raise ValidationFailed(_("结对志愿者须为本社区登记在册的居民。"), field=field)
    if their.resident_id == resident.pk:
        raise ValidationFailed(_("结对志愿者不能是本人。"), field=field)
    return user


def _check_tier(tier: str) -> str:
    if tier not in Tier.values:
        raise ValidationFailed(_("未知的关爱等级。"), field="tier")
    return tier


def subject_enrol(
    *,
    actor: Actor,
    resident: Resident,
    worker: User | None,
    tier: str = "",
    volunteer: User | None = None,
    volunteer2: User | None = None,
    now: datetime | None = None,
) -> CareSubject:
    """Put a resident with a special-group tag on the care roster (community workers,
    the secretary). The tier defaults from the tags (独居 → ≥ 2 visits a month)."""
    if not can_manage_roster(actor, resident):
        raise PermissionDenied()
    if not set(resident.tags) & set(CARE_TAGS):
        raise ValidationFailed(_("该居民没有特殊群体标签，不能纳入关爱名册。"), field="resident")
    tier = _check_tier(tier or default_tier(resident.tags))
    worker = _check_worker(worker, resident)
    volunteer = _check_volunteer(volunteer, resident, "volunteer")
    volunteer2 = _check_volunteer(volunteer2, resident, "volunteer2")
    if volunteer is not None and volunteer2 is not None and volunteer.pk == volunteer2.pk:
        raise ValidationFailed(_("两位结对志愿者不能是同一人。"), field="volunteer2")
    ratelimit.check("care.enrol", user=actor)
    with governed_write(
        actor=actor, action="care.enrolled", community_id=resident.community_id
    ) as w:
        subject = CareSubject(
            community_id=resident.community_id,
            grid_id=resident.grid_id,
            household_id=resident.household_id,
            resident=resident,
            tier=tier,
            worker=worker,
            volunteer=volunteer,
            volunteer2=volunteer2,
        )
        if not insert_or_skip(subject):
            raise Conflict(_("该居民已在关爱名册中。"))
        refresh_due(subject, now=now)
        w.target = subject
        w.payload = {"tier": tier, "worker": worker.pk, "resident": resident.pk}
    return subject


def subject_update(
    *,
    actor: Actor,
    subject: CareSubject,
    tier: str,
    worker: User | None,
    volunteer: User | None = None,
    volunteer2: User | None = None,
    overrides: dict[str, Any] | None = None,
    is_active: bool = True,
    now: datetime | None = None,
) -> CareSubject:
    if not can_manage_roster(actor, subject):
        raise PermissionDenied()
    resident = subject.resident
    tier = _check_tier(tier)
    worker = _check_worker(worker, resident)
    volunteer = _check_volunteer(volunteer, resident, "volunteer")
    volunteer2 = _check_volunteer(volunteer2, resident, "volunteer2")
    if volunteer is not None and volunteer2 is not None and volunteer.pk == volunteer2.pk:
        raise ValidationFailed(_("两位结对志愿者不能是同一人。"), field="volunteer2")
    clean = clean_overrides(overrides or {})
    with governed_write(
        actor=actor, action="care.subject_updated", community_id=subject.community_id
    ) as w:
        row = lock_row(CareSubject.objects.select_related("resident"), subject.pk)
        before = {"tier": row.tier, "worker": row.worker_id}
        row.tier, row.worker, row.volunteer, row.volunteer2 = tier, worker, volunteer, volunteer2
        row.overrides, row.is_active = clean, is_active
        row.save()
        refresh_due(row, now=now)
        w.target = row
        w.payload = {"before": before, "tier": tier, "worker": worker.pk, "overrides": clean}
    return row


def clean_overrides(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (lo, hi) in OVERRIDE_LIMITS.items():
        value = raw.get(name)
        if value in (None, ""):
            continue
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed(_("请输入整数。"), field=name) from None
        if not lo <= n <= hi:
            raise ValidationFailed(
                _("该项应在 %(lo)d 到 %(hi)d 之间。") % {"lo": lo, "hi": hi}, field=name
            )
        out[name] = n
    off = sorted(set(raw.get("off") or []))
    if any(r not in care_rules.RULES for r in off):
        raise ValidationFailed(_("未知的规则。"), field="off")
    if off:
        out["off"] = off
    return out


def contact_add(
    *,
    actor: Actor,
    subject: CareSubject,
    name: str,
    relation: str,
    phone: str,
    consent: bool,
    consent_channel: str,
    notify: bool = True,
) -> FamilyContact:
    """Record a family contact. Without the resident's consent nothing is recorded."""
    if not (can_manage_roster(actor, subject) or grid_worker_of(actor, subject)):
        raise PermissionDenied()
    if not consent:
        raise ValidationFailed(_("须经本人（或监护人）同意才能登记家属联系方式。"), field="consent")
    if consent_channel not in VisitChannel.values and consent_channel not in ("in_person", "form"):
        raise ValidationFailed(_("请选择同意方式。"), field="consent_channel")
    name = within(name, field="name", limit=40, label=_("姓名"))
    relation = within(relation, field="relation", limit=20, label=_("关系"))
    phone = (phone or "").strip()
    if not name:
        raise ValidationFailed(_("请填写家属姓名。"), field="name")
    if not PHONE_RE.match(phone):
        raise ValidationFailed(_("请输入11位手机号。"), field="phone")
    ratelimit.check("care.contact", user=actor)
    with governed_write(
        actor=actor, action="care.contact_added", community_id=subject.community_id
    ) as w:
        contact = FamilyContact(
            community_id=subject.community_id,
            subject=subject,
            name=name,
            relation=relation or _("家属"),
            phone=phone,
            consent_channel=consent_channel,
            consent_at=timezone.now(),
            recorded_by=acting_user(actor),
            notify=notify,
        )
        if not insert_or_skip(contact):
            raise Conflict(_("该手机号已登记为家属联系人。"))
        w.target = contact
        # The phone itself stays out of the audit log (sensitive).
        w.payload = {
            "subject": subject.pk,
            "relation": contact.relation,
            "consent": consent_channel,
        }
    return contact


def contact_remove(*, actor: Actor, contact: FamilyContact) -> None:
    if not can_manage_roster(actor, contact):
        raise PermissionDenied()
    with governed_write(
        actor=actor, action="care.contact_removed", community_id=contact.community_id
    ) as w:
        w.payload = {"subject": contact.subject_id, "contact": contact.pk}
        FamilyContact.objects.filter(pk=contact.pk, community_id=contact.community_id).delete()


def away_set(
    *,
    actor: Actor,
    subject: CareSubject,
    until: datetime | None,
    reason: str = "",
    channel: str = "self",
    now: datetime | None = None,
) -> CareSubject:
    """Mark the household "away until …" (hospital, staying with family): alerts
    raised meanwhile are held — shown as held, not dropped. ``until=None`` clears it.
    ``channel`` records how staff learned of it when they set it (代办)."""
    if not can_set_away(actor, subject):
        raise PermissionDenied()
    now = now or timezone.now()
    reason = within(reason, field="reason", limit=60, label=_("外出原因"))
    if until is not None:
        if until <= now:
            raise ValidationFailed(_("返回时间须晚于现在。"), field="until")
        if until > now + timedelta(days=AWAY_MAX_DAYS):
            raise ValidationFailed(
                _("外出报备最长 %(d)d 天，请到期后续报。") % {"d": AWAY_MAX_DAYS}, field="until"
            )
    if channel not in (*VisitChannel.values,):
        raise ValidationFailed(_("未知的登记方式。"), field="channel")
    with governed_write(
        actor=actor,
        action="care.away_set" if until else "care.away_cleared",
        community_id=subject.community_id,
    ) as w:
        row = lock_row(CareSubject.objects.all(), subject.pk, community_id=subject.community_id)
        row.away_until = until
        row.away_reason = reason if until else ""
        row.save(update_fields=["away_until", "away_reason", "updated_at"])
        w.target = row
        w.payload = {"until": until.isoformat() if until else None, "channel": channel}
    subject.away_until, subject.away_reason = row.away_until, row.away_reason
    return row


def is_away(subject: CareSubject | None, now: datetime) -> bool:
    return bool(subject and subject.away_until and subject.away_until > now)


def event_declare(
    *, actor: Actor, community: OrgUnit, title: str, now: datetime | None = None
) -> MajorEvent:
    """Declare a major event (高温, 台风 …): every high-risk resident of the community is
    due a home visit within ``event_visit_hours``."""
    if not can_manage_roster(actor, community):
        raise PermissionDenied()
    title = within(title, field="title", limit=60, label=_("事件"))
    if not title:
        raise ValidationFailed(_("请填写事件名称。"), field="title")
    now = now or timezone.now()
    ratelimit.check("care.event", user=actor)
    with governed_write(actor=actor, action="care.event_declared", community_id=community.pk) as w:
        # A double tap or a retried request within 10 minutes is the same declaration.
        same = MajorEvent.objects.filter(
            community_id=community.pk, title=title, declared_at__gte=now - timedelta(minutes=10)
        ).first()
        if same is not None:
            w.record = False
            return same
        event = MajorEvent.objects.create(
            community=community,
            title=title,
            declared_at=now,
            declared_by=acting_user(actor),
        )
        high = CareSubject.objects.filter(community_id=community.pk, is_active=True, tier="high")
        n = 0
        for s in high:
            refresh_due(s, now=now)
            n += 1
        w.target = event
        w.payload = {"title": title, "high_risk": n}
    return event
