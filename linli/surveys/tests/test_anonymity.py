"""Anonymity by schema: no chain of foreign keys leads from the answer tables to a
user, a resident or a household; the participation record holds no answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, models, transaction

from linli.surveys.models import Answer, Participation, Response, Tally, WordCount
from linli.surveys.services.answers import survey_answer
from linli.surveys.tests.conftest import GOOD, make_survey

PERSONAL = {"accounts.User", "communities.Resident", "communities.Household"}
# Rows every answer of a survey shares alike (the survey and its questions; the survey
# names its author, a member of staff) tell nothing about who gave one answer: the walk
# follows only the links whose value can differ from one response to the next.
SHARED = {"surveys.Survey", "surveys.Question"}


def _reachable(model: type[models.Model]) -> set[str]:
    seen: set[str] = set()
    todo = [model]
    while todo:
        m = todo.pop()
        for f in m._meta.concrete_fields:
            target = getattr(f, "related_model", None)
            if (
                target is None
                or not isinstance(target, type)
                or not issubclass(target, models.Model)
            ):
                continue
            label = target._meta.label
            if label not in seen:
                seen.add(label)
                if label not in SHARED:
                    todo.append(target)
    return seen


@pytest.mark.parametrize("model", [Response, Answer, Tally, WordCount])
def test_no_path_from_answers_to_people(model: type[models.Model]) -> None:
    reach = _reachable(model)
    assert not (reach & PERSONAL), f"{model.__name__} reaches {reach & PERSONAL}"
    assert "surveys.Participation" not in reach


def test_participation_holds_no_answers() -> None:
    names = {f.name for f in Participation._meta.concrete_fields}
    assert not names & {"option", "text", "number", "date", "answers", "row"}


@pytest.mark.django_db
def test_anonymous_participation_cannot_link_response(world: Any) -> None:
    s = make_survey(world)
    r = survey_answer(actor=world.users["resident"], survey=s, answers=GOOD)
    p = Participation.objects.get(survey=s)
    p.response_id = r.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        p.save()


@pytest.mark.django_db
def test_anonymous_audit_event_names_no_response(world: Any) -> None:
    from linli.core.models import AuditEvent

    s = make_survey(world)
    r = survey_answer(actor=world.users["resident"], survey=s, answers=GOOD)
    ev = AuditEvent.objects.filter(action="surveys.answer").latest("id")
    assert str(r.pk) not in str(ev.payload)
    assert ev.target_type.endswith("survey")
