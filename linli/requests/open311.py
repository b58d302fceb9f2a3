"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), mounted at /open311/v2/.

Follows the public spec so existing clients work unchanged:
* the format is the URL extension (``.json`` or ``.xml``);
* errors are ``[{"code": …, "description": …}]`` / ``<errors><error>…`` with HTTP 400,
  403 (bad ``api_key``) or 404;
* statuses are ``open``/``closed``; ``expected_datetime`` is our resolution time limit;
* ``GET requests`` without dates covers the last 90 days; a range may not span more.
Datetimes are W3C (ISO 8601 with offset), in Asia/Shanghai.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from linli.accounts.lockout import client_ip
from linli.communities.models import Building, OrgUnit
from linli.core import ratelimit
from linli.core.errors import DomainError, RateLimited
from linli.core.middleware import with_retry_after
from linli.core.web import datetime_or_none
from linli.requests.addresses import match_building
from linli.requests.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Open311Client,
    ServiceRequest,
    Status,
)
from linli.requests.services import STAFF_CHANNELS, open311_client_for_key, request_submit

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description
        super().__init__(description)


# ---------------------------------------------------------------- rendering


def _xml_value(parent: Element, key: str, value: Any) -> None:
    el = SubElement(parent, key)
    if value is None:
        return
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, list):
        # Lists inside an item are only "values" (service definitions), handled there.
        el.text = ",".join(str(v) for v in value)
    else:
        el.text = str(value)


def _to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    top = Element(root)
    for row in rows:
        el = SubElement(top, item)
        for k, v in row.items():
            _xml_value(el, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(top, encoding="utf-8")


def _respond(fmt: str, data: Any, xml: Callable[[], bytes], status: int = 200) -> HttpResponse:
    body = xml() if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    rows = [{"code": status, "description": description}]
    return _respond(
        fmt if fmt in CONTENT_TYPES else "json",
        rows,
        lambda: _to_xml("errors", "error", rows),
        status,
    )


def _w3c(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return timezone.localtime(dt).isoformat(timespec="seconds")


def _endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn Open311Error/DomainError into the spec's error document."""

    def wrapped(request: HttpRequest, *args: Any, fmt: str, **kw: Any) -> HttpResponse:
        if fmt not in CONTENT_TYPES:
            return _error("json", 404, "Unknown format; use .json or .xml")
        try:
            return view(request, *args, fmt=fmt, **kw)
        except Open311Error as exc:
            return _error(fmt, exc.status, exc.description)
        except RateLimited as exc:
            return with_retry_after(_error(fmt, 429, str(exc.message)), exc)
        except DomainError as exc:
            status = exc.status if exc.status in (400, 403, 404) else 400
            return _error(fmt, status, str(exc.message))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


# ---------------------------------------------------------------- discovery


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        return _error("json", 404, "Unknown format; use .json or .xml")
    base = request.build_absolute_uri(reverse("open311_services", kwargs={"fmt": "json"}))
    base = base.rsplit("/services.json", 1)[0] + "/"
    changed = Category.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    changeset = _w3c(changed) or "2026-01-01T00:00:00+08:00"
    data = {
        "changeset": changeset,
        "contact": "邻里社区共治平台 · 请联系所在社区居委会",
        "key_service": "接入密钥由社区书记或街道工作人员在后台发放",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }

    def xml() -> bytes:
        top = Element("discovery")
        for k in ("changeset", "contact", "key_service"):
            _xml_value(top, k, data[k])
        eps = SubElement(top, "endpoints")
        ep = SubElement(eps, "endpoint")
        for k in ("specification", "url", "changeset", "type"):
            _xml_value(ep, k, data["endpoints"][0][k])  # type: ignore[index]
        formats = SubElement(ep, "formats")
        for f in ("text/xml", "application/json"):
            SubElement(formats, "format").text = f
        return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(top, encoding="utf-8")

    return _respond(fmt, data, xml)


# ---------------------------------------------------------------- services

ATTRIBUTES: list[dict[str, Any]] = [
    {
        "variable": True,
        "code": "building",
        "datatype": "string",
        "required": False,
        "datatype_description": "楼栋名称，例如“3幢”",
        "order": 1,
        "description": "问题所在楼栋",
    },
    {
        "variable": True,
        "code": "urgency",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": None,
        "order": 2,
        "description": "紧急程度",
        "values": [
            {"key": "normal", "name": "一般"},
            {"key": "urgent", "name": "紧急（有安全风险）"},
        ],
    },
]


def _leaf_services() -> list[Category]:
    return list(
        Category.objects.filter(is_active=True)
        .exclude(children__is_active=True)
        .select_related("parent")
        .order_by("parent__order", "order", "code")
    )


def _service_row(c: Category) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description or c.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(c.keywords.split()),
        "group": c.parent.name if c.parent_id and c.parent else c.name,
    }


@_endpoint
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method != "GET":
        raise Open311Error(400, "Method not allowed")
    _jurisdiction(request)
    rows = [_service_row(c) for c in _leaf_services()]
    return _respond(fmt, rows, lambda: _to_xml("services", "service", rows))


@_endpoint
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    cat = Category.objects.filter(code=code, is_active=True).first()
    if cat is None or cat.children.filter(is_active=True).exists():
        raise Open311Error(404, f"service_code {code} not found")
    data = {"service_code": cat.code, "attributes": ATTRIBUTES}

    def xml() -> bytes:
        top = Element("service_definition")
        SubElement(top, "service_code").text = cat.code
        attrs = SubElement(top, "attributes")
        for a in ATTRIBUTES:
            el = SubElement(attrs, "attribute")
            for k in (
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
            ):
                _xml_value(el, k, a.get(k))
            values = SubElement(el, "values")
            for v in a.get("values", []):
                ve = SubElement(values, "value")
                SubElement(ve, "key").text = v["key"]
                SubElement(ve, "name").text = v["name"]
        return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(top, encoding="utf-8")

    return _respond(fmt, data, xml)


# ---------------------------------------------------------------- requests


def _jurisdiction(request: HttpRequest) -> OrgUnit | None:
    code = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if not code:
        return None
    unit = OrgUnit.objects.filter(kind="community", code=code).first()
    if unit is None:
        raise Open311Error(404, f"jurisdiction_id {code} not found")
    return unit


def _status(req: ServiceRequest) -> str:
    return "open" if req.status in OPEN_STATUSES else "closed"


def _status_notes(req: ServiceRequest) -> str | None:
    """Staff's free text (result, reason) only when the reporter made the request public;
    otherwise the status label."""
    if req.status == Status.MERGED:
        return f"duplicate of {req.merged_into_id}"
    if req.public and req.status == Status.REJECTED:
        return req.reject_reason
    if req.public and req.status in (Status.RESOLVED, Status.CLOSED):
        return req.resolution or None
    return req.get_status_display()


def _coarse(value: Any) -> float | None:
    """A coordinate rounded to 3 decimals: the centre of a cell of about 100 m."""
    return round(float(value), 3) if value is not None else None


def _request_row(request: HttpRequest, req: ServiceRequest) -> dict[str, Any]:
    """What the Open311 read publishes: category, status, dates, the responsible unit
    and a coarse location (the building, or a ~100 m cell). The resident's text and
    location note, staff's result notes and photos never leave unless the reporter
    made the request public; the exact point and the reporter never do."""
    building = req.building if req.building_id else None
    if req.public:
        address: str | None = req.address or (building.name if building else None)
    else:
        address = building.name if building else None
    return {
        "service_request_id": str(req.pk),
        "status": _status(req),
        "status_notes": _status_notes(req),
        "service_name": req.category.name,
        "service_code": req.category.code,
        "description": req.description if req.public else None,
        "agency_responsible": req.owner_label or req.assignee_label,
        "service_notice": None,
        "requested_datetime": _w3c(req.created_at),
        "updated_datetime": _w3c(req.updated_at),
        "expected_datetime": _w3c(req.feedback_due) if req.status in OPEN_STATUSES else None,
        "address": address,
        "address_id": str(req.building_id) if req.building_id else None,
        "zipcode": None,
        "lat": _coarse(req.lat),
        "long": _coarse(req.lng),
        # Photos may show residents' homes and faces: not published to the public API.
        "media_url": None,
    }


def _read_client(request: HttpRequest) -> Open311Client | None:
    """The client whose ``api_key`` came with a read; None for an anonymous read."""
    raw = request.GET.get("api_key") or ""
    if not raw:
        return None
    client = open311_client_for_key(raw)
    if client is None:
        raise Open311Error(403, "Invalid api_key")
    return client


def _readable(request: HttpRequest) -> QuerySet[ServiceRequest]:
    """The requests a read may return. Staff-entered records (hotline, box, visit) are
    never published; neither are requests without a resident account (anonymous), except
    to the client that posted them. A key reads only its own community."""
    client = _read_client(request)
    jurisdiction = _jurisdiction(request)
    qs = ServiceRequest.objects.select_related(
        "category", "building", "assignee_org", "assignee_unit", "owner_org", "owner_unit"
    ).exclude(channel__in=STAFF_CHANNELS)
    if client is None:
        qs = qs.filter(reporter__isnull=False)
    else:
        if jurisdiction is not None and jurisdiction.pk != client.community_id:
            raise Open311Error(403, "api_key is not valid for this jurisdiction_id")
        qs = qs.filter(community_id=client.community_id).filter(
            Q(reporter__isnull=False) | Q(open311_client=client)
        )
    if jurisdiction is not None:
        qs = qs.filter(community=jurisdiction)
    return qs


def _parse_when(raw: str, name: str) -> datetime:
    # A "+08:00" offset arrives as " 08:00" when a client does not URL-encode "+".
    dt = datetime_or_none(raw.replace(" ", "+")) if raw else None
    if dt is None:
        raise Open311Error(400, f"{name} must be a W3C datetime, e.g. 2026-03-02T09:00:00+08:00")
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt)
    return dt


def _list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    qs = _readable(request).order_by("-created_at", "-id")
    ids_raw = request.GET.get("service_request_id", "").strip()
    if ids_raw:
        # The spec: with service_request_id, all other query parameters are ignored.
        try:
            ids = [int(x) for x in ids_raw.split(",") if x.strip()]
        except ValueError as exc:
            raise Open311Error(400, "service_request_id must be comma-separated ids") from exc
        qs = qs.filter(pk__in=ids)
    else:
        codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        start_raw, end_raw = request.GET.get("start_date", ""), request.GET.get("end_date", "")
        end = _parse_when(end_raw, "end_date") if end_raw else None
        start = _parse_when(start_raw, "start_date") if start_raw else None
        if start is None and end is None:
            end = timezone.now()
            start = end - WINDOW
        elif start is None:
            assert end is not None
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or open,closed")
        if statuses == {"open"}:
            qs = qs.filter(status__in=list(OPEN_STATUSES))
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=list(OPEN_STATUSES))
    rows = [_request_row(request, r) for r in qs[:MAX_RESULTS]]
    return _respond(fmt, rows, lambda: _to_xml("service_requests", "request", rows))


def _create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    client = open311_client_for_key(p.get("api_key") or request.GET.get("api_key"))
    if client is None:
        raise Open311Error(403, "Invalid api_key")
    # Per key and per client address, counted in the cache before anything is read or
    # written (linli/core/ratelimit.py).
    ratelimit.check("requests.open311_submit", key=str(client.pk), ip=client_ip(request))
    jurisdiction = _jurisdiction(request)
    if jurisdiction is not None and jurisdiction.pk != client.community_id:
        raise Open311Error(403, "api_key is not valid for this jurisdiction_id")
    code = (p.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    cat = Category.objects.filter(code=code, is_active=True).first()
    if cat is None:
        raise Open311Error(404, f"service_code {code} not found")
    lat, lng = (p.get("lat") or "").strip(), (p.get("long") or "").strip()
    address_id = (p.get("address_id") or "").strip()
    address = (p.get("address_string") or "").strip()
    building_name = (p.get("attribute[building]") or "").strip()
    if not ((lat and lng) or address_id or address):
        raise Open311Error(400, "lat & long, address_string or address_id is required")
    building = None
    if address_id:
        building = Building.objects.filter(
            pk=int(address_id) if address_id.isdigit() else -1, community_id=client.community_id
        ).first()
        if building is None:
            raise Open311Error(400, f"address_id {address_id} not found")
    elif building_name or (address and not (lat and lng)):
        # "1号楼" / "1栋" / "一号楼" / "１号楼" all find the building named "1幢"
        # (linli/requests/addresses.py). An address still unmatched, without a point,
        # is accepted into the community's triage queue with the address kept.
        candidates = list(
            Building.objects.filter(community_id=client.community_id).select_related(
                "grid", "property_company"
            )
        )
        names = [client.community.name]
        for needle in (building_name, address):
            if needle and building is None:
                building = match_building(needle, candidates, names)
    name = " ".join(x for x in [p.get("last_name", ""), p.get("first_name", "")] if x).strip()
    description = p.get("description", "")
    if p.get("attribute[urgency]") == "urgent":
        description = "【紧急】" + description
    req = request_submit(
        actor=None,
        category=cat,
        description=description,
        building=building,
        lat=lat or None,
        lng=lng or None,
        address=address,
        channel=Channel.OPEN311,
        reporter_name=name,
        reporter_phone=(p.get("phone") or "")[:20],
        open311_client=client,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    # The spec: a server that creates the request at once returns its
    # service_request_id and no token (a token only stands in for an id not yet known).
    rows = [
        {
            "service_request_id": str(req.pk),
            "service_notice": _("将在 %(h)d 小时内响应。") % {"h": cat.response_hours},
            "account_id": None,
        }
    ]
    return _respond(fmt, rows, lambda: _to_xml("service_requests", "request", rows), status=201)


@_endpoint
def requests_collection(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create_request(request, fmt)
    if request.method == "GET":
        return _list_requests(request, fmt)
    raise Open311Error(400, "Method not allowed")


@_endpoint
def request_detail(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    req = _readable(request).filter(pk=int(pk) if pk.isdigit() else -1).first()
    if req is None:
        raise Open311Error(404, f"service_request_id {pk} not found")
    rows = [_request_row(request, req)]
    return _respond(fmt, rows, lambda: _to_xml("service_requests", "request", rows))


@_endpoint
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    import uuid

    try:
        key = uuid.UUID(token)
    except ValueError as exc:
        raise Open311Error(404, f"token {token} not found") from exc
    req = ServiceRequest.objects.filter(token=key).only("pk", "token").first()
    if req is None:
        raise Open311Error(404, f"token {token} not found")
    rows = [{"service_request_id": str(req.pk), "token": str(req.token)}]
    return _respond(fmt, rows, lambda: _to_xml("service_requests", "request", rows))
