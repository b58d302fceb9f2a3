from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from linli.accounts.models import Membership, Role, User
from linli.communities.models import Household, OrgUnit, Resident
from linli.core import demo


class _Rollback(Exception):
    pass


def _snapshot(seed: int) -> list[tuple[str, int, str, str]]:
    out: list[tuple[str, int, str, str]] = []
    try:
        with transaction.atomic():
            demo.build_street(seed=seed, households=60)
            out = list(
                Resident.objects.order_by("id").values_list(
                    "name", "birth_year", "phone", "id_number"
                )
            )
            raise _Rollback
    except _Rollback:
        pass
    return out


@pytest.mark.django_db
def test_generator_is_deterministic_for_a_seed() -> None:
    a, b, c = _snapshot(7), _snapshot(7), _snapshot(8)
    assert a and a == b
    assert a != c


@pytest.mark.django_db
def test_generator_shapes_a_realistic_street() -> None:
    demo.build_street(seed=1, households=1900)
    main = OrgUnit.objects.get(name=demo.MAIN_COMMUNITY)
    assert Household.objects.filter(community=main).count() == 1200
    n = Resident.objects.filter(community=main).count()
    assert 3000 <= n <= 4000
    owners = Household.objects.filter(community=main, tenure="owner").count()
    assert 0.7 < owners / 1200 < 0.9
    assert Resident.objects.filter(community=main, tags__icontains="living_alone").exists()
    assert OrgUnit.objects.filter(kind="community").count() == 3


@pytest.mark.django_db
def test_seed_demo_twice_does_not_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo", households=300)
    counts = (Resident.objects.count(), User.objects.count(), Membership.objects.count())
    first = capsys.readouterr().out
    call_command("seed_demo", households=300)
    second = capsys.readouterr().out
    assert (Resident.objects.count(), User.objects.count(), Membership.objects.count()) == counts
    for role in Role:
        assert str(role.label) in first and str(role.label) in second
    assert "secretary" in second and demo.DEMO_PASSWORD in second
