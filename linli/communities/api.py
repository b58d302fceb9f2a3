"""/api/v1/communities/: units and the roster, filtered to what the caller may see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from linli.communities.models import OrgUnit
from linli.communities.selectors import communities_for, resident_get_for, resident_list_for
from linli.communities.services import sensitive_read
from linli.core.masking import mask_phone

router = Router(tags=["communities"])


class CommunityOut(Schema):
    id: int
    name: str
    code: str
    path: str


class ResidentOut(Schema):
    id: int
    name: str
    community_id: int
    grid_id: int
    household_id: int
    address: str
    birth_year: int
    phone_masked: str
    tags: list[str]
    tier: str


class ResidentFilter(Schema):
    community: int | None = None
    q: str = ""
    tag: str = ""
    limit: int = 50
    offset: int = 0


class ResidentPage(Schema):
    count: int
    items: list[ResidentOut]


class SensitiveOut(Schema):
    field: str
    value: str | list[str]


def _out(r: object) -> ResidentOut:
    from linli.communities.models import Resident

    assert isinstance(r, Resident)
    return ResidentOut(
        id=r.pk,
        name=r.name,
        community_id=r.community_id,
        grid_id=r.grid_id,
        household_id=r.household_id,
        address=str(r.household),
        birth_year=r.birth_year,
        phone_masked=mask_phone(r.phone),
        tags=r.basic_tags,
        tier=r.tier,
    )


@router.get("/", response=list[CommunityOut], summary="我可访问的社区")
def list_communities(request: HttpRequest) -> list[OrgUnit]:
    return list(communities_for(viewer=request.user))


@router.get("/residents", response=ResidentPage, summary="居民名册（按权限过滤，敏感字段脱敏）")
def list_residents(request: HttpRequest, filters: Query[ResidentFilter]) -> ResidentPage:
    qs = resident_list_for(
        viewer=request.user, community_id=filters.community, query=filters.q[:40], tag=filters.tag
    )
    limit = max(1, min(filters.limit, 200))
    offset = max(0, filters.offset)
    return ResidentPage(count=qs.count(), items=[_out(r) for r in qs[offset : offset + limit]])


@router.get("/residents/{resident_id}", response=ResidentOut, summary="居民详情")
def get_resident(request: HttpRequest, resident_id: int) -> ResidentOut:
    return _out(resident_get_for(viewer=request.user, pk=resident_id))


@router.post(
    "/residents/{resident_id}/sensitive/{field}",
    response=SensitiveOut,
    summary="授权查看敏感字段（留痕）",
)
def read_sensitive(request: HttpRequest, resident_id: int, field: str) -> SensitiveOut:
    resident = resident_get_for(viewer=request.user, pk=resident_id)
    value = sensitive_read(actor=request.user, resident=resident, field=field)
    return SensitiveOut(field=field, value=value)
