"""Owners counted as the law does (民法典 art. 278 with 法释〔2009〕7号 art. 8–9),
through the real services: the four cases of issue 11, co-owners, non-owners, the
developer's unsold units."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from conftest import make_household, make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.communities.models import Household, Organisation, Ownership, Resident
from linli.communities.ownership import OwnerSpec, ownership_set_unit
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.voting.models import Ballot, BallotVoter, ProxyGrant, Vote
from linli.voting.selectors import ballot_result, tally_verify
from linli.voting.services import (
    ballot_close,
    paper_vote_record,
    proxy_grant,
    representative_set,
    vote_cast,
)
from linli.voting.tests.conftest import expire, make_ballot

_n = {"room": 500}


def own(world: Any, unit: Household, *owners: Any, **kw: Any) -> None:
    """Record a unit's owners through the staff service (shares split evenly)."""
    n = len(owners)
    shares = [Decimal(1) / n for _ in owners] if n in (1, 2, 4) else None
    specs = [
        OwnerSpec(o, share=shares[i] if shares else Decimal(1), **kw) for i, o in enumerate(owners)
    ]
    ownership_set_unit(
        actor=world.users["secretary"], household=unit, owners=specs, since=date(2020, 1, 1)
    )


def unit(world: Any, area: str) -> Household:
    _n["room"] += 1
    return make_household(world.building, str(_n["room"]), area=area)


def person(world: Any, home: Household, name: str, *, with_user: bool = True) -> tuple[Any, Any]:
    u = make_user(f"o{home.room}{name}") if with_user else None
    r = make_resident(home, name, user=u)
    if u is not None:
        Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    return u, r


def single_owners(world: Any, count: int, area: str) -> list[Any]:
    """``count`` owners with one unit each; 张三's 101 (from the world) is the first,
    resized to ``area`` and recorded as his."""
    Household.objects.filter(pk=world.residents["resident"].household_id).update(
        area_m2=Decimal(area)
    )
    h1 = Household.objects.get(pk=world.residents["resident"].household_id)
    own(world, h1, world.residents["resident"])
    users = [world.users["resident"]]
    for i in range(count - 1):
        h = unit(world, area)
        u, r = person(world, h, f"业主{i}")
        own(world, h, r)
        users.append(u)
    return users


def multi_owner(world: Any, units: int, area: str) -> tuple[Any, Any]:
    """X lives in the first of ``units`` units and owns them all."""
    homes = [unit(world, area) for _ in range(units)]
    ux, x = person(world, homes[0], "X")
    for h in homes:
        own(world, h, x)
    return ux, x


def close(world: Any, b: Ballot) -> Ballot:
    expire(b)
    return ballot_close(actor=world.users["secretary"], ballot=b)


def owners_ballot(world: Any, **kw: Any) -> Ballot:
    kw.setdefault("matter_class", "ordinary")
    return make_ballot(world, eligibility="owners", validity_rule="art278", **kw)


# ------------------------------------------------------------------ the four cases


def test_case1_multi_unit_owner_counts_once_so_five_of_ten_does_not_pass(world):
    ux, _x = multi_owner(world, 3, "100.00")
    singles = single_owners(world, 9, "100.00")
    b = owners_ballot(world)
    assert (b.eligible_count, b.eligible_units, b.eligible_area) == (10, 12, Decimal("1200.00"))
    vote_cast(actor=ux, ballot=b, choices=[0])
    for i, u in enumerate(singles):
        vote_cast(actor=u, ballot=b, choices=[0 if i < 4 else 1])
    b = close(world, b)
    res = ballot_result(viewer=world.users["secretary"], ballot=b)
    assert (res.participants, res.eligible_count) == (10, 10)
    assert res.options[0].count == 5 and res.options[0].area == Decimal("700.00")
    assert res.valid is True and res.passed is False  # 5 of 10 is not 过半数
    assert "5 / 10" in res.explanation
    assert tally_verify(viewer=world.users["secretary"], ballot=b).ok


def test_case2_six_of_ten_owners_is_not_two_thirds(world):
    ux, _x = multi_owner(world, 3, "100.00")
    singles = single_owners(world, 9, "100.00")
    b = owners_ballot(world)
    vote_cast(actor=ux, ballot=b, choices=[0])
    for u in singles[:5]:
        vote_cast(actor=u, ballot=b, choices=[0])
    b = close(world, b)
    res = ballot_result(viewer=world.users["secretary"], ballot=b)
    assert (res.participants, res.participating_area) == (6, Decimal("800.00"))
    assert res.valid is False and res.passed is False
    assert "6 / 10" in res.explanation


def test_case3_absent_multi_unit_owner_is_one_absentee(world):
    _ux, _x = multi_owner(world, 3, "50.00")
    singles = single_owners(world, 9, "100.00")
    b = owners_ballot(world)
    assert (b.eligible_count, b.eligible_area) == (10, Decimal("1050.00"))
    for u in singles[:7]:
        vote_cast(actor=u, ballot=b, choices=[0])
    b = close(world, b)
    res = ballot_result(viewer=world.users["secretary"], ballot=b)
    # 7 of 10 owners (≥ 2/3) and 700 of 1 050 ㎡ (exactly 2/3, 以上 includes it).
    assert res.valid is True and res.passed is True
    assert "700.00㎡ / 1050.00㎡" in res.explanation and "7 / 10" in res.explanation


def test_case4_developer_unsold_units_count_as_one_owner(world):
    dev = Organisation.objects.create(kind="developer", name="阳光置业", scope=world.district)
    dev.communities.set([world.community])
    for _ in range(4):
        own(world, unit(world, "50.00"), dev, developer_status="unsold")
    singles = single_owners(world, 8, "100.00")
    b = owners_ballot(world, matter_class="special")
    assert (b.eligible_count, b.eligible_units, b.eligible_area) == (9, 12, Decimal("1000.00"))
    held = BallotVoter.objects.get(ballot=b, developer_held=True)
    assert (held.units, held.area_m2) == (4, Decimal("200.00"))
    for u in singles[:7]:
        vote_cast(actor=u, ballot=b, choices=[0])
    b = close(world, b)
    res = ballot_result(viewer=world.users["secretary"], ballot=b)
    assert res.valid is True and res.passed is True  # 7 of 9, 700 of 1 000 ㎡, all yes


def test_result_states_the_counting_rule_and_both_numbers(world):
    multi_owner(world, 3, "100.00")
    single_owners(world, 2, "100.00")
    b = owners_ballot(world)
    vote_cast(actor=world.users["resident"], ballot=b, choices=[0])
    res = ballot_result(viewer=world.users["secretary"], ballot=b)
    assert "法释〔2009〕7号" in res.explanation
    assert "5 套" in res.explanation and "3 人" in res.explanation
    assert "500.00㎡" in res.explanation


# ------------------------------------------------------------------ one person, several units


def test_multi_unit_owner_votes_once_with_the_area_summed(world):
    ux, _x = multi_owner(world, 3, "60.00")
    b = owners_ballot(world)
    r = vote_cast(actor=ux, ballot=b, choices=[0])
    assert r.vote.area_m2 == Decimal("180.00")
    with pytest.raises(Conflict):
        vote_cast(actor=ux, ballot=b, choices=[0])
    assert Vote.objects.filter(ballot=b).count() == 1


# ------------------------------------------------------------------ co-owners


def _co_owned(world: Any) -> tuple[Any, Any, Any, Any, Household]:
    h = unit(world, "90.00")
    ua, a = person(world, h, "甲")
    ub, b = person(world, h, "乙")
    return ua, a, ub, b, h


def test_co_owned_unit_has_one_vote_cast_by_the_representative(world):
    ua, a, ub, b_, h = _co_owned(world)
    ownership_set_unit(
        actor=world.users["secretary"],
        household=h,
        owners=[OwnerSpec(a, Decimal("0.5"), representative=True), OwnerSpec(b_, Decimal("0.5"))],
    )
    b = owners_ballot(world)
    with pytest.raises(PermissionDenied) as exc:
        vote_cast(actor=ub, ballot=b, choices=[1])
    assert exc.value.code == "not_representative"
    assert not Vote.objects.filter(ballot=b).exists()
    vote_cast(actor=ua, ballot=b, choices=[0])
    entry = BallotVoter.objects.get(ballot=b, owner_count=2)
    assert Vote.objects.get(voter=entry).cast_by_id == a.pk


def test_representative_changeable_before_the_vote_not_after(world):
    ua, a, ub, b_, h = _co_owned(world)
    ownership_set_unit(
        actor=world.users["secretary"],
        household=h,
        owners=[OwnerSpec(a, Decimal("0.5"), representative=True), OwnerSpec(b_, Decimal("0.5"))],
    )
    b = owners_ballot(world)
    entry = BallotVoter.objects.get(ballot=b, owner_count=2)
    with pytest.raises(PermissionDenied):  # a co-owner cannot appoint themself
        representative_set(actor=ub, ballot=b, voter=entry, resident=b_, note="乙自称代表")
    representative_set(
        actor=world.users["worker"], ballot=b, voter=entry, resident=b_, note="共有人书面协议"
    )
    with pytest.raises(PermissionDenied):
        vote_cast(actor=ua, ballot=b, choices=[0])
    vote_cast(actor=ub, ballot=b, choices=[1])
    with pytest.raises(Conflict):
        representative_set(
            actor=world.users["worker"], ballot=b, voter=entry, resident=a, note="改回甲"
        )
    entry.refresh_from_db()
    assert entry.representative_id == b_.pk


def test_without_a_representative_nobody_casts_under_the_representative_rule(world):
    ua, a, ub, b_, h = _co_owned(world)
    own(world, h, a, b_)
    b = owners_ballot(world)
    with pytest.raises(PermissionDenied) as exc:
        vote_cast(actor=ua, ballot=b, choices=[0])
    assert exc.value.code == "no_representative"


def test_first_co_owner_vote_stands_and_cannot_be_overwritten(world):
    ua, a, ub, b_, h = _co_owned(world)
    own(world, h, a, b_)
    b = owners_ballot(world, co_owner_rule="first", allow_change=True)
    first = vote_cast(actor=ua, ballot=b, choices=[0])
    with pytest.raises(Conflict) as exc:  # a changeable ballot: still not the co-owner's
        vote_cast(actor=ub, ballot=b, choices=[1])
    assert exc.value.code == "co_owner_voted"
    vote = Vote.objects.get(pk=first.vote.pk)
    assert (vote.choices, vote.cast_by_id, vote.receipt_hash) == (
        [0],
        a.pk,
        first.vote.receipt_hash,
    )
    # The first co-owner may still change their own vote.
    assert vote_cast(actor=ua, ballot=b, choices=[2]).changed


# ------------------------------------------------------------------ non-owners


def test_family_member_and_tenant_need_a_written_proxy(world):
    single_owners(world, 1, "80.00")
    me = world.residents["resident"]
    uw, wife = person(world, me.household, "张三妻")
    b = owners_ballot(world)
    with pytest.raises(PermissionDenied) as exc:
        vote_cast(actor=uw, ballot=b, choices=[0])
    assert exc.value.code == "not_owner"
    with pytest.raises(PermissionDenied):
        vote_cast(actor=world.users["neighbour"], ballot=b, choices=[0])  # a tenant
    assert not Vote.objects.filter(ballot=b).exists()
    proxy_grant(
        actor=world.users["resident"],
        ballot=b,
        principal=me,
        agent=wife,
        mandate_text="本人委托妻子代为表决。张三",
    )
    r = vote_cast(actor=uw, ballot=b, choices=[0], on_behalf_of=me)
    assert r.vote.proxy_id == ProxyGrant.objects.get(ballot=b).pk


def test_tenant_households_landlord_is_on_the_roll_and_votes_on_paper(world):
    from linli.communities.ownership import outside_owner_get_or_create

    tenant_home = world.residents["neighbour"].household  # let to 李四
    landlord = outside_owner_get_or_create(
        actor=world.users["secretary"], community=world.community, name="房东周"
    )
    own(world, tenant_home, landlord)
    b = owners_ballot(world)
    entry = BallotVoter.objects.get(ballot=b, owner_key=f"o{landlord.pk}")
    assert b.eligible_count == 2  # 101 (not recorded: owner-occupied) and the let unit
    with pytest.raises(ValidationFailed):  # whose signature the staff hold must be noted
        paper_vote_record(
            actor=world.users["worker"],
            second_staff=world.users["secretary"],
            ballot=b,
            voter=entry,
            choices=[0],
        )
    paper_vote_record(
        actor=world.users["worker"],
        second_staff=world.users["secretary"],
        ballot=b,
        voter=entry,
        choices=[0],
        note="房东周签字纸质票 No.7",
    )
    assert Vote.objects.get(voter=entry).area_m2 == tenant_home.area_m2


# ------------------------------------------------------------------ the database holds


def test_database_refuses_two_active_rows_for_one_owner_and_bad_shares(world):
    from django.db import IntegrityError, transaction

    h = unit(world, "70.00")
    _u, r = person(world, h, "丙", with_user=False)
    own(world, h, r)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ownership.objects.create(
            community=world.community, household=h, resident=r, since=date(2021, 1, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Ownership.objects.create(
            community=world.community,
            household=unit(world, "70.00"),
            resident=r,
            share=Decimal("1.5"),
            since=date(2021, 1, 1),
        )
    assert Ownership.objects.filter(resident=r).count() == 1


def test_roll_entries_hold_each_unit_once(world):
    multi_owner(world, 2, "50.00")
    b = owners_ballot(world)
    from django.db import IntegrityError, transaction

    from linli.voting.models import BallotVoterUnit

    row = BallotVoterUnit.objects.filter(ballot=b).first()
    other = BallotVoter.objects.filter(ballot=b).exclude(pk=row.voter_id if row else 0).first()
    assert row is not None and other is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        BallotVoterUnit.objects.create(
            ballot=b,
            community=world.community,
            voter=other,
            household_id=row.household_id,
            area_m2=Decimal("50.00"),
        )
    assert Resident.objects.filter(name="X").count() == 1
