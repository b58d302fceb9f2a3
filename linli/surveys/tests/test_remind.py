"""Reminders go out as a published notice to the survey's audience; the closing sweep
closes surveys past their time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.errors import Conflict, InvalidTransition, PermissionDenied
from linli.surveys import services
from linli.surveys.models import Survey
from linli.surveys.tests.conftest import GOOD, make_survey

pytestmark = pytest.mark.django_db


def test_remind_publishes_notice(world: Any) -> None:
    from linli.notices.models import Notice

    s = make_survey(world)
    notice = services.survey_remind(actor=world.users["worker"], survey=s)
    n = Notice.objects.get(pk=notice.pk)
    assert n.status == "published" and n.source_id == str(s.pk) and s.title in n.title
    with pytest.raises(PermissionDenied):
        services.survey_remind(actor=world.users["resident"], survey=s)


def test_group_reminder_skips_those_who_answered(world: Any) -> None:
    from linli.notices.models import Notice
    from linli.volunteers.models import VolunteerProfile

    for key in ("resident", "neighbour"):
        VolunteerProfile.objects.create(community=world.community, resident=world.residents[key])
    s = make_survey(world, audience="groups", groups=("volunteers",))
    services.survey_answer(actor=world.users["resident"], survey=s, answers=GOOD)
    notice = services.survey_remind(actor=world.users["worker"], survey=s)
    assert Notice.objects.get(pk=notice.pk).audience_resident_ids == [
        world.residents["neighbour"].pk
    ]
    services.survey_answer(actor=world.users["neighbour"], survey=s, answers=GOOD)
    with pytest.raises(Conflict):
        services.survey_remind(actor=world.users["worker"], survey=s)


def test_closed_survey_cannot_be_reminded_and_sweep_closes(world: Any) -> None:
    s = make_survey(world, closes_at=timezone.now() + timedelta(hours=1))
    now = timezone.now()
    Survey.objects.filter(pk=s.pk).update(
        opens_at=now - timedelta(hours=2), closes_at=now - timedelta(minutes=1)
    )
    assert services.close_due_surveys() == 1
    s.refresh_from_db()
    assert s.status == "closed"
    with pytest.raises(InvalidTransition):
        services.survey_remind(actor=world.users["worker"], survey=s)
