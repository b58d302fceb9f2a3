"""Helpers shared by the mediation services: party input, rate-limit keys, who to tell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from django.utils.translation import gettext as _

from linli.accounts.models import Membership, Role
from linli.communities.models import OrgUnit, Resident
from linli.core import ratelimit
from linli.core.errors import Conflict, ValidationFailed
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.writes import Write
from linli.mediation.models import Case, CaseMediator, Party

# Rate limits of the creates (declared here, counted by linli.core.ratelimit).
OPEN_LIMIT = "mediation.open"
SESSION_LIMIT = "mediation.session"
EVIDENCE_LIMIT = "mediation.evidence"
PARTY_LIMIT = "mediation.party"
ROSTER_LIMIT = "mediation.roster"
ratelimit.LIMITS.setdefault(OPEN_LIMIT, {"user": ratelimit.Limit(per_minute=10, per_day=200)})
ratelimit.LIMITS.setdefault(SESSION_LIMIT, {"user": ratelimit.Limit(per_minute=20, per_day=500)})
ratelimit.LIMITS.setdefault(EVIDENCE_LIMIT, {"user": ratelimit.Limit(per_minute=20, per_day=300)})
ratelimit.LIMITS.setdefault(PARTY_LIMIT, {"user": ratelimit.Limit(per_minute=20, per_day=300)})
ratelimit.LIMITS.setdefault(ROSTER_LIMIT, {"user": ratelimit.Limit(per_minute=20, per_day=200)})

_PHONE = re.compile(r"^\+?[0-9][0-9\-]{6,19}$")


@dataclass(frozen=True)
class PartyIn:
    """A party as a form or the API gives it: a resident on the roster
    (``resident_id``) or someone from outside (``name``, ``phone``, ``address``)."""

    role: str
    resident_id: int | None = None
    name: str = ""
    phone: str = ""
    address: str = ""


def clean_party(p: PartyIn, *, community_id: int, case: Case | None = None) -> Party:
    """Validate one party and build its (unsaved) row. A resident must be on the
    roster of the case's community; an outside party needs a name."""
    if p.role not in Party.Role.values:
        raise ValidationFailed(_("当事人身份无效，请选择申请人或被申请人。"), field="role")
    address = within(p.address, field="address", limit=100, label=_("住址或单位"))
    if p.resident_id is not None:
        resident = Resident.objects.filter(
            pk=p.resident_id, community_id=community_id, is_active=True
        ).first()
        if resident is None:
            raise ValidationFailed(
                _("找不到该居民：当事人须是本社区在册居民，否则请按社区外当事人登记姓名和电话。"),
                field="resident_id",
            )
        return Party(
            community_id=community_id, case=case, role=p.role, resident=resident, address=address
        )
    name = within(p.name, field="name", limit=40, label=_("当事人姓名"))
    if not name:
        raise ValidationFailed(_("请填写当事人姓名。"), field="name")
    phone = (p.phone or "").strip().replace(" ", "")
    if phone and not _PHONE.match(phone):
        raise ValidationFailed(_("联系电话格式不正确。"), field="phone")
    return Party(
        community_id=community_id, case=case, role=p.role, name=name, phone=phone, address=address
    )


def check_distinct(parties: list[Party]) -> None:
    seen: set[int] = set()
    for p in parties:
        if p.resident_id is not None:
            if p.resident_id in seen:
                raise ValidationFailed(_("同一居民不能重复登记为当事人。"), field="parties")
            seen.add(p.resident_id)


def mediator_usernames(case: Case) -> list[str]:
    return sorted(
        set(
            CaseMediator.objects.filter(
                community_id=case.community_id, case_id=case.pk
            ).values_list("user__username", flat=True)
        )
    )


def manager_usernames(case: Case) -> list[str]:
    """Who answers for the case's level: the community's workers and secretary, or the
    street officers once it is at the street."""
    if case.level == "street":
        community = OrgUnit.objects.only("parent_id").get(pk=case.community_id)
        q = Membership.objects.active().filter(
            role=Role.STREET_OFFICER, unit_id=community.parent_id
        )
    else:
        q = Membership.objects.active().filter(
            role__in=[Role.COMMUNITY_WORKER, Role.SECRETARY], unit_id=case.community_id
        )
    return sorted(set(q.values_list("user__username", flat=True)))


def tell_staff(w: Write, usernames: list[str], body: str) -> None:
    for username in usernames:
        w.notify(Message("inapp", username, _("人民调解"), body))


def party_phones(case: Case) -> list[str]:
    out = []
    for p in Party.objects.filter(community_id=case.community_id, case_id=case.pk).select_related(
        "resident"
    ):
        phone = p.real_phone
        if phone:
            out.append(phone)
    return sorted(set(out))


def actor_id(actor: Any) -> int:
    """The acting user's id (services that record who wrote require a signed-in user;
    the permission check before has made sure of it)."""
    return cast(int, getattr(actor, "pk", None))


def replayed[M: Any](qs: Any, *, community_id: int, key: str, case: Case, owned: Any) -> M | None:
    """The row an earlier post with ``key`` made on ``case`` (a retry: answered with
    it, nothing written), None for a fresh key; a key used elsewhere is a conflict."""
    if not key:
        return None
    row = qs.filter(community_id=community_id, idempotency_key=key).first()
    if row is None:
        return None
    if row.case_id != case.pk or not owned(row):
        raise Conflict(_("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict")
    return cast(M, row)
