"""Staff work on a request: the status changes of the machine (accept, dispatch,
start, resolve, reject, merge) through ``machine.apply`` and the governed actions that
keep the status (reroute, plan, feedback, onsite) through ``governed_write``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.core.calendar import WorkCalendar
from linli.core.errors import NotFound, ValidationFailed
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, lock_row
from linli.requests import deadlines
from linli.requests import states as st
from linli.requests.models import (
    OPEN_STATUSES,
    EventKind,
    PhotoKind,
    ServiceRequest,
    Status,
    Support,
)
from linli.requests.permissions import MANAGER_ROLES, is_org_staff
from linli.requests.routing import parse_target
from linli.requests.services._common import (
    NOTE_LIMIT,
    _clean_photos,
    _clean_text,
    _event,
    _notify_reporter,
    _notify_staff,
    _now,
    _save_photos,
    _set_assignee,
    _transition,
)


def _owner_unit_for(actor: Actor, req: ServiceRequest) -> OrgUnit | None:
    """The most specific unit in which ``actor`` manages ``req`` (the request's own
    grid or community when it is that one: no read)."""
    scope = scope_of(actor)
    path = req.grid.path if req.grid_id and req.grid else req.community.path
    best: tuple[int, int] | None = None
    for role in MANAGER_ROLES:
        for unit_id, p, _kind in scope.units.get(role, []):
            if path.startswith(p) and (best is None or len(p) > best[0]):
                best = (len(p), unit_id)
    if best is None:
        return None
    for known in (req.grid, req.community):
        if known is not None and known.pk == best[1]:
            return known
    return OrgUnit.objects.get(pk=best[1])


def _locked(actor: Actor, request: ServiceRequest, action: str) -> ServiceRequest:
    """Lock the row for a governed action that keeps the status and re-check it."""
    st.actions.check(actor, request, action)
    row = lock_row(st.lock_queryset(), request.pk, community_id=request.community_id)
    st.actions.check(actor, row, action)
    return row


def request_accept(
    *,
    actor: Actor,
    request: ServiceRequest,
    is_complex: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)

    def effects(req: ServiceRequest, w: Write) -> None:
        if req.accepted_at is None:
            req.accepted_at = now
        if req.responded_at is None:
            req.responded_at = now
            req.responded_on_time = req.response_due is None or now <= req.response_due
        # 首接负责制: the first accepting unit stays accountable; later accepts keep it.
        if req.owner_org_id is None and req.owner_unit_id is None:
            if is_org_staff(actor, req) and req.assignee_org_id:
                req.owner_org = req.assignee_org
            else:
                req.owner_unit = _owner_unit_for(actor, req) or req.assignee_unit or req.community
        if is_complex and not req.is_complex:
            req.is_complex = True
            deadlines.set_plan(req, now=now, cal=WorkCalendar.cached())
        w.payload["complex"] = req.is_complex
        _notify_reporter(req, _("您的诉求已受理，责任单位：%(u)s。") % {"u": req.owner_label})

    return _transition(
        actor=actor, request=request, action="accept", now=now, note=note, effects=effects
    )


def request_dispatch(
    *,
    actor: Actor,
    request: ServiceRequest,
    target: str,
    note: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """Hand work on to another unit (派单). A dispatch to a city department is a 吹哨:
    it must respond within 24 h and be on site within 48 h. The owner does not change."""
    now = _now(now)
    dest = parse_target(request.community, target)
    whistle = dest.org is not None and dest.org.kind == "department"

    def effects(req: ServiceRequest, w: Write) -> None:
        _set_assignee(req, dest)
        if whistle:
            req.is_whistle = True
            deadlines.set_whistle(req, now=now)
        _notify_staff(
            req,
            0,
            _("您有新的派单。") + (_("（吹哨：24 小时内响应、48 小时内到场）") if whistle else ""),
        )
        _notify_reporter(req, _("您的诉求已派至%(u)s办理。") % {"u": dest.label})

    return _transition(
        actor=actor,
        request=request,
        action="dispatch",
        now=now,
        note=note or dest.label,
        payload={"target": dest.key, "whistle": whistle},
        effects=effects,
    )


def request_start(
    *, actor: Actor, request: ServiceRequest, note: str = "", now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)

    def effects(req: ServiceRequest, w: Write) -> None:
        if req.is_whistle and req.whistle_response_due and is_org_staff(actor, req):
            # The department has answered the whistle: that limit is met.
            req.whistle_response_due = None

    return _transition(
        actor=actor, request=request, action="start", now=now, note=note, effects=effects
    )


def request_resolve(
    *,
    actor: Actor,
    request: ServiceRequest,
    resolution: str,
    photos: Sequence[Any] = (),
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)

    def effects(req: ServiceRequest, w: Write) -> None:
        text = _clean_text(
            resolution, field="resolution", min_len=2, max_len=2000, what=_("办理结果")
        )
        cleaned = _clean_photos(photos)  # decoded once, stored below
        req.resolution = text
        req.resolved_at = now
        req.resolved_on_time = req.feedback_due is None or now <= req.feedback_due
        req.cycle_seconds = max(0, int((now - req.created_at).total_seconds()))
        req.whistle_response_due = None
        req.whistle_onsite_due = None
        _save_photos(req, cleaned, kind=PhotoKind.AFTER, actor=actor)
        _notify_reporter(req, _("您的诉求已办结，请在 7 天内评价；如有异议可申请重启。"))

    return _transition(
        actor=actor,
        request=request,
        action="resolve",
        now=now,
        note=(resolution or "").strip()[:2000],
        effects=effects,
    )


def request_reject(
    *, actor: Actor, request: ServiceRequest, reason: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)

    def effects(req: ServiceRequest, w: Write) -> None:
        req.reject_reason = _clean_text(
            reason, field="reason", min_len=2, max_len=500, what=_("不予受理理由")
        )
        if req.responded_at is None:
            req.responded_at = now
            req.responded_on_time = req.response_due is None or now <= req.response_due
        req.closed_at = now
        _notify_reporter(req, _("您的诉求不予受理：%(r)s") % {"r": req.reject_reason})

    return _transition(
        actor=actor,
        request=request,
        action="reject",
        now=now,
        reason=(reason or "").strip(),
        effects=effects,
    )


def request_merge(
    *, actor: Actor, request: ServiceRequest, into: ServiceRequest, now: datetime | None = None
) -> ServiceRequest:
    """Mark ``request`` a duplicate of ``into``; its reporter becomes a supporter."""
    now = _now(now)
    if into.pk == request.pk:
        st.machine.check(actor, request, "merge")
        raise ValidationFailed(_("不能与自身合并。"), field="into")

    def effects(req: ServiceRequest, w: Write) -> None:
        target = lock_row(st.lock_queryset(), into.pk, community_id=req.community_id)
        if target.status not in OPEN_STATUSES:
            raise ValidationFailed(_("只能合并到本社区仍在办理中的诉求。"), field="into")
        # The same rule as the candidates staff are offered (merge_candidates_for), held
        # here so an API client cannot merge a request into an unrelated one either.
        related = target.category_id == req.category_id or (
            req.building_id is not None and target.building_id == req.building_id
        )
        if not related:
            raise ValidationFailed(
                _("请从同类别或同楼栋、仍在办理中的诉求中选择要合并到的诉求。"), field="into"
            )
        req.merged_into = target
        req.closed_at = now
        w.payload["into"] = target.pk
        added = 0
        if req.reporter_id and req.reporter_id != target.reporter_id:
            _s, created = Support.objects.get_or_create(
                community_id=target.community_id, request=target, user_id=req.reporter_id
            )
            added = int(created)
        ServiceRequest.objects.filter(pk=target.pk, community_id=target.community_id).update(
            support_count=F("support_count") + added + req.support_count
        )
        _event(
            target,
            actor=actor,
            kind=EventKind.NOTE,
            now=now,
            note=_("合并了重复诉求 #%(id)s") % {"id": req.pk},
        )
        _notify_reporter(req, _("您的诉求与 #%(id)s 为同一问题，已合并办理。") % {"id": target.pk})

    if into.community_id != request.community_id:
        st.machine.check(actor, request, "merge")
        raise ValidationFailed(_("只能合并到本社区仍在办理中的诉求。"), field="into")
    return _transition(
        actor=actor,
        request=request,
        action="merge",
        now=now,
        note=_("与诉求 #%(id)s 重复") % {"id": into.pk},
        effects=effects,
    )


def request_reroute(
    *, actor: Actor, request: ServiceRequest, target: str, reason: str, now: datetime | None = None
) -> ServiceRequest:
    """Staff correct the routing of a request not yet accepted (改派, reason required)."""
    now = _now(now)
    with governed_write(
        actor=actor, action="requests.reroute", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "reroute")
        why = _clean_text(reason, field="reason", min_len=2, max_len=500, what=_("改派理由"))
        dest = parse_target(req.community, target)
        old = req.assignee_label
        _set_assignee(req, dest)
        req.save()
        _event(
            req,
            actor=actor,
            kind=EventKind.REROUTED,
            now=now,
            note=_("由%(a)s改派至%(b)s：%(r)s") % {"a": old, "b": dest.label, "r": why},
        )
        w.target = req
        w.payload = {"status": req.status, "target": dest.key, "reason": why}
        _notify_staff(req, 0, _("您有新的改派诉求。"))
    return req


def request_recategorise(
    *,
    actor: Actor,
    request: ServiceRequest,
    category_code: str,
    reason: str,
    now: datetime | None = None,
) -> ServiceRequest:
    """Staff correct an open request's category (改类, reason required). The deadlines
    set at submission stay: a new category must not buy a longer time limit. The
    change is on the timeline and on the assessment's integrity page."""
    from linli.requests import catalog

    now = _now(now)
    with governed_write(
        actor=actor, action="requests.recategorise", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "recategorise")
        why = _clean_text(reason, field="reason", min_len=2, max_len=500, what=_("改类理由"))
        cat = catalog.active_by_code(category_code or "")
        if cat is None or cat.parent_id is None or catalog.has_active_children(cat.pk):
            raise ValidationFailed(_("请选择一个具体的诉求类别。"), field="category")
        if cat.pk == req.category_id:
            raise ValidationFailed(_("新类别与原类别相同。"), field="category")
        old = req.category
        req.category = cat
        req.save(update_fields=["category", "updated_at"])
        _event(
            req,
            actor=actor,
            kind=EventKind.RECATEGORISED,
            now=now,
            note=_("类别由“%(a)s”改为“%(b)s”：%(r)s") % {"a": old, "b": cat, "r": why},
            public=True,
        )
        w.target = req
        w.payload = {"from": old.code, "to": cat.code, "reason": why}
    return req


def request_bulk_assign(
    *,
    actor: Actor,
    request_ids: Iterable[int],
    target: str,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Assign many requests at once: unaccepted ones are re-routed, accepted ones
    dispatched. All or nothing."""
    ids = sorted({int(i) for i in request_ids})
    if not ids:
        raise ValidationFailed(_("请至少选择一条诉求。"), field="ids")
    with transaction.atomic():
        for pk in ids:
            req = ServiceRequest.objects.filter(pk=pk).select_related("community", "grid").first()
            if req is None:
                raise NotFound()
            if req.status in (Status.SUBMITTED, Status.REOPENED):
                request_reroute(actor=actor, request=req, target=target, reason=reason, now=now)
            else:
                request_dispatch(actor=actor, request=req, target=target, note=reason, now=now)
    return len(ids)


def request_plan(
    *, actor: Actor, request: ServiceRequest, plan: str, now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    with governed_write(
        actor=actor, action="requests.plan", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "plan")
        text = _clean_text(plan, field="plan", min_len=2, max_len=2000, what=_("办理方案"))
        req.is_complex = True
        req.plan_at = now
        deadlines.refresh(req, now=now)
        req.save()
        _event(req, actor=actor, kind=EventKind.PLAN, now=now, note=text)
        w.target = req
        w.payload = {"status": req.status}
        _notify_reporter(req, _("办理方案：%(p)s") % {"p": text[:60]})
    return req


def request_feedback(
    *, actor: Actor, request: ServiceRequest, note: str, now: datetime | None = None
) -> ServiceRequest:
    """Progress feedback to the resident (shown in the timeline)."""
    now = _now(now)
    with governed_write(
        actor=actor, action="requests.feedback", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "feedback")
        text = _clean_text(note, field="note", min_len=2, max_len=2000, what=_("进度说明"))
        _event(req, actor=actor, kind=EventKind.NOTE, now=now, note=text)
        w.target = req
        w.payload = {"status": req.status}
        _notify_reporter(req, text[:60])
    return req


def request_onsite(
    *, actor: Actor, request: ServiceRequest, note: str = "", now: datetime | None = None
) -> ServiceRequest:
    """部门报到: the whistled department confirms it is on site."""
    now = _now(now)
    note = within(note, field="note", limit=NOTE_LIMIT, label=_("备注"))
    with governed_write(
        actor=actor, action="requests.onsite", community_id=request.community_id
    ) as w:
        req = _locked(actor, request, "onsite")
        req.onsite_at = now
        req.whistle_onsite_due = None
        if req.whistle_response_due:
            req.whistle_response_due = None
        deadlines.refresh(req, now=now)
        req.save()
        _event(req, actor=actor, kind=EventKind.ONSITE, now=now, note=note)
        w.target = req
        w.payload = {"status": req.status}
    return req
