"""Labelled request pairs for duplicate detection ("me too" / merge suggestions).

A pair is two reports with their place (same building, or a distance) and the days
between them; ``label`` 1 = the same problem. Kinds:

* ``positive`` — the same place-bound problem told twice in other words, same building,
  0–12 days apart (personal matters — disputes, aid, elderly care, shops — are never
  duplicates of each other: two neighbours' aid requests are two requests);
* ``hard_negative`` — same building, same days, a DIFFERENT problem, chosen from leaves
  that sound alike (dog barking vs night drilling, lift vs e-bike in the lift, …);
* ``place_negative`` / ``time_negative`` — the same problem 300 m away or 20+ days later.

Two sets, built the same way from different texts: ``pairs_tune.jsonl`` from the
training phrases (to pick the similarity threshold) and ``pairs.jsonl`` from the
held-out texts plus hand-written pairs (to measure). Fixed seed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from linli.insight.dataset.heldout import HELDOUT
from linli.insight.dataset.phrases import PHRASES

SEED = 7
DATA = Path(__file__).resolve().parent.parent / "data"
PERSONAL = {"di-other", "li-aid", "li-elderly", "li-market", "ho-service"}
# Positives only from leaves where one building has one such thing at a time (its
# lift, its lights, its bins, its water, the stall at its gate, …): two reports of the
# leaf in the same building within days are the same problem. For broad leaves
# (fire hazards, falling objects, leaks in different flats) they often are not.
SINGLE_OBJECT = {
    "fac-elevator",
    "fac-light",
    "fac-water",
    "env-garbage",
    "env-stall",
    "gr-lawn",
    "di-noise",
    "tr-road",
    "ho-renovation",
    "sa-gas",
    "env-clutter",
    "di-pet",
}
# Leaves that residents' words easily confuse: the hard negatives come from these.
CONFUSABLE = [
    ("di-noise", "di-pet"),
    ("di-noise", "ho-renovation"),
    ("fac-elevator", "tr-ebike"),
    ("fac-elevator", "di-pet"),
    ("ho-leak", "fac-water"),
    ("env-garbage", "env-clutter"),
    ("env-clutter", "sa-fire"),
    ("env-clutter", "tr-ebike"),
    ("fac-light", "gr-tree"),
    ("tr-parking", "tr-road"),
    ("sa-falling", "ho-leak"),
    ("sa-gas", "sa-fire"),
    ("gr-lawn", "gr-tree"),
    ("env-stall", "tr-parking"),
    ("fac-fitness", "tr-road"),
    ("env-ads", "env-clutter"),
    ("fac-water", "env-garbage"),
    ("sa-falling", "gr-tree"),
]

# Written by hand, including the issue's own examples.
HANDMADE: list[dict[str, Any]] = [
    {"a": "电梯又坏了", "b": "困在电梯里半小时", "label": 1},
    {"a": "5幢的狗叫", "b": "5幢夜里装修电钻", "label": 0},
    {"a": "电梯门关不上，一直开开关关", "b": "今天坐电梯被夹了一下，门有问题", "label": 1},
    {"a": "楼下的桶满了好几天", "b": "单元门口臭死了，没人来收", "label": 1},
    {"a": "楼上半夜跳绳", "b": "楼上的狗半夜一直叫", "label": 0},
    {"a": "楼道灯不亮", "b": "楼道里堆满了纸箱", "label": 0},
    {"a": "家里没水了", "b": "天花板往下滴水", "label": 0},
    {"a": "停水了，也没通知", "b": "水龙头拧开没水", "label": 1},
    {"a": "门口有个井盖没了", "b": "路上那个洞很危险，盖子不见了", "label": 1},
    {"a": "有人在楼道里给电瓶车充电", "b": "电梯里有人推电瓶车进来", "label": 0},
    {"a": "楼顶在搭铁皮房", "b": "楼顶有人私自加盖房子", "label": 1},
    {"a": "楼上装修太吵", "b": "楼上装修把承重墙拆了", "label": 0},
    {"a": "外墙瓷砖掉下来了", "b": "外墙渗水到家里", "label": 0},
    {"a": "消防通道被车堵了", "b": "有辆车一直停在消防通道上", "label": 1},
    {"a": "草坪被挖了种菜", "b": "楼前绿地有人种了青菜", "label": 1},
    {"a": "树枝压到电线了", "b": "树太高挡住阳光了", "label": 1},
    {"a": "厨房有煤气味", "b": "楼道里灭火器过期了", "label": 0},
    {"a": "门口烧烤摊占道", "b": "门口烧烤摊半夜太吵", "label": 1},
    {"a": "健身器材坏了", "b": "小广场的扭腰器松了", "label": 1},
    {"a": "楼道灯坏了", "b": "晚上楼梯黑漆漆的", "label": 1},
]


def _pairs(
    texts: dict[str, list[str]], rng: random.Random, n_pos: int, n_neg: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    place_bound = [c for c in sorted(texts) if c in SINGLE_OBJECT]
    seen: set[tuple[str, str]] = set()
    while sum(1 for p in out if p["kind"] == "positive") < n_pos:
        code = rng.choice(place_bound)
        a, b = rng.sample(texts[code], 2)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        out.append(
            {
                "a": a,
                "b": b,
                "same_building": True,
                "distance_m": None,
                "days": rng.randint(0, 12),
                "label": 1,
                "kind": "positive",
                "leaves": [code, code],
            }
        )
    while sum(1 for p in out if p["kind"] == "hard_negative") < n_neg:
        x, y = rng.choice(CONFUSABLE)
        if x not in texts or y not in texts:
            continue
        a, b = rng.choice(texts[x]), rng.choice(texts[y])
        if (a, b) in seen:
            continue
        seen.add((a, b))
        out.append(
            {
                "a": a,
                "b": b,
                "same_building": True,
                "distance_m": None,
                "days": rng.randint(0, 12),
                "label": 0,
                "kind": "hard_negative",
                "leaves": [x, y],
            }
        )
    for i in range(20):
        code = rng.choice(place_bound)
        a, b = rng.sample(texts[code], 2)
        if i % 2:
            out.append(
                {
                    "a": a,
                    "b": b,
                    "same_building": False,
                    "distance_m": 300.0,
                    "days": 2,
                    "label": 0,
                    "kind": "place_negative",
                    "leaves": [code, code],
                }
            )
        else:
            out.append(
                {
                    "a": a,
                    "b": b,
                    "same_building": True,
                    "distance_m": None,
                    "days": 20 + i,
                    "label": 0,
                    "kind": "time_negative",
                    "leaves": [code, code],
                }
            )
    return out


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(SEED)
    tune = _pairs(PHRASES, rng, 100, 100)
    test = _pairs(HELDOUT, rng, 100, 100)
    for h in HANDMADE:
        test.append(
            {
                **h,
                "same_building": True,
                "distance_m": None,
                "days": 1,
                "kind": "hand_positive" if h["label"] else "hand_negative",
                "leaves": [],
            }
        )
    return tune, test


def write() -> None:
    tune, test = build()
    for name, rows in (("pairs_tune.jsonl", tune), ("pairs.jsonl", test)):
        with (DATA / name).open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write()
