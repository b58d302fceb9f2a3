"""The escalation ladder of a care alert: grid worker → volunteer pair → community duty
→ street. Each rung says who is told (SMS to their phone) and who may acknowledge;
someone on any rung may acknowledge (a volunteer who got there first has answered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Membership, Role, User
from linli.accounts.scope import scope_of
from linli.care.permissions import community_ids, manages_care

RUNGS = ("worker", "volunteer", "duty", "street")
RUNG_LABELS = {
    "worker": _("网格员"),
    "volunteer": _("结对志愿者"),
    "duty": _("社区值班"),
    "street": _("街道"),
}


@dataclass
class Rung:
    name: str
    users: list[User] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.users and not self.phones


def _members(unit_ids: list[int], roles: tuple[str, ...]) -> list[User]:
    ids = Membership.objects.active().filter(unit_id__in=unit_ids, role__in=roles)
    return list(User.objects.filter(pk__in=ids.values("user_id")).order_by("pk"))


def rung(alert: Any, name: str, *, duty_phone: str = "") -> Rung:
    """Who is on rung ``name`` for ``alert`` (``alert.household.building`` and
    ``alert.community`` loaded)."""
    r = Rung(name)
    subject = alert.subject
    if name == "worker":
        if subject is not None:
            r.users = [subject.worker]
        else:
            r.users = _members([alert.household.building.grid_id], (Role.GRID_WORKER,))
    elif name == "volunteer":
        if subject is not None:
            r.users = [u for u in (subject.volunteer, subject.volunteer2) if u is not None]
    elif name == "duty":
        r.users = _members([alert.community_id], (Role.COMMUNITY_WORKER, Role.SECRETARY))
        if duty_phone:
            r.phones = [duty_phone]
    elif name == "street":
        street_id = alert.community.parent_id
        r.users = _members([street_id] if street_id else [], (Role.STREET_OFFICER,))
    r.phones = [*r.phones, *[u.phone for u in r.users if u.phone]]
    return r


def next_step(alert: Any, after: int, *, duty_phone: str = "") -> tuple[int, Rung] | None:
    """The next rung after ``after`` that has someone on it (empty rungs are skipped:
    no volunteer pair → straight to the community duty)."""
    for i in range(after + 1, len(RUNGS)):
        r = rung(alert, RUNGS[i], duty_phone=duty_phone)
        if not r.empty:
            return i, r
    return None


def on_ladder(user: Any, alert: Any) -> bool:
    """Is ``user`` on any rung of this alert's ladder?"""
    pk = getattr(user, "pk", None)
    if pk is None:
        return False
    if scope_of(user).is_platform_admin:
        return True
    subject = alert.subject
    if subject is not None:
        if pk in (subject.worker_id, subject.volunteer_id, subject.volunteer2_id):
            return True
    elif scope_of(user).covers(alert.household.building.grid.path, Role.GRID_WORKER):
        return True
    if manages_care(user, alert):
        return True
    return alert.community_id in community_ids(user, (Role.STREET_OFFICER,))


def ladder_q(user: Any) -> Q:
    """Alerts whose ladder ``user`` is on (for the alert list), as a filter."""
    scope = scope_of(user)
    if scope.is_platform_admin:
        return Q()
    pk = getattr(user, "pk", None) or 0
    q = Q(subject__worker_id=pk) | Q(subject__volunteer_id=pk) | Q(subject__volunteer2_id=pk)
    grid_paths = scope.paths_for(Role.GRID_WORKER)
    for p in grid_paths:
        q |= Q(subject__isnull=True, household__building__grid__path__startswith=p)
    ids = community_ids(user, (*(Role.COMMUNITY_WORKER, Role.SECRETARY), Role.STREET_OFFICER))
    if ids:
        q |= Q(community_id__in=ids)
    return q
