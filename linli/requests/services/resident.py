"""What residents do on a request: support (+1), urge, complain, rate (closes it) and
reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from linli.core.calendar import WorkCalendar
from linli.core.errors import Conflict, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import Write, governed_write
from linli.requests import deadlines
from linli.requests.models import EventKind, ServiceRequest, Support
from linli.requests.services._common import (
    _clean_text,
    _event,
    _notify_staff,
    _now,
    _transition,
    _user,
)
from linli.requests.services.workflow import _locked


def request_support(
    *, actor: Actor, request: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    """ "我也遇到" (+1) on an open request of the actor's own community."""
    now = _now(now)
    with governed_write(
        actor=actor, action="requests.support", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "support")
        user = _user(actor)
        assert user is not None  # a community resident
        try:
            with transaction.atomic():
                Support.objects.create(community_id=req.community_id, request=req, user=user)
        except IntegrityError as exc:
            raise Conflict(_("您已经附议过该诉求。")) from exc
        ServiceRequest.objects.filter(pk=req.pk, community_id=req.community_id).update(
            support_count=F("support_count") + 1
        )
        req.support_count += 1
        _event(req, actor=actor, kind=EventKind.SUPPORTED, now=now)
        w.target = req
        w.payload = {"status": req.status}
    return req


def request_urge(
    *, actor: Actor, request: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    from linli.requests import states as st

    now = _now(now)
    with (
        st.at(now),
        governed_write(actor=actor, action="requests.urge", community_id=request.community_id) as w,
    ):
        req = _locked(actor, request, "urge")
        req.last_urged_at = now
        req.urge_count += 1
        req.save(update_fields=["last_urged_at", "urge_count", "updated_at"])
        _event(req, actor=actor, kind=EventKind.URGED, now=now)
        w.target = req
        w.payload = {"status": req.status}
        _notify_staff(req, 0, _("居民催办，请尽快处理。"))
    return req


def request_complain(
    *, actor: Actor, request: ServiceRequest, text: str, now: datetime | None = None
) -> ServiceRequest:
    """投诉 when a time limit has passed: goes to the community leadership at once."""
    from linli.requests import states as st

    now = _now(now)
    with (
        st.at(now),
        governed_write(
            actor=actor, action="requests.complain", community_id=request.community_id
        ) as w,
    ):
        req = _locked(actor, request, "complain")
        body = _clean_text(text, field="text", min_len=2, max_len=500, what=_("投诉内容"))
        req.complaint_count += 1
        req.save(update_fields=["complaint_count", "updated_at"])
        _event(req, actor=actor, kind=EventKind.COMPLAINED, now=now, note=body)
        w.target = req
        w.payload = {"status": req.status}
        _notify_staff(req, 1, _("居民投诉超时诉求：%(t)s") % {"t": body[:40]})
    return req


def request_rate(
    *,
    actor: Actor,
    request: ServiceRequest,
    rating: Any,
    comment: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """The resident's rating closes a resolved request (the machine's ``close``)."""
    now = _now(now)
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed(_("满意度请选择 1 到 5 星。"), field="rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationFailed(_("评价不能超过 500 字。"), field="comment")

    def effects(req: ServiceRequest, w: Write) -> None:
        req.rating = value
        req.rating_comment = comment
        req.rated_at = now
        req.closed_at = now
        w.payload["rating"] = value
        if value <= 2:
            _notify_staff(req, 1, _("居民评价不满意（%(v)d 星）。") % {"v": value})

    with transaction.atomic():
        req = _transition(
            actor=actor, request=request, action="close", now=now, note=comment, effects=effects
        )
        _event(req, actor=actor, kind=EventKind.RATED, now=now, note=f"{value}★ {comment}".strip())
    return req


def request_reopen(
    *, actor: Actor, request: ServiceRequest, reason: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)

    def effects(req: ServiceRequest, w: Write) -> None:
        why = _clean_text(reason, field="reason", min_len=2, max_len=500, what=_("重启理由"))
        req.reopen_count += 1
        req.resolved_at = None
        req.resolved_on_time = None
        req.cycle_seconds = None
        req.closed_at = None
        req.rating = None
        req.rating_comment = ""
        req.rated_at = None
        deadlines.set_initial(req, now=now, cal=WorkCalendar.cached())
        _notify_staff(req, 0, _("居民对办理结果有异议，诉求已重启。"))
        _notify_staff(req, 1, _("居民对办理结果有异议，诉求已重启。"))
        w.payload["reason"] = why

    return _transition(
        actor=actor,
        request=request,
        action="reopen",
        now=now,
        reason=(reason or "").strip(),
        effects=effects,
    )
