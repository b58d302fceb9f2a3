"""Extractive summaries (nothing is generated; every line shown is a resident's own
sentence):

* a long request description → its sentences that carry the problem (the ones the
  category model is surest about), in their original order, within a length budget;
* a long 商议 discussion → points for and against: each comment's stance from its
  wording, comments of one stance grouped by meaning, each group shown by its most
  central sentence with the number of residents who made that point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linli.insight import semantic
from linli.insight.classifier import _softmax, normalise, starter

_SENTENCE = re.compile(r"(?<=[。！？!?；;\n])")
# Stance words, checked in this order: a negated "support" is an objection.
_AGAINST = re.compile(
    r"不同意|不赞成|不支持|反对|没必要|不需要|不合理|担心|浪费|不行|不妥|别搞|太贵|不划算"
)
_FOR = re.compile(r"同意|赞成|支持|好主意|早该|希望尽快|尽快|点赞|很好|有必要|太好了|挺好")
POINT_SIMILARITY = 0.6


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(normalise(text)) if s.strip()]


def summarize_text(text: str, *, max_chars: int = 80) -> str:
    """The sentences of ``text`` that say what the problem is, within ``max_chars``
    (a short text comes back as it is)."""
    text = normalise(text)
    if len(text) <= max_chars:
        return text
    parts = sentences(text)
    if len(parts) <= 1:
        return text[: max_chars - 1] + "…"
    # The TF-IDF part alone (0.2 ms a sentence, no embedding): staff lists summarise
    # every long description on the page, and it is right on its own 96 % of the time.
    model = starter()
    logits = model.tfidf_logits([text, *parts])
    overall = int(logits[0].argmax())
    probs = _softmax(logits[1:])
    # How much each sentence speaks for the text's own category.
    order = np.argsort(-probs[:, overall], kind="stable")
    keep: set[int] = set()
    used = 0
    for i in order:
        if used + len(parts[i]) > max_chars and keep:
            continue
        keep.add(int(i))
        used += len(parts[i])
    out = "".join(parts[i] for i in sorted(keep))
    return out if len(out) <= max_chars else out[: max_chars - 1] + "…"


def stance(body: str) -> str:
    """ "against", "for" or "other" from the wording of one comment."""
    if _AGAINST.search(body):
        return "against"
    if _FOR.search(body):
        return "for"
    return "other"


@dataclass(frozen=True)
class Point:
    text: str  # the most central sentence of the group, verbatim
    residents: int  # distinct authors who made the point


@dataclass
class DiscussionSummary:
    comments: int
    residents: int
    for_residents: int
    against_residents: int
    for_points: list[Point] = field(default_factory=list)
    against_points: list[Point] = field(default_factory=list)
    other_points: list[Point] = field(default_factory=list)


def _points(items: Sequence[tuple[int, str]], limit: int) -> list[Point]:
    if not items:
        return []
    texts = [summarize_text(body, max_chars=60) for _a, body in items]
    emb, probs = semantic.vectors(texts)
    sim = semantic.similarity_matrix(emb, probs)
    from linli.insight.hotspots import groups_by_similarity

    groups = groups_by_similarity(sim, POINT_SIMILARITY)
    out = []
    for idx in groups:
        central = idx[int(np.argmax(sim[np.ix_(idx, idx)].sum(axis=1)))]
        out.append(Point(texts[central], len({items[i][0] for i in idx})))
    out.sort(key=lambda p: (-p.residents, p.text))
    return out[:limit]


def summarize_discussion(
    comments: Sequence[tuple[int, str]], *, limit: int = 5
) -> DiscussionSummary:
    """``comments``: (author id, body) in any order."""
    sides: dict[str, list[tuple[int, str]]] = {"for": [], "against": [], "other": []}
    for author, body in comments:
        if normalise(body):
            sides[stance(body)].append((author, body))
    return DiscussionSummary(
        comments=len(comments),
        residents=len({a for a, _b in comments}),
        for_residents=len({a for a, _b in sides["for"]}),
        against_residents=len({a for a, _b in sides["against"]}),
        for_points=_points(sides["for"], limit),
        against_points=_points(sides["against"], limit),
        other_points=_points(sides["other"], limit),
    )
