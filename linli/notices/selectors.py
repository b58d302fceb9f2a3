"""Reads of notices that depend on who is looking, and the awareness rate."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from linli.accounts.scope import scope_of
from linli.communities.models import Resident
from linli.core.errors import NotFound
from linli.notices.models import Notice, NoticeRead
from linli.notices.permissions import STAFF_VIEW_ROLES, can_view_notice
from linli.notices.services import audience_residents


def notice_list_for_resident(*, viewer: Any) -> QuerySet[Notice]:
    """Published, already-visible notices addressed to the viewer as a resident."""
    scope = scope_of(viewer)
    if scope.resident_id is None:
        return Notice.objects.none()
    resident = Resident.objects.select_related("household").get(pk=scope.resident_id)
    addressed = (
        Q(audience=Notice.Audience.COMMUNITY)
        | Q(audience=Notice.Audience.BUILDINGS, buildings=resident.household.building_id)
        # JSON containment is not portable across SQLite/PostgreSQL; ids are compared
        # in Python below for the (small) council audience.
        | Q(audience=Notice.Audience.COUNCIL)
    )
    qs = (
        Notice.objects.filter(
            addressed,
            community_id=resident.community_id,
            status=Notice.Status.PUBLISHED,
            publish_at__lte=timezone.now(),
        )
        .distinct()
        .order_by("-publish_at", "-id")
    )
    council_ids = [
        n.pk
        for n in qs.filter(audience=Notice.Audience.COUNCIL).only("pk", "audience_resident_ids")
        if resident.pk not in (n.audience_resident_ids or [])
    ]
    return qs.exclude(pk__in=council_ids)


def notice_list_for_staff(*, viewer: Any, community_id: int | None = None) -> QuerySet[Notice]:
    ids = scope_of(viewer).community_ids_for(*STAFF_VIEW_ROLES)
    qs = Notice.objects.filter(community_id__in=ids).select_related("community")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.order_by("-created_at", "-id")


def notice_get_for(*, viewer: Any, pk: int) -> Notice:
    notice = Notice.objects.select_related("community").filter(pk=pk).first()
    if notice is None or not can_view_notice(viewer, notice):
        raise NotFound()
    return notice


def read_ids_for(*, viewer: Any, notice_ids: list[int]) -> set[int]:
    return set(
        NoticeRead.objects.filter(user_id=viewer.pk, notice_id__in=notice_ids).values_list(
            "notice_id", flat=True
        )
    )


@dataclass(frozen=True)
class Awareness:
    readers: int
    audience: int

    @property
    def rate(self) -> Fraction:
        return Fraction(self.readers, self.audience) if self.audience else Fraction(0)

    @property
    def percent(self) -> str:
        return f"{float(self.rate) * 100:.1f}%"


def notice_awareness(notice: Notice) -> Awareness:
    """知晓率 = residents of the audience who opened the notice / audience size.

    Staff reads and reads by residents outside the audience (e.g. who moved) don't count.
    """
    audience = audience_residents(notice)
    readers = (
        NoticeRead.objects.filter(
            community_id=notice.community_id, notice=notice, resident__in=audience
        )
        .values("resident")
        .distinct()
        .count()
    )
    return Awareness(readers=readers, audience=audience.count())
