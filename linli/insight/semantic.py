"""Meaning similarity of two request texts, for "me too" and merge suggestions and for
hotspot clusters.

Two signals, both from the starter model: the cosine of the e5 embeddings (what the
texts say) and the Bhattacharyya coefficient of the two category distributions (which
problem they are about: two texts the model reads as the same kind of problem score
near 1, a dog barking and a drill near 0, however much their words overlap). Raw e5
cosines of Chinese sentences sit between 0.8 and 1.0, so the cosine is rescaled from
that band. The category distributions are the model's pooled log-odds at a low
temperature (``CATEGORY_TEMPERATURE``): two texts agree when their most likely leaves
agree, not merely because both are unsure between the same few leaves. The
temperature, the mix and the threshold were chosen on the choice pairs
(``data/pairs_val.jsonl``, ``data/pairs.jsonl``: F1 0.923 at 0.38 with the model of that
time, within 0.01 of it from 0.36 to 0.48, so 0.42; without the sharpening at most
0.894). The threshold was kept when the hand-written texts became training data (a
stand-in model trained without them: F1 0.919 at 0.42, 0.938 at 0.30–0.34, with less
precision) and is measured on ``data/pairs3.jsonl`` (third held-out texts: F1 0.955).
Character overlap was tried as a third signal and left out: it did
not help on the validation pairs (residents describe one problem in different words,
and two problems in the same ones).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from linli.insight.classifier import _softmax, normalise, starter

COS_FLOOR = 0.80  # e5 cosines below this are unrelated
CATEGORY_SHARE = 0.7  # weight of the category agreement in the mix
CATEGORY_TEMPERATURE = 0.5
THRESHOLD = 0.42
RADIUS_M = 100.0
WINDOW_DAYS = 14

_CACHE_SIZE = 4096
_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def vectors(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, category probabilities) of ``texts``, cached per process."""
    from linli.insight import embeddings

    keys = [normalise(t)[:400] for t in texts]
    missing = [k for k in dict.fromkeys(keys) if k not in _cache]
    if missing:
        emb = embeddings.embed(missing)
        model = starter()
        p_tfidf, p_e5 = model.proba_parts(missing, emb)
        probs = _softmax(model.pooled_log(p_tfidf, p_e5) / CATEGORY_TEMPERATURE)
        with _lock:
            for k, e, p in zip(missing, emb, probs, strict=True):
                _cache[k] = (e, p)
                if len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
    got = [_cache.get(k) for k in keys]
    if any(g is None for g in got):  # evicted meanwhile by another thread
        return vectors(texts)
    emb_rows = np.stack([g[0] for g in got if g is not None]) if got else np.zeros((0, 384))
    prob_rows = np.stack([g[1] for g in got if g is not None]) if got else np.zeros((0, 1))
    return emb_rows, prob_rows


def similarity_matrix(emb: np.ndarray, probs: np.ndarray) -> np.ndarray:
    cos = np.clip((emb @ emb.T - COS_FLOOR) / (1 - COS_FLOOR), 0, 1)
    root = np.sqrt(np.clip(probs, 0, 1))
    agree = np.clip(root @ root.T, 0, 1)
    return np.asarray(CATEGORY_SHARE * agree + (1 - CATEGORY_SHARE) * cos)


def meaning(a: str, b: str) -> float:
    """0..1: how likely the two texts describe the same problem."""
    if not normalise(a) or not normalise(b):
        return 0.0
    emb, probs = vectors([a, b])
    return float(similarity_matrix(emb, probs)[0, 1])


def meaning_to_many(text: str, others: list[str]) -> list[float]:
    if not others or not normalise(text):
        return [0.0] * len(others)
    emb, probs = vectors([text, *others])
    return [float(x) for x in similarity_matrix(emb, probs)[0, 1:]]


@dataclass(frozen=True)
class Place:
    same_building: bool
    distance_m: float | None
    days: float


def near(place: Place) -> bool:
    """Same building or within 100 m, and within 14 days."""
    close = place.same_building or (place.distance_m is not None and place.distance_m <= RADIUS_M)
    return close and abs(place.days) <= WINDOW_DAYS


def is_duplicate(a: str, b: str, place: Place, *, threshold: float = THRESHOLD) -> bool:
    return near(place) and meaning(a, b) >= threshold
