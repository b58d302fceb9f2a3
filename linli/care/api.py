"""/api/v1/care/: sensor intake (device-signed, no session), the roster, visits, away
status, alerts. Creates take an ``Idempotency-Key`` header (or ``idempotency_key``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from linli.care import selectors, services
from linli.care.models import Alert, CareSubject, Visit
from linli.care.states import ALERT
from linli.communities.display import display_name
from linli.communities.models import OrgUnit
from linli.core import idempotency
from linli.core.errors import NotFound

router = Router(tags=["care"])

INGEST_DOC = """传感器读数与报警事件上报（智能水表、烟感、一键呼救、门磁、人体感应）。

不使用会话或令牌，而是按设备签名：

* `X-Device`：发送方设备编号（设备本身，或其所属网关）；
* `X-Timestamp`：Unix 秒；与服务器时间相差超过 5 分钟拒绝（过期或来自未来）；
* `X-Signature`：`hex(HMAC-SHA256(设备密钥, "<X-Timestamp>.<原始请求体>"))`。

同一签名请求重复发送视为重放（409）。每批最多 1000 条（超出 413，整批拒绝）。
读数按（设备, 时间）或（设备, event_id）幂等：重复或乱序上报不会重复入库，返回计数。
水表 `value` 为累计读数（立方米）。读数时间晚于服务器 5 分钟或早于 7 天：整批拒绝。
"""


class ReadingIn(Schema):
    device: str = Field(..., description="设备编号")
    at: datetime | int = Field(..., description="读数时间：带时区的 ISO 8601 或 Unix 秒")
    kind: str = Field("", description="meter / smoke / sos / door / motion / beat（心跳）")
    value: float | None = Field(None, description="水表累计读数（立方米）")
    event_id: str = Field("", description="设备事件编号（可选，幂等）")


class IngestOut(Schema):
    accepted: int
    duplicates: int
    alerts: list[int]


def _ingest_schema() -> dict[str, Any]:
    reading = ReadingIn.model_json_schema()
    reading.pop("title", None)
    return {
        "type": "object",
        "required": ["readings"],
        "properties": {
            "readings": {"type": "array", "maxItems": 1000, "items": reading},
        },
    }


@router.post(
    "/ingest",
    response={200: IngestOut},
    auth=None,
    summary="设备读数上报（HMAC 签名）",
    description=INGEST_DOC,
    openapi_extra={
        "parameters": [
            {"in": "header", "name": "X-Device", "required": True, "schema": {"type": "string"}},
            {"in": "header", "name": "X-Timestamp", "required": True, "schema": {"type": "string"}},
            {"in": "header", "name": "X-Signature", "required": True, "schema": {"type": "string"}},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ingest_schema()}},
        },
    },
)
def ingest(request: HttpRequest) -> IngestOut:
    # The body is documented above, not parsed by ninja: the signature is over the raw
    # bytes, and the service validates each reading itself (one parse, not two, on the
    # busiest endpoint).
    r = services.ingest(
        sender=request.headers.get("X-Device", ""),
        timestamp=request.headers.get("X-Timestamp", ""),
        signature=request.headers.get("X-Signature", ""),
        body=request.body,
    )
    return IngestOut(accepted=r.accepted, duplicates=r.duplicates, alerts=r.alerts)


class SubjectOut(Schema):
    id: int
    resident_id: int
    name: str
    building: str
    tier: str
    worker_id: int
    next_due_at: datetime | None
    due_state: str
    away_until: datetime | None


def _subject(s: CareSubject, viewer: Any) -> SubjectOut:
    return SubjectOut(
        id=s.pk,
        resident_id=s.resident_id,
        name=display_name(s.resident, viewer=viewer),
        building=s.resident.household.building.name,
        tier=s.tier,
        worker_id=s.worker_id,
        next_due_at=s.next_due_at,
        due_state=selectors.due_state(s),
        away_until=s.away_until,
    )


@router.get("/subjects", response=list[SubjectOut])
def subjects(request: HttpRequest, due: str = "") -> list[SubjectOut]:
    """The care roster the caller covers; ``due=overdue`` for the overdue only."""
    out = [_subject(s, request.user) for s in selectors.subjects_for(request.user)[:500]]
    return [
        s for s in out if not due or s.due_state in (due, "escalated" if due == "overdue" else due)
    ]


class EnrolIn(Schema):
    resident_id: int
    worker_id: int
    tier: str = ""
    volunteer_id: int | None = None


@router.post("/subjects", response={201: SubjectOut})
def enrol(request: HttpRequest, body: EnrolIn) -> Status[SubjectOut]:
    from linli.accounts.models import User
    from linli.communities.models import Resident

    resident = (
        Resident.objects.select_related("grid", "household").filter(pk=body.resident_id).first()
    )
    if resident is None:
        raise NotFound()
    s = services.subject_enrol(
        actor=request.user,
        resident=resident,
        worker=User.objects.filter(pk=body.worker_id).first(),
        tier=body.tier,
        volunteer=User.objects.filter(pk=body.volunteer_id).first() if body.volunteer_id else None,
    )
    s = selectors.subject_get_for(request.user, s.pk)
    return Status(201, _subject(s, request.user))


class VisitIn(Schema):
    present: bool
    checklist: list[str] = []
    needs: str = ""
    note: str = ""
    kind: str = "home"
    channel: str = "self"
    visited_at: datetime | None = None
    idempotency_key: str = ""


class VisitOut(Schema):
    id: int
    subject_id: int
    visited_at: datetime
    present: bool
    checklist: list[str]
    needs: str
    channel: str
    request_id: int | None
    activity_id: int | None


def _visit(v: Visit) -> VisitOut:
    return VisitOut(
        id=v.pk,
        subject_id=v.subject_id,
        visited_at=v.visited_at,
        present=v.present,
        checklist=list(v.checklist),
        needs=v.needs,
        channel=v.channel,
        request_id=v.request_id,
        activity_id=v.activity_id,
    )


@router.post("/subjects/{subject_id}/visits", response={201: VisitOut})
def visit_record(request: HttpRequest, subject_id: int, body: VisitIn) -> Status[VisitOut]:
    subject = selectors.subject_get_for(request.user, subject_id)
    v = services.visit_record(
        actor=request.user,
        subject=subject,
        present=body.present,
        checklist=body.checklist,
        needs=body.needs,
        note=body.note,
        kind=body.kind,
        channel=body.channel,
        visited_at=body.visited_at,
        idempotency_key=body.idempotency_key or idempotency.from_request(request),
    )
    return Status(201, _visit(v))


def _visit_get(request: HttpRequest, visit_id: int) -> Visit:
    v = Visit.objects.select_related("subject__grid", "community").filter(pk=visit_id).first()
    if v is None:
        raise NotFound()
    selectors.subject_get_for(request.user, v.subject_id)
    return v


@router.post("/visits/{visit_id}/to-request", response=VisitOut)
def visit_to_request(request: HttpRequest, visit_id: int) -> VisitOut:
    """The need found on the visit becomes a request (诉求) in one call."""
    return _visit(
        services.visit_to_request(actor=request.user, visit=_visit_get(request, visit_id))
    )


@router.post("/visits/{visit_id}/to-timebank", response=VisitOut)
def visit_to_timebank(request: HttpRequest, visit_id: int) -> VisitOut:
    """The need found on the visit becomes a time-bank service (a 助老 activity)."""
    return _visit(
        services.visit_to_timebank(actor=request.user, visit=_visit_get(request, visit_id))
    )


class AwayIn(Schema):
    until: datetime | None = None
    reason: str = ""
    channel: str = "self"


@router.post("/subjects/{subject_id}/away", response=SubjectOut)
def away(request: HttpRequest, subject_id: int, body: AwayIn) -> SubjectOut:
    """Set (or with ``until`` empty, clear) "away until …": alerts are held meanwhile."""
    subject = selectors.subject_get_for(request.user, subject_id)
    services.away_set(
        actor=request.user,
        subject=subject,
        until=body.until,
        reason=body.reason,
        channel=body.channel,
    )
    return _subject(subject, request.user)


class AlertOut(Schema):
    id: int
    rule: str
    status: str
    maintenance: bool
    summary: str
    detected_at: datetime
    step: int
    ack_due_at: datetime | None
    repeats: int
    outcome: str
    evidence: list[dict[str, Any]]
    actions: list[str]


def _alert(a: Alert, viewer: Any) -> AlertOut:
    return AlertOut(
        id=a.pk,
        rule=a.rule,
        status=a.status,
        maintenance=a.maintenance,
        summary=a.summary,
        detected_at=a.detected_at,
        step=a.step,
        ack_due_at=a.ack_due_at,
        repeats=a.repeats,
        outcome=a.outcome,
        evidence=list(a.evidence),
        actions=ALERT.available(viewer, a, ["acknowledge", "resolve", "release"]),
    )


@router.get("/alerts", response=list[AlertOut])
def alerts(request: HttpRequest) -> list[AlertOut]:
    return [_alert(a, request.user) for a in selectors.alerts_for(request.user)[:200]]


@router.get("/alerts/{alert_id}", response=AlertOut)
def alert_detail(request: HttpRequest, alert_id: int) -> AlertOut:
    return _alert(selectors.alert_get_for(request.user, alert_id), request.user)


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def alert_acknowledge(request: HttpRequest, alert_id: int) -> AlertOut:
    a = services.alert_acknowledge(
        actor=request.user, alert=selectors.alert_get_for(request.user, alert_id)
    )
    return _alert(a, request.user)


class ResolveIn(Schema):
    outcome: str
    note: str = ""


@router.post("/alerts/{alert_id}/resolve", response=AlertOut)
def alert_resolve(request: HttpRequest, alert_id: int, body: ResolveIn) -> AlertOut:
    a = services.alert_resolve(
        actor=request.user,
        alert=selectors.alert_get_for(request.user, alert_id),
        outcome=body.outcome,
        note=body.note,
    )
    return _alert(a, request.user)


@router.post("/alerts/{alert_id}/release", response=AlertOut)
def alert_release(request: HttpRequest, alert_id: int) -> AlertOut:
    a = services.alert_release(
        actor=request.user, alert=selectors.alert_get_for(request.user, alert_id)
    )
    return _alert(a, request.user)


class RateOut(Schema):
    rule: str
    label: str
    resolved: int
    false_alarms: int
    false_alarm_rate: float | None
    open: int


@router.get("/communities/{community_id}/false-alarm-rates", response=list[RateOut])
def rates(request: HttpRequest, community_id: int) -> list[RateOut]:
    return [
        RateOut(
            rule=r.rule,
            label=r.label,
            resolved=r.total,
            false_alarms=r.false_alarms,
            false_alarm_rate=r.rate,
            open=r.open,
        )
        for r in selectors.false_alarm_rates(request.user, community_id=community_id)
    ]


class EventIn(Schema):
    title: str


class EventOut(Schema):
    id: int
    title: str
    declared_at: datetime


@router.post("/communities/{community_id}/events", response={201: EventOut})
def event_declare(request: HttpRequest, community_id: int, body: EventIn) -> Status[EventOut]:
    """Declare a major event: high-risk residents are due a visit within 24 h."""
    community = OrgUnit.objects.filter(pk=community_id, kind="community").first()
    if community is None:
        raise NotFound()
    e = services.event_declare(actor=request.user, community=community, title=body.title)
    return Status(201, EventOut(id=e.pk, title=e.title, declared_at=e.declared_at))


class DeviceIn(Schema):
    kind: str
    serial: str
    household_id: int | None = None
    gateway_id: int | None = None


class DeviceOut(Schema):
    id: int
    kind: str
    serial: str
    household_id: int | None
    gateway_id: int | None
    secret: str = Field("", description="设备密钥（仅在登记或更换时返回一次）")


@router.post("/communities/{community_id}/devices", response={201: DeviceOut})
def device_register(request: HttpRequest, community_id: int, body: DeviceIn) -> Status[DeviceOut]:
    from linli.care.models import Device
    from linli.communities.models import Household

    community = OrgUnit.objects.filter(pk=community_id, kind="community").first()
    if community is None:
        raise NotFound()
    household = (
        Household.objects.filter(pk=body.household_id, community_id=community_id).first()
        if body.household_id
        else None
    )
    gateway = (
        Device.objects.filter(pk=body.gateway_id, community_id=community_id).first()
        if body.gateway_id
        else None
    )
    d, secret = services.device_register(
        actor=request.user,
        community=community,
        kind=body.kind,
        serial=body.serial,
        household=household,
        gateway=gateway,
    )
    return Status(
        201,
        DeviceOut(
            id=d.pk,
            kind=d.kind,
            serial=d.serial,
            household_id=d.household_id,
            gateway_id=d.gateway_id,
            secret=secret,
        ),
    )
