"""Concurrent answers and claims on PostgreSQL: one answer per person and one claim per
wish hold under real threads; tallies stay equal to the answers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection

from linli.core.errors import Conflict, DomainError
from linli.surveys import results, services
from linli.surveys.models import Participation, Response, Tally, WishClaim
from linli.surveys.tests.conftest import GOOD, crowd, make_survey

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _skip_unless_pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set DATABASE_URL)")


def _run(n: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            out[i] = fn(i)
        except Exception as exc:  # collected and asserted on below
            out[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("anonymous", [True, False])
def test_same_person_ten_times_at_once_gives_one_answer(world: Any, anonymous: bool) -> None:
    _skip_unless_pg()
    s = make_survey(world, anonymous=anonymous)
    user = world.users["resident"]
    out = _run(10, lambda i: services.survey_answer(actor=user, survey=s, answers=GOOD))
    ok = [r for r in out if not isinstance(r, Exception)]
    errors = [r for r in out if isinstance(r, Exception)]
    assert len(ok) == 1, out
    assert all(isinstance(e, Conflict) for e in errors), errors
    assert Participation.objects.filter(survey=s).count() == 1
    assert Response.objects.filter(survey=s).count() == 1
    q1 = s.questions.get(code="q1")
    assert (
        sum(Tally.objects.filter(survey=s, question=q1, option=-1).values_list("n", flat=True)) == 1
    )


def test_many_people_at_once_tallies_add_up(world: Any) -> None:
    _skip_unless_pg()
    s = make_survey(world)
    people = crowd(world, 12)
    grid = world.users["grid_worker"]
    out = _run(
        12,
        lambda i: services.survey_answer(
            actor=grid, survey=s, answers=GOOD, resident=people[i], channel="phone"
        ),
    )
    assert not [r for r in out if isinstance(r, Exception)], out
    ref = results.reference_counts(s)
    q2 = s.questions.get(code="q2")
    assert ref[(q2.pk, 0, 4)] == 12
    assert (
        sum(Tally.objects.filter(survey=s, question=q2, option=4).values_list("n", flat=True)) == 12
    )


def test_two_claimers_at_once_one_claim(world: Any) -> None:
    _skip_unless_pg()
    from linli.volunteers.models import VolunteerProfile

    VolunteerProfile.objects.create(
        community=world.community, resident=world.residents["neighbour"]
    )
    w = services.wish_post(
        actor=world.users["resident"], community=world.community, group="elderly", title="想要棉衣"
    )
    services.wish_publish(actor=world.users["worker"], wish=w, public_title="冬衣")
    users = [world.users["neighbour"], world.users["social_org"], world.users["property"]]
    out = _run(3, lambda i: services.wish_claim(actor=users[i], wish=w))
    ok = [r for r in out if not isinstance(r, Exception)]
    assert len(ok) == 1, out
    assert all(isinstance(e, DomainError) for e in out if isinstance(e, Exception))
    assert WishClaim.objects.filter(wish=w, active=True).count() == 1
