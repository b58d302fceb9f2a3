"""Composition rules: checked on every membership change, violations name the rule and
the numbers, and a refused change leaves the council as it was."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.errors import ValidationFailed
from linli.core.models import AuditEvent
from linli.deliberation.composition import MemberFacts, Thresholds, check_composition
from linli.deliberation.models import CouncilMember
from linli.deliberation.services import (
    MemberSpec,
    council_create,
    council_member_add,
    council_member_remove,
    council_member_replace,
    settings_update,
)
from linli.deliberation.tests.conftest import YEAR, add_resident

pytestmark = pytest.mark.django_db


def active_ids(council):
    return set(
        CouncilMember.objects.filter(council=council, is_active=True).values_list("pk", flat=True)
    )


def test_removing_a_young_member_is_refused_with_rule_and_numbers(cw):
    sec = cw.w.user("secretary")
    young = cw.members[0]
    before = active_ids(cw.council)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        council_member_remove(actor=sec, member=young, reason="搬离社区")
    msg = str(exc.value.message)
    assert "35岁以下成员不少于2名" in msg
    assert "变更后为1名" in msg and "至少2名" in msg
    assert active_ids(cw.council) == before
    assert AuditEvent.objects.count() == events


def test_removing_a_tenant_breaks_the_share_rule(cw):
    sec = cw.w.user("secretary")
    tenant = cw.members[4]  # 周海燕, tenant, 45: 1 tenant of 6 left = 16.7 % < 20 %
    with pytest.raises(ValidationFailed) as exc:
        council_member_remove(actor=sec, member=tenant, reason="辞职")
    msg = str(exc.value.message)
    assert "租户占比不低于20%" in msg
    assert "租户1名/共6名（16.6%）" in msg or "租户1名/共6名（16.7%）" in msg


def test_adding_an_owner_that_dilutes_tenants_below_20_percent(cw):
    sec = cw.w.user("secretary")
    # 2 tenants of 7 = 28.6 %; add 3 owners → 2/10 = 20 % exactly is allowed ("不低于").
    for i in range(3):
        council_member_add(
            actor=sec,
            council=cw.council,
            spec=MemberSpec(resident=add_resident(cw.w, f"业主{i}", 50, "owner")),
        )
    assert len(active_ids(cw.council)) == 10
    with pytest.raises(ValidationFailed) as exc:
        council_member_add(
            actor=sec,
            council=cw.council,
            spec=MemberSpec(resident=add_resident(cw.w, "业主X", 50, "owner")),
        )
    assert "租户2名/共11名" in str(exc.value.message)
    assert len(active_ids(cw.council)) == 10


def test_replace_swaps_in_one_change(cw):
    sec = cw.w.user("secretary")
    young = cw.members[0]
    newcomer = add_resident(cw.w, "新青年", 25, "owner")
    new = council_member_replace(
        actor=sec, member=young, spec=MemberSpec(resident=newcomer), reason="换届补选"
    )
    young.refresh_from_db()
    assert not young.is_active and new.is_active and new.resident_id == newcomer.pk
    old_man = add_resident(cw.w, "老张", 70, "owner")
    with pytest.raises(ValidationFailed, match="35岁以下"):
        council_member_replace(
            actor=sec, member=new, spec=MemberSpec(resident=old_man), reason="补选"
        )


def test_thresholds_are_configurable_per_community(cw):
    sec = cw.w.user("secretary")
    settings_update(actor=sec, community=cw.w.community, min_young=1)
    council_member_remove(actor=sec, member=cw.members[0], reason="搬离")
    assert len(active_ids(cw.council)) == 6


def test_committee_needs_half_resident_representatives(world):
    sec = world.user("secretary")
    committee = council_create(
        actor=sec, community=world.community, kind="committee", name="共治委员会"
    )
    r = add_resident(world, "居民代表甲", 50, "owner")
    council_member_add(actor=sec, council=committee, spec=MemberSpec(resident=r))
    council_member_add(
        actor=sec,
        council=committee,
        spec=MemberSpec(name="物业经理", member_type="unit", organisation=world.property_company),
    )
    with pytest.raises(ValidationFailed) as exc:
        council_member_add(
            actor=sec, council=committee, spec=MemberSpec(name="超市店长", member_type="unit")
        )
    assert "居民代表占比不低于50%" in str(exc.value.message)
    assert "居民代表1名/共3名（33.3%）" in str(exc.value.message)


def test_only_community_staff_change_membership(cw):
    r = add_resident(cw.w, "某人", 50, "owner")
    for key in ["resident", "grid_worker", "other_secretary", "supervisor", "property"]:
        with pytest.raises(Exception) as exc:
            council_member_add(
                actor=cw.w.user(key), council=cw.council, spec=MemberSpec(resident=r)
            )
        assert exc.value.__class__.__name__ == "PermissionDenied", key


def test_resident_of_other_community_refused(cw):
    with pytest.raises(ValidationFailed, match="本社区"):
        council_member_add(
            actor=cw.w.user("secretary"),
            council=cw.council,
            spec=MemberSpec(resident=cw.w.residents["stranger"]),
        )


facts = st.builds(
    MemberFacts,
    birth_year=st.one_of(st.none(), st.integers(YEAR - 90, YEAR - 18)),
    is_tenant=st.booleans(),
    is_resident_rep=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(members=st.lists(facts, max_size=25), pct=st.integers(0, 100))
def test_council_rules_match_a_direct_count(members, pct):
    t = Thresholds(min_tenant_percent=pct)
    got = {v.rule for v in check_composition("council", members, t, YEAR)}
    n = len(members)
    young = sum(1 for m in members if m.birth_year is not None and YEAR - m.birth_year < 35)
    old = sum(1 for m in members if m.birth_year is not None and YEAR - m.birth_year >= 60)
    tenants = sum(m.is_tenant for m in members)
    if n == 0:
        assert got == {"成员不能为空"}
        return
    assert ("35岁以下成员不少于2名" in got) == (young < 2)
    assert ("60岁及以上成员不少于2名" in got) == (old < 2)
    assert ("租户成员不少于1名" in got) == (tenants < 1)
    from fractions import Fraction

    assert (f"租户占比不低于{pct}%" in got) == (Fraction(tenants, n) < Fraction(pct, 100))
