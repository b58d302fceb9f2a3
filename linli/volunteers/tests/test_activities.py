"""Activities: capacity, waitlist promotion, staff and QR check-in, check-out awards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import make_resident, make_user
from linli.accounts.models import Membership, Role
from linli.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from linli.ledger import services as ledger
from linli.ledger.models import Currency, EarnKind
from linli.volunteers import selectors, services
from linli.volunteers.models import SignUpStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world: Any) -> dict[str, Any]:
    sec = world.user("secretary")
    ledger.rule_save(
        actor=sec,
        community=world.community,
        kind=EarnKind.VOLUNTEER_SERVICE,
        amount=10,
        daily_cap=50,
    )
    ledger.rule_save(actor=sec, community=world.community, kind=EarnKind.TIMEBANK_SERVICE, amount=0)
    now = timezone.now()
    act = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="festival",
        title="邻里节",
        location="社区广场",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        capacity=1,
        earn_kind="volunteer_service",
    )
    return {"activity": act}


def test_capacity_waitlist_and_promotion(world: Any, setup: Any) -> None:
    a = setup["activity"]
    s1 = services.signup(
        actor=world.user("resident"), activity=a, resident=world.residents["resident"]
    )
    s2 = services.signup(
        actor=world.user("neighbour"), activity=a, resident=world.residents["neighbour"]
    )
    assert (s1.status, s2.status) == (SignUpStatus.REGISTERED, SignUpStatus.WAITLISTED)
    again = services.signup(
        actor=world.user("resident"), activity=a, resident=world.residents["resident"]
    )
    assert again.pk == s1.pk
    services.signup_cancel(actor=world.user("resident"), signup=s1)
    s2.refresh_from_db()
    assert s2.status == SignUpStatus.REGISTERED
    with pytest.raises(PermissionDenied):
        services.signup_cancel(actor=world.user("resident"), signup=s2)
    with pytest.raises(NotFound):  # another community's resident
        services.signup(
            actor=world.user("stranger"), activity=a, resident=world.residents["stranger"]
        )


def test_check_in_by_staff_then_check_out_awards_once(world: Any, setup: Any) -> None:
    a = setup["activity"]
    r = world.residents["resident"]
    s = services.signup(actor=world.user("resident"), activity=a, resident=r)
    with pytest.raises(InvalidTransition):
        services.check_out(actor=world.user("worker"), signup=s)
    with pytest.raises(PermissionDenied):
        services.check_in(actor=world.user("resident"), signup=s)
    services.check_in(actor=world.user("grid_worker"), signup=s)
    services.check_out(actor=world.user("worker"), signup=s)
    services.check_out(actor=world.user("worker"), signup=s)  # repeated: no second award
    assert ledger.resident_account(r, Currency.POINTS).balance == 10
    s.refresh_from_db()
    assert s.status == SignUpStatus.COMPLETED and s.awarded == 10


def test_qr_token_check_in_and_finish_awards_hours(world: Any, setup: Any) -> None:
    now = timezone.now()
    a = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="elderly",
        title="助老陪伴",
        location="3幢",
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(minutes=30),
        capacity=5,
        earn_kind="timebank_service",
    )
    r = world.residents["neighbour"]
    services.signup(actor=world.user("neighbour"), activity=a, resident=r)
    token = services.checkin_token(a)
    with pytest.raises(ValidationFailed):
        services.check_in_by_token(actor=world.user("neighbour"), token=token + "x")
    with pytest.raises(NotFound):  # not signed up
        services.check_in_by_token(actor=world.user("resident"), token=token)
    s = services.check_in_by_token(actor=world.user("neighbour"), token=token)
    assert s.status == SignUpStatus.CHECKED_IN
    assert services.activity_finish(actor=world.user("worker"), activity=a) == 1
    assert ledger.resident_account(r, Currency.MINUTES).balance == 150
    with pytest.raises(InvalidTransition):
        services.signup(
            actor=world.user("resident"), activity=a, resident=world.residents["resident"]
        )


def test_priority_signup_needs_credit_level(world: Any, setup: Any) -> None:
    now = timezone.now()
    ledger.settings_save(
        actor=world.user("secretary"),
        community=world.community,
        level_a=10,
        level_aa=20,
        level_aaa=30,
    )
    a = services.activity_create(
        actor=world.user("worker"),
        community=world.community,
        kind="training",
        title="急救培训",
        location="活动室",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        capacity=5,
        priority_level="A",
        priority_until=now + timedelta(days=1),
    )
    with pytest.raises(PermissionDenied) as e:
        services.signup(
            actor=world.user("neighbour"), activity=a, resident=world.residents["neighbour"]
        )
    assert e.value.code == "priority_only"
    ledger.award(
        actor=world.user("worker"),
        resident=world.residents["neighbour"],
        kind=EarnKind.VOLUNTEER_SERVICE,
        idempotency_key="lvl",
    )
    s = services.signup(
        actor=world.user("neighbour"), activity=a, resident=world.residents["neighbour"]
    )
    assert s.status == SignUpStatus.REGISTERED


def test_activity_bad_input(world: Any, setup: Any) -> None:
    now = timezone.now()
    base = dict(
        actor=world.user("worker"),
        community=world.community,
        kind="festival",
        title="x",
        location="y",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        capacity=3,
    )
    for bad in (
        {"capacity": 0},
        {"capacity": "2.5"},
        {"ends_at": now},
        {"title": " "},
        {"kind": "party"},
        {"earn_kind": "survey"},
    ):
        with pytest.raises(ValidationFailed):
            services.activity_create(**{**base, **bad})  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        services.activity_create(**{**base, "actor": world.user("resident")})  # type: ignore[arg-type]


def test_skills_pool_by_skill_and_building(world: Any) -> None:
    services.profile_save(
        actor=world.user("resident"),
        resident=world.residents["resident"],
        skills=[("repair", "修电视"), ("law", "")],
        availability=["weekend_am"],
    )
    services.profile_save(
        actor=world.user("neighbour"),
        resident=world.residents["neighbour"],
        skills=[("repair", "")],
    )
    u = make_user("hidden")
    hidden = make_resident(world.residents["resident"].household, "不公开", user=u)
    Membership.objects.create(user=u, role=Role.RESIDENT, unit=world.community)
    services.profile_save(actor=u, resident=hidden, skills=[("repair", "")], listed=False)
    pool = selectors.skills_pool(
        viewer=world.user("worker"), community_id=world.community.pk, category="repair"
    )
    assert {p.resident.name for p in pool} == {"张三", "李四"}
    pool = selectors.skills_pool(
        viewer=world.user("worker"),
        community_id=world.community.pk,
        category="repair",
        building_id=world.building.pk,
    )
    assert [p.resident.name for p in pool] == ["张三"]
    with pytest.raises(NotFound):
        selectors.skills_pool(viewer=world.user("stranger"), community_id=world.community.pk)
    with pytest.raises(ValidationFailed):
        services.profile_save(
            actor=world.user("resident"),
            resident=world.residents["resident"],
            skills=[("juggling", "")],
        )
