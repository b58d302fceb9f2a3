"""The demo shows the 红黑榜 in use: four published quarters, red and black lists, one
company on the register with an appeal waiting."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from linli.core import demo as core_demo
from linli.core import ratelimit
from linli.propertyco import demo, selectors
from linli.propertyco.models import Board, BoardStatus, EntryStatus, RegisterEntry, Score
from linli.propertyco.quarters import frozen

pytestmark = pytest.mark.django_db


def test_demo_seed(client: Any) -> None:
    with ratelimit.suspended(), frozen(date(2026, 11, 30)):
        ctx = core_demo.load(households=1210)  # three communities in one street
        demo.seed(ctx)
    boards = Board.objects.all()
    assert boards.count() == 4
    assert set(boards.values_list("status", flat=True)) == {BoardStatus.PUBLISHED}
    assert Score.objects.filter(listing="red").exists()
    assert Score.objects.filter(listing="black").count() >= 3
    entry = RegisterEntry.objects.get()
    assert entry.company.name == "恒信物业管理有限公司"
    assert entry.status == EntryStatus.APPEALED
    assert selectors.is_barred(entry.company, on=date(2026, 11, 30))
    page = client.get("/propertyco/", {"unit": ctx.streets[0].pk})
    assert page.status_code == 200 and "恒信物业管理有限公司" in page.content.decode()
