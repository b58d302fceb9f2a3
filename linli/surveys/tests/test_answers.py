from __future__ import annotations

from typing import Any

import pytest

from linli.core.errors import Conflict, InvalidTransition, ValidationFailed
from linli.surveys import results, services
from linli.surveys.models import Answer, Participation, Response, Survey, Tally
from linli.surveys.tests.conftest import GOOD, make_survey

pytestmark = pytest.mark.django_db


def _nothing_written(s: Survey) -> None:
    assert Response.objects.filter(survey=s).count() == 0
    assert Participation.objects.filter(survey=s).count() == 0
    assert Answer.objects.filter(survey=s).count() == 0
    assert Tally.objects.filter(survey=s).count() == 0


def test_answer_writes_response_tallies_and_participation(world: Any, survey: Survey) -> None:
    r = services.survey_answer(actor=world.users["resident"], survey=survey, answers=GOOD)
    assert Response.objects.get(pk=r.pk).building_id == world.building.pk
    p = Participation.objects.get(survey=survey)
    assert p.resident_id == world.residents["resident"].pk
    assert p.response_id is None  # anonymous: not linked
    counts = results.reference_counts(survey)
    tallied = {
        (t["question_id"], t["row"], t["option"]): t["n"]
        for t in Tally.objects.filter(survey=survey).values("question_id", "row", "option", "n")
    }
    assert counts == {k: v for k, v in tallied.items() if v}


def test_named_survey_links_participation(world: Any) -> None:
    s = make_survey(world, anonymous=False)
    r = services.survey_answer(actor=world.users["resident"], survey=s, answers=GOOD)
    assert Participation.objects.get(survey=s).response_id == r.pk


def test_answering_twice_refused(world: Any, survey: Survey) -> None:
    services.survey_answer(actor=world.users["resident"], survey=survey, answers=GOOD)
    with pytest.raises(Conflict) as e:
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=GOOD)
    assert "只能提交一次" in str(e.value.message)
    assert Response.objects.filter(survey=survey).count() == 1


def test_answering_closed_survey_refused(world: Any, survey: Survey) -> None:
    services.survey_close(actor=world.users["worker"], survey=survey)
    with pytest.raises(InvalidTransition):
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=GOOD)
    _nothing_written(survey)


def test_skipping_required_question_refused(world: Any, survey: Survey) -> None:
    bad = {k: v for k, v in GOOD.items() if k != "q2"}
    with pytest.raises(ValidationFailed) as e:
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=bad)
    assert "必答" in str(e.value.message)
    _nothing_written(survey)


def test_skipped_question_not_required(world: Any, survey: Survey) -> None:
    # q1 = 2 jumps to q4: q2 and q3 are not asked (and stale answers are dropped).
    answers = {"q1": "2", "q3": ["1"], "q4": {"1": "1", "2": "1"}}
    r = services.survey_answer(actor=world.users["resident"], survey=survey, answers=answers)
    codes = set(Answer.objects.filter(response=r).values_list("question__code", flat=True))
    assert codes == {"q1", "q4"}


def test_matrix_outside_scale_refused(world: Any, survey: Survey) -> None:
    bad = {**GOOD, "q4": {"1": "4", "2": "1"}}
    with pytest.raises(ValidationFailed) as e:
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=bad)
    assert "超出量表范围" in str(e.value.message)
    _nothing_written(survey)


def test_over_long_text_refused(world: Any, survey: Survey) -> None:
    bad = {**GOOD, "q5": "长" * 51}
    with pytest.raises(ValidationFailed) as e:
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=bad)
    assert "50" in str(e.value.message)
    _nothing_written(survey)


def test_outsider_cannot_answer(world: Any, survey: Survey) -> None:
    from linli.core.errors import NotFound

    with pytest.raises(NotFound):
        services.survey_answer(actor=world.users["stranger"], survey=survey, answers=GOOD)
    _nothing_written(survey)


def test_proxy_answer_records_channel(world: Any, survey: Survey) -> None:
    services.survey_answer(
        actor=world.users["grid_worker"],
        survey=survey,
        answers=GOOD,
        resident=world.residents["neighbour"],
        channel="paper",
    )
    p = Participation.objects.get(survey=survey)
    assert (p.channel, p.entered_by_id) == ("paper", world.users["grid_worker"].pk)
    with pytest.raises(ValidationFailed):
        services.survey_answer(
            actor=world.users["grid_worker"],
            survey=survey,
            answers=GOOD,
            resident=world.residents["resident"],
            channel="web",
        )


def test_answer_statement_budget(world: Any, survey: Survey) -> None:
    """Answering is the hot write: the five-question survey (single, rating, multiple,
    matrix, free text) is answered in a fixed number of statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        services.survey_answer(actor=world.users["resident"], survey=survey, answers=GOOD)
    sql = [q["sql"][:80] for q in ctx.captured_queries]
    assert len(sql) <= ANSWER_BUDGET, sql


ANSWER_BUDGET = 12  # measured 2026-11-30
