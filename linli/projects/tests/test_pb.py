"""Programmes, review, ballots and results through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import World
from linli.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from linli.core.models import AuditEvent
from linli.projects import services
from linli.projects.models import Allocation, Override, PBBallot, PBProject, Programme
from linli.projects.tests.conftest import make_programme, voting_programme

pytestmark = pytest.mark.django_db


def _ids(prog: Programme) -> list[int]:
    return list(
        PBProject.objects.filter(programme=prog).order_by("pk").values_list("pk", flat=True)
    )


def test_rules_lock_once_started(world: World) -> None:
    prog = make_programme(world)
    sec = world.user("secretary")
    services.programme_update(actor=sec, programme=prog, rules={"budget_yuan": "120000"})
    prog.refresh_from_db()
    assert prog.budget_fen == 12_000_000
    services.programme_advance(actor=sec, programme=prog, action="open_proposals")
    prog.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services.programme_update(actor=sec, programme=prog, rules={"method": "greedy"})
    assert exc.value.code == "rules_locked"
    with pytest.raises(Conflict):
        services.programme_update(actor=sec, programme=prog, criteria=[("新标准", 1)])
    d = services.Dates(
        prog.proposals_opens - timedelta(days=1),
        prog.review_opens,
        prog.voting_opens,
        prog.voting_closes,
    )
    with pytest.raises(Conflict) as exc:  # the proposals phase has started: its date is fixed
        services.programme_update(actor=sec, programme=prog, dates=d)
    assert exc.value.code == "phase_locked"
    later = services.Dates(
        prog.proposals_opens,
        prog.review_opens,
        prog.voting_opens,
        prog.voting_closes + timedelta(days=1),
    )
    services.programme_update(actor=sec, programme=prog, dates=later)  # not yet started: fine
    prog.refresh_from_db()
    assert prog.method == "mes" and prog.budget_fen == 12_000_000


def test_conflict_of_interest_and_scores(world: World) -> None:
    prog = make_programme(world)
    sec = world.user("secretary")
    rv = services.reviewer_add(
        actor=sec, programme=prog, user=world.user("supervisor"), title="规划师"
    )
    services.programme_advance(actor=sec, programme=prog, action="open_proposals")
    prog.refresh_from_db()
    p = services.pb_project_submit(
        actor=world.user("resident"),
        programme=prog,
        title="花园",
        description="d",
        cost_yuan="9000",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.pb_project_submit(
            actor=world.user("resident"),
            programme=prog,
            title="大",
            description="d",
            cost_yuan="200000",
        )
    assert exc.value.code == "over_budget"
    services.programme_advance(actor=sec, programme=prog, action="start_review")
    p.refresh_from_db()
    crits = list(prog.criteria.all())
    with pytest.raises(ValidationFailed):
        services.score_submit(actor=rv.user, project=p, scores={crits[0].pk: 11, crits[1].pk: 5})
    with pytest.raises(PermissionDenied):
        services.score_submit(actor=sec, project=p, scores={c.pk: 5 for c in crits})
    services.score_submit(actor=rv.user, project=p, scores={crits[0].pk: 9, crits[1].pk: 6})
    assert services.weighted_scores(prog)[p.pk] == 780  # (9×3 + 6×2) / 5 = 7.8
    services.conflict_declare(actor=rv.user, project=p, note="项目在我家楼下")
    with pytest.raises(PermissionDenied):
        services.score_submit(actor=rv.user, project=p, scores={c.pk: 5 for c in crits})
    assert services.weighted_scores(prog)[p.pk] is None


def test_ballot_rules(world: World) -> None:
    prog = voting_programme(world)
    ids = _ids(prog)
    assert PBProject.objects.filter(programme=prog, status="shortlisted").count() == 3
    with pytest.raises(ValidationFailed) as exc:  # approval: at most k = 2
        services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids)
    assert exc.value.code == "too_many_choices"
    with pytest.raises(ValidationFailed):
        services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=[])
    services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids[:2])
    with pytest.raises(Conflict) as exc2:
        services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids[2:])
    assert exc2.value.code == "already_voted"
    with pytest.raises(PermissionDenied):
        services.ballot_cast(actor=world.user("stranger"), programme=prog, project_ids=ids[:1])
    assert PBBallot.objects.count() == 1
    ev = AuditEvent.objects.filter(action="projects.ballot_cast").get()
    assert ev.actor_id is None  # a secret ballot


def test_knapsack_over_budget_and_household_unit(world: World) -> None:
    prog = voting_programme(world, kind="knapsack", k=None, unit="household")
    ids = _ids(prog)  # 40 000 + 50 000 + 30 000 > 100 000
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids)
    assert exc.value.code == "over_budget"
    b = services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids[:2])
    assert b.total_fen == 9_000_000


def test_vote_after_phase_ended(world: World) -> None:
    prog = voting_programme(world)
    Programme.objects.filter(pk=prog.pk).update(voting_closes=timezone.now() - timedelta(minutes=1))
    prog.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(
            actor=world.user("resident"), programme=prog, project_ids=_ids(prog)[:1]
        )
    assert exc.value.code == "not_voting"
    assert PBBallot.objects.count() == 0


def test_paper_ballot_needs_two_staff(world: World) -> None:
    prog = voting_programme(world)
    r = world.residents["neighbour"]
    with pytest.raises(ValidationFailed):
        services.paper_ballot_record(
            actor=world.user("worker"),
            second_staff=world.user("worker"),
            programme=prog,
            resident=r,
            project_ids=_ids(prog)[:1],
        )
    b = services.paper_ballot_record(
        actor=world.user("worker"),
        second_staff=world.user("secretary"),
        programme=prog,
        resident=r,
        project_ids=_ids(prog)[:1],
    )
    assert b.channel == "paper" and b.second_staff_id == world.user("secretary").pk
    with pytest.raises(Conflict):  # and the resident cannot vote again online
        services.ballot_cast(
            actor=world.user("neighbour"), programme=prog, project_ids=_ids(prog)[:1]
        )


def test_close_computes_both_methods_and_override(world: World) -> None:
    prog = voting_programme(world)
    ids = _ids(prog)
    services.ballot_cast(actor=world.user("resident"), programme=prog, project_ids=ids[:2])
    services.ballot_cast(actor=world.user("neighbour"), programme=prog, project_ids=ids[1:])
    sec = world.user("secretary")
    with pytest.raises(DomainError):  # not before the published closing time
        services.programme_advance(actor=sec, programme=prog, action="close_voting")
    Programme.objects.filter(pk=prog.pk).update(voting_closes=timezone.now() - timedelta(seconds=1))
    prog.refresh_from_db()
    services.programme_advance(actor=sec, programme=prog, action="close_voting")
    prog.refresh_from_db()
    assert prog.phase == "results"
    assert set(Allocation.objects.filter(programme=prog).values_list("method", flat=True)) == {
        "greedy",
        "mes",
    }
    for a in Allocation.objects.filter(programme=prog):
        assert a.spent_fen <= prog.budget_fen
    funded = set(
        PBProject.objects.filter(programme=prog, status="funded").values_list("pk", flat=True)
    )
    mes = Allocation.objects.get(programme=prog, method="mes")
    assert funded == set(mes.funded)
    loser = PBProject.objects.filter(programme=prog).exclude(pk__in=funded).first()
    target = loser or PBProject.objects.get(pk=ids[0])
    with pytest.raises(ValidationFailed) as exc:
        services.override_result(
            actor=sec, programme=prog, project=target, funded=False, reason=" "
        )
    assert exc.value.code == "reason_required"
    assert Override.objects.count() == 0
    services.override_result(
        actor=sec, programme=prog, project=target, funded=False, reason="场地被征用"
    )
    assert Override.objects.get().reason == "场地被征用"
    text = services.pabulib_export(programme=prog)
    assert "num_votes;2" in text and "vote_type;approval" in text
    assert "张三" not in text
    votes = text.split("voter_id;vote\n")[1].strip().splitlines()
    assert sorted(v.split(";")[0] for v in votes) == ["0", "1"]  # voters renumbered


def test_ballot_cast_statement_budget(world: World) -> None:
    """The hot write of a vote: a fixed number of SQL statements whatever the number of
    projects chosen (ballot + its choices in one insert each, audit, locks)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    prog = voting_programme(world)
    ids = _ids(prog)
    resident = world.user("resident")
    resident.refresh_from_db()  # a fresh user object, as a request has
    with CaptureQueriesContext(connection) as ctx:
        services.ballot_cast(actor=resident, programme=prog, project_ids=ids[:2])
    sql = [q["sql"][:80] for q in ctx.captured_queries]
    assert len(sql) <= BALLOT_BUDGET, sql


BALLOT_BUDGET = 8  # measured 2026-11-30: ballot, choices, audit, checks and locks
