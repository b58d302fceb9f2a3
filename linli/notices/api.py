"""/api/v1/notices/: the viewer's notices, reading one (which is the read receipt, as on
the page), and awareness figures (知晓率) for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from linli.core.errors import NotFound
from linli.notices.models import Notice
from linli.notices.permissions import can_see_statistics
from linli.notices.selectors import (
    Awareness,
    notice_awareness,
    notice_get_for,
    notice_list_for_resident,
    notice_list_for_staff,
    read_ids_for,
)
from linli.notices.services import notice_mark_read

router = Router(tags=["notices"])

MAX_PAGE = 200


class NoticeOut(Schema):
    id: int
    community_id: int
    kind: str
    title: str
    summary: str
    audience: str
    channels: list[str]
    status: str
    publish_at: datetime | None
    read: bool


class AwarenessOut(Schema):
    readers: int
    audience: int
    # Exact rate as "readers/audience" plus a rounded percentage for display.
    rate: str
    percent: str


class NoticeDetailOut(NoticeOut):
    body: str
    source_type: str
    source_id: str
    # Only for staff who may see the statistics; None for residents.
    awareness: AwarenessOut | None = None


class NoticeAwarenessOut(Schema):
    id: int
    community_id: int
    title: str
    status: str
    publish_at: datetime | None
    awareness: AwarenessOut


def _awareness(a: Awareness) -> dict[str, Any]:
    return {
        "readers": a.readers,
        "audience": a.audience,
        "rate": f"{a.rate.numerator}/{a.rate.denominator}",
        "percent": a.percent,
    }


def _out(n: Notice, read: bool) -> dict[str, Any]:
    return {
        "id": n.pk,
        "community_id": n.community_id,
        "kind": n.kind,
        "title": n.title,
        "summary": n.summary,
        "audience": n.audience,
        "channels": list(n.channels),
        "status": n.status,
        "publish_at": n.publish_at,
        "read": read,
    }


def _page(limit: int, offset: int) -> slice:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    return slice(offset, offset + limit)


@router.get("/", response=list[NoticeOut])
def list_notices(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Published notices addressed to the viewer as a resident, newest first."""
    notices = list(notice_list_for_resident(viewer=request.user)[_page(limit, offset)])
    read = read_ids_for(viewer=request.user, notice_ids=[n.pk for n in notices])
    return [_out(n, n.pk in read) for n in notices]


@router.get("/awareness", response=list[NoticeAwarenessOut])
def awareness_list(
    request: HttpRequest, community: int | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Staff: every notice of the communities they cover with its awareness rate."""
    notices = notice_list_for_staff(viewer=request.user, community_id=community)[
        _page(limit, offset)
    ]
    return [
        {
            "id": n.pk,
            "community_id": n.community_id,
            "title": n.title,
            "status": n.status,
            "publish_at": n.publish_at,
            "awareness": _awareness(notice_awareness(n)),
        }
        for n in notices
    ]


@router.get("/{int:pk}", response=NoticeDetailOut)
def detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    notice = notice_get_for(viewer=request.user, pk=pk)
    if notice.is_visible:
        # Same rule as the page: opening a visible notice is the read receipt.
        notice_mark_read(actor=request.user, notice=notice)
    out = _out(notice, bool(read_ids_for(viewer=request.user, notice_ids=[notice.pk])))
    out["body"] = notice.body
    out["source_type"] = notice.source_type
    out["source_id"] = notice.source_id
    if can_see_statistics(request.user, notice):
        out["awareness"] = _awareness(notice_awareness(notice))
    return out


@router.get("/{int:pk}/awareness", response=AwarenessOut)
def awareness(request: HttpRequest, pk: int) -> dict[str, Any]:
    notice = notice_get_for(viewer=request.user, pk=pk)
    if not can_see_statistics(request.user, notice):
        # A resident may read the notice but not who else did ("not allowed" == 404).
        raise NotFound()
    return _awareness(notice_awareness(notice))
