"""The demo leaves a lived-in street: a year of snapshots for its communities, ranked,
with the district's weights v1 (min sample 20) beside the platform default, expert
scores, a 改类 on the integrity page, and boards that open for the street officer."""

from __future__ import annotations

from typing import Any

import pytest

from linli.assessment import demo
from linli.assessment.models import ExpertScore, Snapshot, UnitMonth, WeightSet
from linli.core import demo as core_demo
from linli.core import ratelimit
from linli.core.audit import verify_all
from linli.requests import demo as requests_demo
from linli.requests.models import EventKind, RequestEvent

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    ctx = core_demo.load(households=300)
    with ratelimit.suspended():
        requests_demo.seed(ctx)
        demo.seed(ctx)
    months = set(Snapshot.objects.values_list("month", flat=True))
    assert len(months) == demo.MONTHS
    assert Snapshot.objects.filter(community=ctx.main).count() == demo.MONTHS
    assert Snapshot.objects.exclude(score=None).exists()
    assert UnitMonth.objects.filter(unit=ctx.district).count() == demo.MONTHS
    assert WeightSet.objects.filter(district=ctx.district).get().min_sample == 20
    assert ExpertScore.objects.count() >= 3
    assert RequestEvent.objects.filter(kind=EventKind.RECATEGORISED).count() == 1
    assert verify_all().ok
    client.force_login(ctx.users["street_officer"])
    page = client.get("/assessment/")
    assert page.status_code == 200 and ctx.main.name in page.content.decode()
    assert client.get(f"/assessment/u/{ctx.main.pk}/").status_code == 200
