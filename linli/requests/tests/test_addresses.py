"""Address normalisation: the ways residents and apps write a building (issue 10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from linli.requests.addresses import (
    building_key,
    chinese_number,
    match_building,
    name_variants,
    normalise,
)

COMMUNITY = ["阳光社区"]

# (as written by a resident / hotline / third-party app, the building key)
VARIANTS = [
    ("阳光社区 1号楼 2单元", "1"),
    ("1号楼", "1"),
    ("1栋", "1"),
    ("1幢", "1"),
    ("1座", "1"),
    ("一号楼", "1"),
    ("十二栋", "12"),
    ("二十一幢", "21"),
    ("１号楼", "1"),  # full-width digit
    ("阳光社区１２幢３单元５０２室", "12"),
    ("1号楼2单元301室", "1"),
    ("1号楼2单元3楼302室", "1"),
    ("3 号 楼", "3"),
    ("第3栋", "3"),
    ("第十五栋东侧", "15"),
    ("1-2-301", "1"),
    ("7－1－502", "7"),  # full-width dashes
    ("5号2单元", "5"),
    ("阳光路18号3栋", "3"),  # the street number is not the building
    ("A座", "A"),
    ("Ｂ栋", "B"),
    ("Building 5", "5"),
    ("阳光社区 两号楼", "2"),
    ("3", "3"),
]

NOT_A_BUILDING = [
    "3楼",  # a floor, not a building
    "二单元301室",
    "综合楼",
    "西门岗亭旁",
    "2026-11-30",
    "阳光路18号",
    "",
]


@pytest.mark.parametrize(("text", "key"), VARIANTS)
def test_building_key_of_real_world_variants(text: str, key: str) -> None:
    assert building_key(text, COMMUNITY) == key


@pytest.mark.parametrize("text", NOT_A_BUILDING)
def test_no_building_key(text: str) -> None:
    assert building_key(text, COMMUNITY) is None


@pytest.mark.parametrize(
    ("raw", "n"),
    [
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("一百零五", 105),
        ("一二", 12),
        ("7", 7),
    ],
)
def test_chinese_numbers(raw: str, n: int) -> None:
    assert chinese_number(raw) == n


def test_normalise_full_width_and_spaces() -> None:
    assert normalise("  １２幢　３单元 ") == "12幢 3单元"


@dataclass
class B:
    name: str
    address: str = ""


BUILDINGS = [B("1幢", "阳光路1号"), B("2幢"), B("12幢"), B("综合楼"), B("A座")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("阳光社区 1号楼 2单元", "1幢"),
        ("一号楼", "1幢"),
        ("十二栋302室", "12幢"),
        ("１２号楼", "12幢"),
        ("2-1-101", "2幢"),
        ("阳光社区综合楼门口", "综合楼"),
        ("阳光路1号", "1幢"),  # the building's own address
        ("a座", "A座"),
        ("3号楼", None),  # no such building: not guessed
        ("西门岗亭旁", None),
    ],
)
def test_match_building(text: str, name: str | None) -> None:
    got = match_building(text, BUILDINGS, COMMUNITY)
    assert (got.name if got else None) == name


def test_ambiguous_key_is_not_guessed() -> None:
    assert match_building("1号楼", [B("1幢"), B("1座")]) is None


def test_name_variants_cover_the_staff_name() -> None:
    v = name_variants("一号楼")
    assert {"1幢", "1栋", "1号楼", "一号楼", "1座"} <= set(v)
    assert name_variants("西门") == []


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["1号楼", "一号楼", "１栋", "阳光社区1号楼2单元"])
def test_staff_roster_search_finds_the_building_however_written(world: Any, query: str) -> None:
    from linli.communities.selectors import resident_list_for

    found = resident_list_for(viewer=world.user("secretary"), query=query)
    assert found and {r.household.building.name for r in found} == {"1幢"}
