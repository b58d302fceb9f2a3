"""The monthly figures are read with a fixed number of grouped statements, whatever
the number of communities (the district snapshot must not cost one round of queries
per community): two communities with records cost what one costs."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.assessment import indicators
from linli.assessment.tests.conftest import MARCH, make_request
from linli.requests import stats

# Requests (day rows + buildings), surveys, experts, six participation sources and the
# adults/registered counts, mediation + disputes, notices (none here), deliberation
# (published topics, their histories, settings, agenda, resolutions, meetings) and the
# integrity counts (four kinds, closings, visits, sessions).
BUDGET = 27


def test_month_figures_statements_do_not_grow_with_communities(world: Any, march: Any) -> None:
    make_request(world, "fac-light", building=world.other_building, reporter="stranger")
    stats.refresh(community_ids=[world.community.pk, world.other_community.pk])
    with CaptureQueriesContext(connection) as one:
        indicators.month_figures([world.community.pk], MARCH)
    with CaptureQueriesContext(connection) as two:
        data = indicators.month_figures([world.community.pk, world.other_community.pk], MARCH)
    assert data.figures[world.other_community.pk]["req_total"] == 1
    assert len(two.captured_queries) == len(one.captured_queries)
    assert len(two.captured_queries) <= BUDGET, [q["sql"][:80] for q in two.captured_queries]
