"""Periods: months, quarters and years; a period in the future or not yet ended is
refused with a clear message."""

from __future__ import annotations

from datetime import date

import pytest

from linli.assessment.periods import last_complete_month, parse
from linli.core.errors import ValidationFailed

TODAY = date(2026, 11, 29)


def test_parse_kinds() -> None:
    assert parse("2026-10", today=TODAY).months == [date(2026, 10, 1)]
    q = parse("2026-Q3", today=TODAY)
    assert q.months == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    assert q.end == date(2026, 10, 1)
    assert len(parse("2025", today=TODAY).months) == 12
    assert parse("", today=TODAY).key == "2026-10"
    assert last_complete_month(date(2026, 1, 5)).key == "2025-12"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("2027-01", "未来"),
        ("2026-11", "尚未结束"),
        ("2026-Q4", "尚未结束"),
        ("2026", "尚未结束"),
        ("2026-13", "1 到 12"),
        ("下个月", "格式"),
        ("1999-01", "过早"),
    ],
)
def test_bad_periods_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse(text, today=TODAY)
    assert needle in str(exc.value.message)
