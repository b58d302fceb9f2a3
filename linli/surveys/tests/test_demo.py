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
    from linli.ledger import demo as ledger_demo
    from linli.volunteers import demo as volunteers_demo

    with ratelimit.suspended():  # as make demo runs it
        ctx = core_demo.load(households=200)
        ledger_demo.seed(ctx)
        volunteers_demo.seed(ctx)
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
