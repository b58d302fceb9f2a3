"""The site plan never piles buildings onto each other, whatever their coordinates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.requests.siteplan import BOX_H, BOX_W, WIDTH, site_plan


@dataclass
class _B:
    pk: int
    name: str
    lat: Decimal | None
    lng: Decimal | None


def _assert_clear(plan: object) -> None:
    boxes = plan.buildings  # type: ignore[attr-defined]
    for b in boxes:
        assert BOX_W / 2 <= b.x <= WIDTH - BOX_W / 2, b
        assert BOX_H / 2 <= b.y <= plan.height - BOX_H / 2, b  # type: ignore[attr-defined]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert abs(a.x - b.x) >= BOX_W or abs(a.y - b.y) >= BOX_H, (a, b)


def test_the_demo_estate_of_fifty_buildings_is_readable() -> None:
    """阳光社区's 50 buildings (10 north–south × 5 east–west, 0.0006° apart) used to be
    squeezed into 320 × 220 and overlap; now every box is clear, order is kept."""
    base_lat, base_lng = Decimal("30.2741"), Decimal("120.1551")
    blds = [
        _B(
            b + 1,
            f"{b + 1}幢",
            base_lat + Decimal(b % 10) * Decimal("0.0006"),
            base_lng + Decimal(b // 10) * Decimal("0.0006"),
        )
        for b in range(50)
    ]
    plan = site_plan(blds)
    assert plan is not None and plan.width == WIDTH and plan.height > 220
    _assert_clear(plan)
    pos = {b.pk: (b.x, b.y) for b in plan.buildings}
    assert pos[1][1] > pos[2][1]  # 2幢 is north of 1幢: drawn higher (north up)
    assert pos[1][0] < pos[11][0]  # 11幢 is east of 1幢


def test_two_buildings_keep_the_small_drawing() -> None:
    plan = site_plan(
        [
            _B(1, "1幢", Decimal("30.0000"), Decimal("120.0000")),
            _B(2, "2幢", Decimal("30.0010"), Decimal("120.0010")),
        ]
    )
    assert plan is not None and (plan.width, plan.height) == (320, 220)
    _assert_clear(plan)


coords = st.tuples(
    st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60)
).map(
    lambda t: (
        Decimal("30.27") + Decimal(t[0]) / 10_000,
        Decimal("120.15") + Decimal(t[1]) / 10_000,
    )
)


@settings(max_examples=60, deadline=None)
@given(st.lists(coords, min_size=1, max_size=60))
def test_no_overlap_for_any_layout(points: list[tuple[Decimal, Decimal]]) -> None:
    """Random estates, including buildings on the very same spot."""
    plan = site_plan([_B(i, f"{i}幢", lat, lng) for i, (lat, lng) in enumerate(points)])
    assert plan is not None and len(plan.buildings) == len(points)
    _assert_clear(plan)
