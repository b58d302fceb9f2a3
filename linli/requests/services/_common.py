"""Helpers shared by the request services: timeline rows, notifications, input
cleaning, photos. Not part of the public API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role, User
from linli.communities.models import Resident
from linli.core.errors import ValidationFailed
from linli.core.notify import Message, send_on_commit
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write
from linli.requests import deadlines
from linli.requests import states as st
from linli.requests.models import (
    Channel,
    RequestEvent,
    RequestPhoto,
    ServiceRequest,
)
from linli.requests.photos import CleanPhoto, clean_photos
from linli.requests.routing import Target

MIN_DESCRIPTION = 5
MAX_DESCRIPTION = 2000
NOTE_LIMIT = 2000  # RequestEvent.note's column size
URGE_INTERVAL = st.URGE_INTERVAL
REOPEN_WINDOW = st.REOPEN_WINDOW
AUTO_CLOSE_AFTER = timedelta(days=7)
ESCALATE_INTERVAL = timedelta(hours=24)
STAFF_CHANNELS = (Channel.HOTLINE, Channel.BOX, Channel.VISIT)


def _user(actor: Actor) -> User | None:
    """The acting user when there is one (not the system, not an anonymous visitor)."""
    return actor if isinstance(actor, User) else None


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _event(
    req: ServiceRequest,
    *,
    actor: Actor,
    kind: str,
    now: datetime,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    public: bool = True,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=req,
        community_id=req.community_id,
        at=now,
        actor_id=getattr(actor, "pk", None),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note[:2000],
        public=public,
    )


def _reporter_phone(req: ServiceRequest) -> str:
    """The number progress messages go to, or "" for none.

    A resident's own account number, or the number staff took down when recording for
    a resident (代办). A number an Open311 caller typed is texted only when it belongs
    to a resident with an account in the request's community: otherwise anyone with a
    key could send our messages to any phone. It stays on the record for staff to call
    back either way."""
    if req.reporter_id and req.reporter is not None and req.reporter.phone:
        return req.reporter.phone
    phone = req.reporter_phone
    if phone and req.reporter_id is None and req.channel == Channel.OPEN311:
        known = (
            Resident.objects.filter(
                community_id=req.community_id, is_active=True, user__isnull=False
            )
            .filter(Q(phone=phone) | Q(user__phone=phone))
            .exists()
        )
        return phone if known else ""
    return phone


def _notify_reporter(req: ServiceRequest, body: str) -> None:
    phone = _reporter_phone(req)
    if phone:
        send_on_commit(Message("sms", phone, _("诉求进度"), f"#{req.pk} {body}"))


def _staff_q(req: ServiceRequest, level: int) -> Q:
    if level == 0:
        q = Q(pk__in=[])
        if req.grid_id:
            q |= Q(role=Role.GRID_WORKER, unit_id=req.grid_id)
        if req.assignee_org_id:
            q |= Q(organisation_id=req.assignee_org_id)
        return q
    if level == 1:
        return Q(role__in=[Role.COMMUNITY_WORKER, Role.SECRETARY], unit_id=req.community_id)
    return Q(role=Role.STREET_OFFICER, unit_id=req.community.parent_id)


def _staff_users(req: ServiceRequest, level: int) -> list[str]:
    """Usernames to tell at an escalation level: 0 grid/assignee, 1 community, 2 street
    (one query)."""
    return sorted(
        set(
            Membership.objects.active()
            .filter(_staff_q(req, level))
            .values_list("user__username", flat=True)
        )
    )


def _notify_staff(req: ServiceRequest, level: int, body: str) -> None:
    for username in _staff_users(req, level):
        send_on_commit(Message("inapp", username, _("诉求工单"), f"#{req.pk} {body}"))


def _clean_text(text: str, *, field: str, min_len: int, max_len: int, what: str) -> str:
    text = (text or "").strip()
    if len(text) < min_len:
        raise ValidationFailed(
            _("请填写%(what)s（至少 %(n)d 个字）。") % {"what": what, "n": min_len}, field=field
        )
    if len(text) > max_len:
        raise ValidationFailed(
            _("%(what)s不能超过 %(n)d 个字。") % {"what": what, "n": max_len}, field=field
        )
    return text


def _decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(_("坐标格式不正确。"), field=field) from exc
    if not d.is_finite():
        raise ValidationFailed(_("坐标格式不正确。"), field=field)
    return d


def _save_photos(
    req: ServiceRequest, photos: Sequence[Any], *, kind: str, actor: Actor
) -> list[RequestPhoto]:
    """Store photos already cleaned by :func:`_clean_photos` (raw uploads are cleaned
    here, all before touching storage or the database)."""
    cleaned = [p for p in photos if isinstance(p, CleanPhoto)]
    if len(cleaned) != len(photos):
        cleaned = _clean_photos(photos)
    out = []
    for i, c in enumerate(cleaned):
        photo = RequestPhoto(
            request=req,
            community_id=req.community_id,
            kind=kind,
            content_type=c.content_type,
            width=c.width,
            height=c.height,
            uploaded_by_id=getattr(actor, "pk", None),
        )
        ext = (c.content.name or "photo.jpg").rsplit(".", 1)[-1]
        photo.image.save(f"r{req.pk}-{kind}-{i}.{ext}", c.content, save=False)
        photo.save()
        out.append(photo)
    return out


def _clean_photos(uploads: Sequence[Any]) -> list[CleanPhoto]:
    """Check and re-encode every photo once (headers and total pixels first); pass the
    result to :func:`_save_photos`."""
    return clean_photos(uploads)


def _set_assignee(req: ServiceRequest, target: Target) -> None:
    req.assignee_org = target.org
    req.assignee_unit = target.unit


def _transition(
    *,
    actor: Actor,
    request: ServiceRequest,
    action: str,
    now: datetime,
    note: str | None = None,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    effects: Callable[[ServiceRequest, Write], None] | None = None,
) -> ServiceRequest:
    """Run one status change of :data:`linli.requests.states.machine` at ``now``:
    ``effects`` fills the other fields on the locked row; deadlines are recomputed
    for the new status before the row is saved."""

    # A note staff typed is refused when too long, before anything is locked or written;
    # the timeline row would otherwise keep only its first 2 000 characters.
    if note:
        note = within(note, field="note", limit=NOTE_LIMIT, label=_("备注"))

    def _effects(row: ServiceRequest, w: Write) -> None:
        if effects is not None:
            effects(row, w)
        deadlines.refresh(row, now=now)

    with st.at(now, note=note, community_id=request.community_id):
        return st.machine.apply(
            actor=actor,
            obj=request,
            action=action,
            reason=reason,
            payload=payload,
            effects=_effects,
        )
