"""Shared helpers of the 议事厅 pages (which are thin: parse the form, call one
service or selector, render or redirect)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit, Resident
from linli.core.calendar import LOCAL_TZ
from linli.core.errors import NotFound, ValidationFailed
from linli.core.web import datetime_or_none
from linli.core.web import int_or_none as _int
from linli.deliberation import selectors
from linli.deliberation.models import (
    Topic,
)

STEPS = [
    Topic.Step.PROPOSED,
    Topic.Step.DISCUSSING,
    Topic.Step.REVIEWING,
    Topic.Step.RESOLVING,
    Topic.Step.PUBLICISED,
]


def _community(request: HttpRequest) -> OrgUnit:
    allowed = list(selectors.hall_communities_for(viewer=request.user))
    if not allowed:
        raise NotFound()
    wanted = request.GET.get("community") or request.POST.get("community")
    for c in allowed:
        if wanted and str(c.pk) == wanted:
            return c
    own = scope_of(request.user).community_id
    return next((c for c in allowed if c.pk == own), allowed[0])


def _dt(raw: str | None) -> datetime | None:
    if not raw:
        return None
    parsed = datetime_or_none(raw)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=LOCAL_TZ)


def _ballot_url(topic: Topic) -> str:
    if topic.ballot_id is None:
        return ""
    for name in ("voting:ballot_detail", "voting:detail", "voting:ballot"):
        try:
            return reverse(name, args=[topic.ballot_id])
        except NoReverseMatch:
            continue
    return ""


def _resident_in(community: OrgUnit, raw: str | None) -> Resident:
    r = Resident.objects.filter(pk=_int(raw) or 0, community=community).first()
    if r is None:
        raise ValidationFailed(_("找不到该居民（请填写本社区居民编号）。"))
    return r
