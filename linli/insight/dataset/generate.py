"""Build the labelled training set (``data/train.jsonl``) from the hand-written phrases:
each phrase once as written, then ``PER_LEAF`` generated variants per leaf drawn from
frames (chatter before the point, places, emotional or polite endings, formal letters,
very short cuts, long rambling texts) and perturbations (dialect words, homophone
typos, pinyin or English words mixed in, emoji). A fixed seed makes it reproducible:

    .venv/bin/python -m linli.insight.dataset.generate

The held-out set is NOT produced here: see ``heldout.py``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from linli.insight.dataset.more import disa, env, factr, grho, sali
from linli.insight.dataset.phrases import DETAILS as BASE_DETAILS
from linli.insight.dataset.phrases import PHRASES as BASE_PHRASES

SEED = 20261130
PER_LEAF = 120

# The first writer's phrases (``phrases.py``) and the second writer's (``more/``, about
# 45 more situations per leaf, written because the first core was too narrow: the model
# missed situations it had never seen far more often than wordings).
PHRASES: dict[str, list[str]] = {
    code: [
        *BASE_PHRASES[code],
        *(p for m in (env, factr, grho, disa, sali) for p in m.MORE.get(code, [])),
    ]
    for code in BASE_PHRASES
}
DETAILS: dict[str, list[str]] = {
    code: [
        *BASE_DETAILS[code],
        *(d for m in (env, factr, grho, disa, sali) for d in m.DETAILS_MORE.get(code, [])),
    ]
    for code in BASE_DETAILS
}
DATA = Path(__file__).resolve().parent.parent / "data"

CHATTER = [
    "你好，",
    "您好，",
    "不好意思打扰一下，",
    "哎我跟你们说，",
    "刚下班回来累得半死，结果",
    "今天本来心情挺好的，",
    "社区的同志你们好，",
    "跟大家说个事，",
    "我都反映好几次了，",
    "群里的邻居都知道，",
    "我是新搬来的租户，",
    "我妈让我在网上说一下，",
    "早上送孩子上学的时候看到，",
    "这个事我憋了很久了，",
    "打12345说让找社区，",
]
PLACES = [
    "3号楼",
    "5幢2单元",
    "东门",
    "12栋后面",
    "我家楼下",
    "地下车库",
    "北区",
    "7号楼东侧",
    "幼儿园旁边",
    "2栋1单元",
    "小区南门",
    "9号楼",
    "老年活动中心边上",
    "16幢",
]
ENDINGS = [
    "",
    "，麻烦尽快处理一下",
    "，谢谢！",
    "，有没有人管啊？",
    "，气死我了！！！",
    "，已经好几天了",
    "，希望社区重视",
    "。拜托了🙏",
    "，咋整啊",
    "，真的受不了了😡😡",
    "，请相关部门处理为盼。",
    "，谁来管管",
    "？？？",
    "，急！",
    "，能不能派人来看看",
]
FORMAL = [
    "尊敬的社区工作人员：您好！本人系{place}居民，现反映如下情况：{s}。恳请予以协调处理，谢谢。",
    "关于{place}的情况反映：{s}。望尽快安排处理并予以答复。",
    "您好，我是{place}的业主，{s}，特此反映，请贵单位核实处理。",
]
DIALECT = [
    ("什么", "啥子"),
    ("什么", "啥"),
    ("怎么办", "咋整"),
    ("怎么", "咋"),
    ("你们", "侬"),
    ("没有", "木有"),
    ("没有", "冇"),
    ("很", "老"),
    ("非常", "贼"),
    ("不知道", "晓不得"),
    ("这个", "这嘎"),
    ("我们", "阿拉"),
    ("了", "咯"),
]
# Homophone and look-alike typos of the kind phone input produces.
TYPOS = [
    ("梯", "悌"),
    ("圾", "级"),
    ("坏", "怀"),
    ("漏", "露"),
    ("灯", "登"),
    ("臭", "丑"),
    ("堵", "赌"),
    ("楼", "搂"),
    ("吵", "炒"),
    ("辆", "俩"),
    ("修", "休"),
    ("墙", "强"),
    ("管", "馆"),
    ("狗", "苟"),
    ("味", "未"),
    ("满", "慢"),
    ("停", "亭"),
    ("掉", "吊"),
    ("气", "汽"),
    ("老人", "老银"),
    ("物业", "无业"),
]
PINYIN = [
    ("电梯", "dianti"),
    ("垃圾", "laji"),
    ("物业", "wuye"),
    ("楼道", "loudao"),
    ("邻居", "linju"),
    ("小区", "xiaoqu"),
    ("晚上", "wanshang"),
    ("老人", "laoren"),
    ("麻烦", "mafan"),
    ("停车", "tingche"),
]
ENGLISH = [
    ("电梯", "lift"),
    ("物业", "PM"),
    ("小区", "community"),
    ("楼下", "downstairs"),
    ("晚上", "night"),
    ("充电", "charge"),
    ("垃圾", "rubbish"),
    ("超市", "supermarket"),
    ("空调", "AC"),
    ("狗", "dog"),
    ("老人", "old people"),
]
EMOJI = ["😡", "😭", "🙏", "💢", "😤", "！！", "…", "???"]


def _sub(rng: random.Random, text: str, table: list[tuple[str, str]], times: int) -> str:
    hits = [pair for pair in table if pair[0] in text]
    rng.shuffle(hits)
    for old, new in hits[:times]:
        text = text.replace(old, new, 1)
    return text


def _short(rng: random.Random, s: str) -> str:
    """A very short report: the first clause, or a cut of 8–15 characters."""
    first = s.replace("，", ",").split(",")[0]
    if 6 <= len(first) <= 15:
        return first
    return s[: rng.randint(8, 15)] if len(s) > 15 else s


def variant(rng: random.Random, code: str, phrases: dict[str, list[str]]) -> tuple[str, str]:
    s = rng.choice(phrases[code])
    style = rng.choice(
        ["plain", "chatter", "place", "formal", "short", "long", "emotional", "chatter"]
    )
    place = rng.choice(PLACES)
    if style == "chatter":
        text = rng.choice(CHATTER) + s + rng.choice(ENDINGS)
    elif style == "place":
        text = rng.choice([f"{place}那边，", f"{place}", f"在{place}，"]) + s + rng.choice(ENDINGS)
    elif style == "formal":
        text = rng.choice(FORMAL).format(place=place, s=s)
    elif style == "short":
        text = _short(rng, s)
    elif style == "long":
        extra = rng.choice([p for p in phrases[code] if p != s])
        text = (
            rng.choice(CHATTER)
            + f"我住{place}，在这里住了{rng.randint(3, 30)}年了，一直觉得挺好的。"
            + f"但是最近{s}，而且{rng.choice(DETAILS[code])}。"
            + f"还有就是{extra}。{rng.choice(['说了很多次了', '大家都很有意见', '不知道找谁'])}"
            + rng.choice(ENDINGS)
        )
    elif style == "emotional":
        text = s + rng.choice(["！！！", "，太过分了！", "，烦死了", "，简直没法住了😭"])
    else:
        text = s + rng.choice(ENDINGS)
    # Perturbations, each with its own probability; several can stack.
    pert = []
    for name, table, p, times in (
        ("dialect", DIALECT, 0.25, 2),
        ("typo", TYPOS, 0.25, rng.randint(1, 2)),
        ("pinyin", PINYIN, 0.12, 1),
        ("english", ENGLISH, 0.10, 1),
    ):
        if rng.random() < p:
            changed = _sub(rng, text, table, times)
            if changed != text:
                text = changed
                pert.append(name)
    if rng.random() < 0.10:
        text = text + rng.choice(EMOJI)
        pert.append("emoji")
    return text, "+".join([style, *pert])


# A phrase that nearly copies a text of the measuring split (``heldout3.py``, written
# independently: short plain sentences such as "灭火器过期了" occur to every writer) is
# left out of training, so the split measures text the model has not seen.
NEAR_COPY = 0.45  # character-bigram Jaccard


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def near_copies() -> set[str]:
    from linli.insight.dataset.heldout3 import HELDOUT3

    measured = [_bigrams(t) for texts in HELDOUT3.values() for t in texts]
    out = set()
    for phrases in PHRASES.values():
        for p in phrases:
            mine = _bigrams(p)
            if any(len(mine & m) / max(1, len(mine | m)) > NEAR_COPY for m in measured):
                out.add(p)
    return out


def build() -> list[dict[str, str]]:
    assert all(len(set(p)) == len(p) for p in PHRASES.values()), "a phrase is written twice"
    skip = near_copies()
    phrases = {code: [p for p in PHRASES[code] if p not in skip] for code in PHRASES}
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for code in sorted(phrases):
        for s in phrases[code]:
            rows.append({"text": s, "label": code, "style": "core"})
            seen.add(s)
        made = 0
        tries = 0
        while made < PER_LEAF and tries < PER_LEAF * 20:
            tries += 1
            text, style = variant(rng, code, phrases)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": code, "style": style})
            made += 1
    return rows


def write() -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / "train.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in build():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    print(write())
