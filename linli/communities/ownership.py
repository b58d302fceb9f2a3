"""Ownership of units (产权): who owns each exclusive unit, with share and period.

Every write goes through :func:`ownership_set_unit`, which replaces a unit's owners in
one step (so the co-owners' shares can be checked to add up to exactly 1 — adding
co-owners one by one would pass through states that do not), and
:func:`outside_owner_get_or_create` for owners who are not on the resident roster.
Reads: :func:`unit_owners` (what owners' ballots freeze at opening) and
:func:`ownerships_for_household`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import (
    Household,
    Organisation,
    OrgUnit,
    OutsideOwner,
    Ownership,
    Resident,
)
from linli.communities.permissions import manages_community
from linli.core import idempotency, ratelimit
from linli.core.errors import NotFound, ValidationFailed
from linli.core.writes import governed_write, lock_row

Owner = Resident | OutsideOwner | Organisation
ONE = Decimal("1")
ZERO = Decimal("0")


@dataclass(frozen=True)
class OwnerSpec:
    """One owner of a unit as a staff member (or an import) states it."""

    owner: Owner
    share: Decimal = ONE
    representative: bool = False
    developer_status: str = ""

    @property
    def key(self) -> str:
        return owner_key(self.owner)


def owner_key(owner: Owner) -> str:
    """The same key :attr:`Ownership.owner_key` gives: one owner across units."""
    if isinstance(owner, Resident):
        return f"r{owner.pk}"
    if isinstance(owner, OutsideOwner):
        return f"o{owner.pk}"
    return f"d{owner.pk}"


def parse_share(raw: Any) -> Decimal:
    """A share as written by people: "0.5", "50%", "1/2". Refused unless 0 < s ≤ 1
    with at most four decimals (the column's precision)."""
    text = str(raw if raw is not None else "").strip().replace("％", "%")
    try:
        if not text:
            raise InvalidOperation
        if text.endswith("%"):
            value = Decimal(text[:-1]) / 100
        elif "/" in text:
            num, den = text.split("/", 1)
            value = Decimal(num) / Decimal(den)
        else:
            value = Decimal(text)
    except (InvalidOperation, ZeroDivisionError, ValueError):
        raise ValidationFailed(_("产权份额应为 0 到 1 之间的数，如 0.5、50% 或 1/2。")) from None
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationFailed(
            _("产权份额最多保留四位小数（如 1/3 请写作 0.3333 并调整其余份额）。")
        )
    if not ZERO < value <= ONE:
        raise ValidationFailed(_("产权份额应大于 0 且不超过 1。"))
    return value


def _validate_specs(community: OrgUnit, specs: list[OwnerSpec]) -> None:
    if not specs:
        raise ValidationFailed(_("请至少填写一位产权人。"), code="no_owner")
    seen: set[str] = set()
    for s in specs:
        if s.key in seen:
            raise ValidationFailed(
                _("同一产权人在本户重复出现：%(n)s。") % {"n": owner_label(s.owner)},
                code="duplicate_owner",
            )
        seen.add(s.key)
        if not ZERO < s.share <= ONE:
            raise ValidationFailed(_("产权份额应大于 0 且不超过 1。"), code="bad_share")
        if isinstance(s.owner, Organisation):
            if s.owner.kind != Organisation.Kind.DEVELOPER:
                raise ValidationFailed(_("单位产权人须为开发建设单位。"), code="bad_owner")
            if s.developer_status not in Ownership.DeveloperStatus.values:
                raise ValidationFailed(_("未知的建设单位房屋状态。"), code="bad_owner")
        else:
            if s.developer_status:
                raise ValidationFailed(
                    _("“未出售/未交付”只适用于开发建设单位持有的房屋。"), code="bad_owner"
                )
            if s.owner.community_id != community.pk:
                raise ValidationFailed(_("产权人须为本社区登记的人员。"), code="bad_owner")
    total = sum((s.share for s in specs), ZERO)
    if total != ONE:
        raise ValidationFailed(
            _("共有人的产权份额合计应为 1，现为 %(t)s。") % {"t": total.normalize()},
            code="shares_do_not_add_up",
        )
    if sum(1 for s in specs if s.representative) > 1:
        raise ValidationFailed(_("每套房屋只能有一位共有人代表。"), code="two_representatives")


def owner_label(owner: Owner) -> str:
    return str(owner.name)


def _snapshot(rows: list[Ownership]) -> list[dict[str, Any]]:
    """How the audit chain records owners: keys, shares and flags, never names or ID
    numbers (the chain is kept for ever)."""
    return [
        {
            "owner": r.owner_key,
            "share": str(r.share),
            "representative": r.is_representative,
            "developer_status": r.developer_status,
        }
        for r in rows
    ]


def ownership_set_unit(
    *,
    actor: Any,
    household: Household,
    owners: list[OwnerSpec],
    since: date | None = None,
    reason: str = "",
) -> list[Ownership]:
    """Staff correction (or import) of a unit's owners: the given list becomes the
    unit's active owners from ``since`` (today by default). Owners that stay with the
    same share and flags keep their row; the others are ended (``until = since``) and
    new rows are written. One transaction, one audit event.

    Refused with nothing changed: no owner, the same owner twice, shares not adding up
    to exactly 1, two representatives, a developer status on a person, an owner from
    another community, ``since`` before the current owners' start."""
    community = OrgUnit.objects.filter(pk=household.community_id).first()
    if community is None or not manages_community(actor, community):
        raise NotFound()
    since = since or timezone.localdate()
    reason = (reason or "").strip()[:200]
    _validate_specs(community, owners)
    ratelimit.check("communities.ownership", user=actor)
    with governed_write(
        actor=actor, action="communities.ownership_set", community_id=community.pk
    ) as w:
        # Serialise corrections of one unit: two staff editing it at once would
        # otherwise both end the same rows and both insert owners.
        unit = lock_row(Household.objects.all(), household.pk, community_id=community.pk)
        current = list(Ownership.objects.filter(household=unit, until__isnull=True).order_by("id"))
        if any(r.since > since for r in current):
            raise ValidationFailed(
                _("变更日期不能早于现有产权的起始日期。"), code="since_too_early", field="since"
            )
        wanted = {s.key: s for s in owners}
        kept: list[Ownership] = []
        ended: list[Ownership] = []
        for row in current:
            s = wanted.get(row.owner_key)
            if (
                s is not None
                and s.share == row.share
                and s.representative == row.is_representative
                and s.developer_status == row.developer_status
            ):
                kept.append(row)
            else:
                ended.append(row)
        if not ended and len(kept) == len(owners):
            # The same owners again (a resubmitted form): nothing to change or record.
            w.record = False
            return sorted(kept, key=lambda r: r.owner_key)
        if ended:
            Ownership.objects.filter(pk__in=[r.pk for r in ended]).update(
                until=since, is_representative=False, updated_at=timezone.now()
            )
        kept_keys = {r.owner_key for r in kept}
        new = [
            Ownership(
                community_id=community.pk,
                household=unit,
                resident=s.owner if isinstance(s.owner, Resident) else None,
                outside_owner=s.owner if isinstance(s.owner, OutsideOwner) else None,
                developer=s.owner if isinstance(s.owner, Organisation) else None,
                share=s.share,
                since=since,
                is_representative=s.representative,
                developer_status=s.developer_status,
            )
            for s in owners
            if s.key not in kept_keys
        ]
        created = Ownership.objects.bulk_create(new)
        w.target = unit
        w.payload.update(
            {
                "since": since.isoformat(),
                "before": _snapshot(current),
                "after": _snapshot(kept + created),
                "reason": reason,
            }
        )
    return sorted(kept + created, key=lambda r: r.owner_key)


def outside_owner_get_or_create(
    *,
    actor: Any,
    community: OrgUnit,
    name: str,
    id_number: str = "",
    phone: str = "",
    idempotency_key: str = "",
) -> OutsideOwner:
    """An owner who does not live in the community. The same ID number is the same
    owner: an existing record is returned (its name must match); a replayed request
    (same idempotency key) returns the record it created."""
    from linli.communities.roster import PHONE_RE, id_number_valid

    if not manages_community(actor, community):
        raise NotFound()
    name = (name or "").strip()
    id_number = (id_number or "").strip().upper()
    phone = (phone or "").strip()
    if not name or len(name) > 40:
        raise ValidationFailed(_("请填写产权人姓名（最多 40 个字）。"), field="name")
    if id_number and not id_number_valid(id_number):
        raise ValidationFailed(_("身份证号格式或校验位不正确"), field="id_number")
    if phone and not PHONE_RE.match(phone):
        raise ValidationFailed(_("应为 11 位手机号"), field="phone")
    if id_number:
        resident = Resident.objects.filter(community=community, id_number=id_number).first()
        if resident is not None:
            raise ValidationFailed(
                _("该身份证号属于在册居民，请直接选择该居民作为产权人。"), field="id_number"
            )
        existing = OutsideOwner.objects.filter(community=community, id_number=id_number).first()
        if existing is not None:
            if existing.name != name:
                raise ValidationFailed(
                    _("该身份证号已登记为「%(n)s」，与填写的姓名不符。") % {"n": existing.name},
                    field="name",
                )
            return existing
    key = idempotency.clean(idempotency_key)
    ratelimit.check("communities.ownership", user=actor)
    with governed_write(
        actor=actor, action="communities.outside_owner_created", community_id=community.pk
    ) as w:
        owner = OutsideOwner(
            community=community,
            name=name,
            id_number=id_number,
            phone=phone,
            idempotency_key=key,
        )
        prior = idempotency.replayed(w, owner, key=key, owned=lambda row: row.name == name)
        if prior is not None:
            return prior
        w.target = owner
    return owner


def find_owner(community: OrgUnit, ref: str) -> Owner | None:
    """A resident or outside owner by ID number, or a resident by roster number /
    phone, or a developer by ``d<id>`` (staff forms)."""
    ref = (ref or "").strip().upper()
    if not ref:
        return None
    if ref.startswith("D") and ref[1:].isdigit():
        return Organisation.objects.filter(
            pk=int(ref[1:]), kind=Organisation.Kind.DEVELOPER, communities=community
        ).first()
    if ref.startswith("O") and ref[1:].isdigit():
        return OutsideOwner.objects.filter(community=community, pk=int(ref[1:])).first()
    residents = Resident.objects.filter(community=community)
    if len(ref) == 18:
        return (
            residents.filter(id_number=ref).first()
            or OutsideOwner.objects.filter(community=community, id_number=ref).first()
        )
    if len(ref) == 11 and ref.isdigit():
        return residents.filter(phone=ref).first()
    if ref.isdigit():
        return residents.filter(pk=int(ref)).first()
    return None


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class UnitOwners:
    """One exclusive unit as owners' ballots see it."""

    household_id: int
    area_m2: Decimal
    # Owner keys of the active owners, sorted; empty: no ownership recorded.
    owners: tuple[str, ...]
    representative: str  # owner key of the co-owners' representative, or ""
    developer_held: bool  # unsold / undelivered units of the developer
    resident_ids: tuple[int, ...]  # owners who are residents (they can vote online)
    owner_occupied: bool  # Household.tenure == owner (used when no owner is recorded)


def unit_owners(community_id: int) -> list[UnitOwners]:
    """Every unit of the community with its active owners (two reads)."""
    rows = (
        Ownership.objects.filter(community_id=community_id, until__isnull=True)
        .values_list(
            "household_id",
            "resident_id",
            "outside_owner_id",
            "developer_id",
            "is_representative",
            "developer_status",
        )
        .order_by("household_id", "id")
    )
    by_unit: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_unit[row[0]].append(row)
    out: list[UnitOwners] = []
    for hid, area, tenure in (
        Household.objects.filter(community_id=community_id)
        .order_by("pk")
        .values_list("pk", "area_m2", "tenure")
    ):
        owned = by_unit.get(hid, [])
        keys: list[str] = []
        rep = ""
        held = False
        rids: list[int] = []
        for _h, rid, oid, did, is_rep, dev_status in owned:
            key = f"r{rid}" if rid else (f"o{oid}" if oid else f"d{did}")
            keys.append(key)
            if rid:
                rids.append(int(rid))
            if is_rep:
                rep = key
            if did and dev_status:
                held = True
        out.append(
            UnitOwners(
                hid,
                Decimal(str(area)).quantize(Decimal("0.01")),
                tuple(sorted(keys)),
                rep,
                held,
                tuple(rids),
                tenure == Household.Tenure.OWNER,
            )
        )
    return out


def ownerships_for_household(household: Household) -> list[Ownership]:
    return list(
        Ownership.objects.filter(household=household)
        .select_related("resident", "outside_owner", "developer")
        .order_by("until", "id")
    )
