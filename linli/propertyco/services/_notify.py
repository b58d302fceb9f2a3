"""In-app notices of the register's steps (sent only if the write commits)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role
from linli.core.notify import Message
from linli.core.writes import Write
from linli.propertyco.models import RegisterEntry


def _usernames(q: Q) -> list[str]:
    return sorted(
        set(Membership.objects.active().filter(q).values_list("user__username", flat=True))
    )


def company_staff(entry: RegisterEntry) -> list[str]:
    return _usernames(Q(role=Role.PROPERTY_STAFF, organisation_id=entry.company_id))


def community_leads(entry: RegisterEntry) -> list[str]:
    """The community's secretary and workers (they tell the owners' committee)."""
    return _usernames(
        Q(role__in=[Role.SECRETARY, Role.COMMUNITY_WORKER], unit_id=entry.community_id)
    )


def street_officers(entry: RegisterEntry) -> list[str]:
    return _usernames(Q(role=Role.STREET_OFFICER, unit_id=entry.street_id))


def notify(w: Write, usernames: Iterable[str], body: str) -> None:
    for name in usernames:
        w.notify(Message("inapp", name, _("物业红黑榜"), body))
