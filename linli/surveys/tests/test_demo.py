"""The demo shows surveys and 微心愿 in use: a satisfaction series with a trend,
published results, an open needs survey with paper answers, and wishes in every
state (one fulfilled with a photo and confirmed, points paid)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from linli.core import demo as core_demo
from linli.core import ratelimit
from linli.surveys import demo, results
from linli.surveys.models import Participation, Survey, Wish

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    from linli.communities.models import Resident
    from linli.ledger.services import rule_save
    from linli.volunteers.models import VolunteerProfile

    with ratelimit.suspended():  # as make demo runs it
        ctx = core_demo.load(households=200)
        # What the ledger and volunteers demos (run before this one) provide: the
        # 邻里互助 rule and a volunteer with an account.
        rule_save(
            actor=ctx.users["secretary"],
            community=ctx.main,
            kind="mutual_aid",
            amount=5,
            daily_cap=10,
            monthly_cap=60,
            approver_roles=["staff"],
        )
        volunteer = Resident.objects.filter(community=ctx.main, user__isnull=False).last()
        assert volunteer is not None
        VolunteerProfile.objects.create(community=ctx.main, resident=volunteer)
        t0 = time.perf_counter()
        demo.seed(ctx)
        took = time.perf_counter() - t0
    series = Survey.objects.filter(community=ctx.main, series="monthly-satisfaction")
    assert set(series.values_list("status", flat=True)) == {"published", "closed", "open"}
    newest = series.get(status="open")
    assert [m is not None for _t, m, _n in results.trend(newest)] == [True, True, True]
    assert results.satisfaction_rate(community_id=ctx.main.pk) is not None
    assert Participation.objects.filter(channel="paper").count() == 3
    states = set(Wish.objects.filter(community=ctx.main).values_list("status", flat=True))
    assert {"submitted", "published", "claimed", "confirmed"} <= states
    assert Wish.objects.get(status="confirmed").points_awarded > 0
    client.force_login(ctx.users["community_worker"])
    published = series.get(status="published")
    body = client.get(f"/surveys/{published.pk}/results/").content.decode()
    assert "crosstab" in body
    assert took < 30  # a few seconds on an idle machine
