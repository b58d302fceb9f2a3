"""Request text → leaf category, unit kind, confidence, top alternatives (SPEC §10).

Two linear models vote: their log-probabilities are pooled with ``weight`` (a
weighted geometric mean, so a class both parts find likely wins over one that only
one part is sure of) and the pooled log-odds are divided by a ``temperature`` fitted
on labelled texts it was not trained on, so that "confidence" is a calibrated
probability:

* TF-IDF over jieba words (1–2-grams) and characters (1–3-grams, robust to typos and
  homophones such as 电悌/垃级) → multinomial logistic regression;
* multilingual-e5-small sentence embeddings (``embeddings.py``) → logistic regression,
  which carries meaning across wording ("关在里面二十分钟" ≈ a stuck lift).

The model learns from the generated training set and the three hand-written splits
(``CHOICE_SETS``); every choice (the pooling, the weight, the temperature, the
confidence threshold, the weight of the hand-written texts) was made on out-of-fold
predictions of the hand-written splits; the third held-out split
(``dataset/heldout3.py``) only measures (README). Models saved before the temperature existed (no
``temperature`` array) keep the old vote, an arithmetic mean of the probabilities.

A model is plain arrays in one ``.npz`` (no pickle): the starter model ships as
``data/starter_model.npz``; per-community models are the same bytes in the database
(``CommunityModel``). Training is deterministic (lbfgs, fixed order).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext_lazy as _

from linli.insight import embeddings

DATA = Path(__file__).resolve().parent / "data"
STARTER_PATH = DATA / "starter_model.npz"

# Texts longer than a request may be (2 000) are classified on their opening but
# always go to a human.
MAX_REQUEST_CHARS = 2000
CLASSIFY_CHARS = 400
DEFAULT_WEIGHT = 0.5  # share of the TF-IDF model in the vote
C_TFIDF = 10.0
C_E5 = 20.0
# Pooled log-odds are divided by this before the softmax (1.0 = no calibration);
# build_starter() fits it on the choice sets (least log-loss on a grid).
DEFAULT_TEMPERATURE = 1.0
TEMPERATURES = tuple(round(0.25 + 0.025 * i, 3) for i in range(31))  # 0.25 … 1.0
# Two matters in one text split the probability between them: a text classified with
# less confidence than this is checked sentence by sentence. On the calibrated scale
# two matters joined still often reach 0.99 (60 pairs of validation texts of
# different groups joined with 另外: 46 flagged below 0.999, 38 below 0.99 — the
# earlier model flagged 17 — and no single validation text flagged); the check is
# cheap unless the TF-IDF part already reads the sentences as different groups.
MIXED_CHECK_BELOW = 0.999

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Sentence ends and connectives that start a second matter.
_SPLIT = re.compile(r"[。！？!?；;\n]+|还有就是|另外|再一个|顺便说一下|顺便")

REASONS = {
    "": "",
    "empty": _("请先写下遇到的问题。"),
    "no_text": _("只有表情或标点，无法判断类别，请用文字描述问题。"),
    "latin": _("没有中文内容，建议由工作人员人工判断类别。"),
    "too_long": _("描述超过2000字，建议由工作人员人工判断类别。"),
    "mixed": _("描述里似乎有两件不同的事，建议分开提交或由工作人员判断。"),
    "low_confidence": _("把握不大，建议由工作人员人工判断类别。"),
}


def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def words(text: str) -> list[str]:
    """jieba word tokens of the lowercased text, whitespace dropped."""
    return [w for w in _jieba().lcut(text.lower()) if w.strip()]


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Trimmed, runs of whitespace as one space. No NFKC: it would turn Chinese
    full-width punctuation into ASCII and miss the stored embeddings of the texts."""
    return _SPACES.sub(" ", text or "").strip()


def _vectorizers(
    word_vocab: dict[str, int] | None = None, char_vocab: dict[str, int] | None = None
):  # type: ignore[no-untyped-def]  # noqa: E501
    from sklearn.feature_extraction.text import TfidfVectorizer

    wv = TfidfVectorizer(
        tokenizer=words,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        vocabulary=word_vocab,
    )
    cv = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, vocabulary=char_vocab
    )
    return wv, cv


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return np.asarray(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))


@dataclass
class Prediction:
    category: str | None
    confidence: float
    alternatives: list[str]
    needs_human: bool
    reason: str = ""
    unit_kind: str | None = None
    scores: list[tuple[str, float]] = field(default_factory=list)

    @property
    def message(self) -> str:
        return str(REASONS.get(self.reason, ""))

    def as_contract(self, ident: Any) -> dict[str, Any]:
        return {
            "id": ident,
            "category": self.category,
            "unit_kind": self.unit_kind,
            "confidence": round(self.confidence, 4),
            "alternatives": self.alternatives,
            "needs_human": self.needs_human,
            "reason": self.reason,
        }


class Model:
    """A trained classifier: two TF-IDF vocabularies with idf, two weight matrices,
    the class codes, the vote weight, the temperature and the confidence threshold."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.classes: list[str] = [str(c) for c in arrays["classes"]]
        self.weight = float(arrays["weight"])
        self.threshold = float(arrays["threshold"])
        # None: a model saved before pooling existed (arithmetic vote, as trained)
        self.temperature: float | None = (
            float(arrays["temperature"]) if "temperature" in arrays else None
        )
        self.meta: dict[str, Any] = json.loads(str(arrays["meta"]))
        wvocab = {str(t): i for i, t in enumerate(arrays["word_vocab"])}
        cvocab = {str(t): i for i, t in enumerate(arrays["char_vocab"])}
        self._wv, self._cv = _vectorizers(wvocab, cvocab)
        self._wv.idf_ = arrays["word_idf"]
        self._cv.idf_ = arrays["char_idf"]
        # The same features as the vectorizers' transform(), without building a sparse
        # matrix per call (a third of a millisecond instead of 1.5 ms per text).
        self._wvocab, self._cvocab = wvocab, cvocab
        self._widf = np.asarray(arrays["word_idf"], dtype=np.float64)
        self._cidf = np.asarray(arrays["char_idf"], dtype=np.float64)
        self._wan = self._wv.build_analyzer()
        self._can = self._cv.build_analyzer()
        self._coef = np.asarray(arrays["tfidf_coef"], dtype=np.float64)
        self._nw = len(wvocab)

    # ------------------------------------------------------------ (de)serialise

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, **self.arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls({k: z[k] for k in z.files})

    def digest(self) -> str:
        h = hashlib.sha256()
        for k in sorted(self.arrays):
            h.update(k.encode())
            h.update(np.ascontiguousarray(self.arrays[k]).tobytes())
        return h.hexdigest()[:16]

    # ------------------------------------------------------------ scoring

    def _features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of ``text`` (sublinear tf × idf, each
        vectorizer's part L2-normalised), exactly what ``transform`` computes."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for analyzer, vocab, idf, offset in (
            (self._wan, self._wvocab, self._widf, 0),
            (self._can, self._cvocab, self._cidf, self._nw),
        ):
            counts: dict[int, int] = {}
            for term in analyzer(text):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (1.0 + np.log(tf)) * idf[idx]
            v /= np.sqrt(float(v @ v))
            cols.append(idx + offset)
            vals.append(v)
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

    def tfidf_logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), len(self.classes)))
        for i, t in enumerate(texts):
            idx, v = self._features(t[:CLASSIFY_CHARS])
            out[i] = self._coef[:, idx] @ v
        return out + self.arrays["tfidf_intercept"]

    def proba_parts(
        self, texts: Sequence[str], emb: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities of the TF-IDF part and of the e5 part (``emb``: the
        texts' embeddings when the caller has them already)."""
        clipped = [t[:CLASSIFY_CHARS] for t in texts]
        p_tfidf = _softmax(self.tfidf_logits(clipped))
        if emb is None:
            emb = embeddings.embed(list(clipped))
        p_e5 = _softmax(emb @ self.arrays["e5_coef"].T + self.arrays["e5_intercept"])
        return p_tfidf, p_e5

    def pooled_log(self, p_tfidf: np.ndarray, p_e5: np.ndarray) -> np.ndarray:
        """Weighted sum of the two parts' log-probabilities (before the temperature)."""
        eps = 1e-12
        return np.asarray(
            self.weight * np.log(p_tfidf + eps) + (1 - self.weight) * np.log(p_e5 + eps)
        )

    def combine(self, p_tfidf: np.ndarray, p_e5: np.ndarray) -> np.ndarray:
        if self.temperature is None:  # an old model: arithmetic vote
            return np.asarray(self.weight * p_tfidf + (1 - self.weight) * p_e5)
        return _softmax(self.pooled_log(p_tfidf, p_e5) / self.temperature)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return self.combine(*self.proba_parts(texts))

    def predict(self, texts: Sequence[str], *, detect_mixed: bool = True) -> list[Prediction]:
        cleaned = [normalise(t) for t in texts]
        out: list[Prediction | None] = [None] * len(cleaned)
        todo: list[int] = []
        for i, t in enumerate(cleaned):
            if not t:
                out[i] = Prediction(None, 0.0, [], True, "empty")
            elif not _CJK.search(t) and not _LATIN.search(t):
                out[i] = Prediction(None, 0.0, [], True, "no_text")
            else:
                todo.append(i)
        if todo:
            probs = self.proba([cleaned[i] for i in todo])
            for row, i in zip(probs, todo, strict=True):
                out[i] = self._decide(cleaned[i], row, detect_mixed)
        return [p for p in out if p is not None]

    def _decide(self, text: str, row: np.ndarray, detect_mixed: bool) -> Prediction:
        order = np.argsort(-row, kind="stable")
        top = self.classes[order[0]]
        conf = float(row[order[0]])
        alts = [self.classes[j] for j in order[1:4]]
        scores = [(self.classes[j], float(row[j])) for j in order[:5]]
        reason = ""
        if not _CJK.search(text):
            reason = "latin"
        elif len(text) > MAX_REQUEST_CHARS:
            reason = "too_long"
        elif detect_mixed and conf < MIXED_CHECK_BELOW:
            other = self._second_matter(text, top)
            if other is not None:
                reason = "mixed"
                alts = [other, *[a for a in alts if a != other]][:3]
        if not reason and conf < self.threshold:
            reason = "low_confidence"
        return Prediction(top, conf, alts, bool(reason), reason, scores=scores)

    def _second_matter(self, text: str, top: str) -> str | None:
        """A second, different problem in its own sentence: each part is confidently
        classified, into different top-level groups. Returns that other leaf.

        The parts are first read by the TF-IDF part alone (no embedding): when it puts
        them all in one group there is nothing to check, and the parts are not embedded
        (most texts; an embedding is most of a text's cost)."""
        parts = [p for p in _SPLIT.split(text[:CLASSIFY_CHARS]) if len(_CJK.findall(p)) >= 6]
        if len(parts) < 2 or len(parts) > 8:
            return None
        cheap = self.tfidf_logits(parts).argmax(axis=1)
        if len({self.classes[int(j)].split("-")[0] for j in cheap} | {top.split("-")[0]}) < 2:
            return None
        probs = self.proba(parts)
        bar = max(self.threshold, 0.5)
        confident = {self.classes[int(r.argmax())] for r in probs if float(r.max()) >= bar}
        others = [c for c in confident if c.split("-")[0] != top.split("-")[0]]
        if top in confident and others:
            return sorted(others)[0]
        if len(confident) >= 2 and len({c.split("-")[0] for c in confident}) >= 2:
            return sorted(c for c in confident if c != top)[0]
        return None


# ---------------------------------------------------------------- training


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    weight: float = DEFAULT_WEIGHT,
    threshold: float = 0.3,
    temperature: float = DEFAULT_TEMPERATURE,
    sample_weight: Sequence[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> Model:
    """Fit both parts on ``texts``/``labels``. Deterministic: same input, same arrays."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    texts = [normalise(t)[:CLASSIFY_CHARS] for t in texts]
    wv, cv = _vectorizers()
    x = hstack([wv.fit_transform(texts), cv.fit_transform(texts)]).tocsr()
    sw = np.asarray(sample_weight, dtype=np.float64) if sample_weight is not None else None
    lr = LogisticRegression(C=C_TFIDF, max_iter=2000)
    lr.fit(x, list(labels), sample_weight=sw)
    emb = embeddings.embed(texts)
    lr2 = LogisticRegression(C=C_E5, max_iter=3000)
    lr2.fit(emb, list(labels), sample_weight=sw)
    assert list(lr.classes_) == list(lr2.classes_)
    word_vocab = sorted(wv.vocabulary_, key=wv.vocabulary_.__getitem__)
    char_vocab = sorted(cv.vocabulary_, key=cv.vocabulary_.__getitem__)
    arrays = {
        "classes": np.array([str(c) for c in lr.classes_]),
        "word_vocab": np.array(word_vocab),
        "word_idf": wv.idf_.astype(np.float32),
        "char_vocab": np.array(char_vocab),
        "char_idf": cv.idf_.astype(np.float32),
        "tfidf_coef": lr.coef_.astype(np.float32),
        "tfidf_intercept": lr.intercept_.astype(np.float32),
        "e5_coef": lr2.coef_.astype(np.float32),
        "e5_intercept": lr2.intercept_.astype(np.float32),
        "weight": np.array(weight),
        "threshold": np.array(threshold),
        "temperature": np.array(float(temperature)),
        "meta": np.array(json.dumps(meta or {}, ensure_ascii=False, sort_keys=True)),
    }
    return Model(arrays)


def with_threshold(model: Model, threshold: float) -> Model:
    arrays = dict(model.arrays)
    arrays["threshold"] = np.array(float(threshold))
    return Model(arrays)


def with_temperature(model: Model, temperature: float) -> Model:
    arrays = dict(model.arrays)
    arrays["temperature"] = np.array(float(temperature))
    return Model(arrays)


def fit_temperature(model: Model, rows: Sequence[dict[str, Any]]) -> float:
    """The temperature (on a fixed grid) with the least log-loss of the pooled
    probabilities on ``rows`` (labelled texts the model was not trained on)."""
    p_tfidf, p_e5 = model.proba_parts([normalise(r["text"]) for r in rows])
    y = np.array([model.classes.index(r["label"]) for r in rows])
    return temperature_for(model.pooled_log(p_tfidf, p_e5), y)


def temperature_for(pooled: np.ndarray, y: np.ndarray) -> float:
    """The grid temperature with the least log-loss of ``pooled`` log-odds for labels
    ``y`` (class indices)."""
    best, best_loss = DEFAULT_TEMPERATURE, float("inf")
    for t in TEMPERATURES:
        loss = -float(_log_softmax(pooled / t)[np.arange(len(y)), y].mean())
        if loss < best_loss - 1e-12:
            best, best_loss = t, loss
    return float(best)


# ---------------------------------------------------------------- evaluation


def is_correct(pred: str | None, row: dict[str, Any]) -> bool:
    """Right leaf, or the alternative a dispatcher could reasonably choose (``also``)."""
    return pred is not None and (pred == row["label"] or pred in row.get("also", []))


def tune_threshold(
    confidences: Sequence[float], correct: Sequence[bool], *, precision: float = 0.95
) -> float:
    """The lowest threshold at which the suggestions at or above it are right at least
    ``precision`` of the time (most coverage for that precision)."""
    pairs = sorted(zip(confidences, correct, strict=True), key=lambda p: -p[0])
    best = 1.0
    hits = 0
    for n, (conf, ok) in enumerate(pairs, start=1):
        hits += ok
        # only cut between distinct confidences
        if n < len(pairs) and pairs[n][0] == conf:
            continue
        if hits / n >= precision:
            best = conf
    return float(best)


@dataclass
class Evaluation:
    n: int
    accuracy: float
    strict_accuracy: float
    top_level_accuracy: float
    top3_accuracy: float
    macro_f1: float
    threshold: float
    coverage: float  # share of texts at or above the threshold
    confident_accuracy: float | None
    confusions: list[tuple[str, str, int]]

    def as_dict(self) -> dict[str, Any]:
        d = self.__dict__.copy()
        d["confusions"] = [list(c) for c in self.confusions]
        return d


def evaluate(model: Model, rows: Sequence[dict[str, Any]]) -> Evaluation:
    from sklearn.metrics import f1_score

    preds = model.predict([r["text"] for r in rows])
    labels = [r["label"] for r in rows]
    got = [p.category or "" for p in preds]
    correct = [is_correct(p.category, r) for p, r in zip(preds, rows, strict=True)]
    strict = [g == y for g, y in zip(got, labels, strict=True)]
    top = [g.split("-")[0] == y.split("-")[0] for g, y in zip(got, labels, strict=True)]
    top3 = [
        r["label"] in [p.category, *p.alternatives[:2]] for p, r in zip(preds, rows, strict=True)
    ]
    # macro-F1 with accepted alternatives counted as the label
    credited = [r["label"] if ok else g for g, r, ok in zip(got, rows, correct, strict=True)]
    macro = float(f1_score(labels, credited, average="macro", zero_division=0))
    confident = [not p.needs_human for p in preds]
    n_conf = sum(confident)
    conf_acc = (
        sum(c for c, k in zip(correct, confident, strict=True) if k) / n_conf if n_conf else None
    )
    pairs: dict[tuple[str, str], int] = {}
    for g, r, ok in zip(got, rows, correct, strict=True):
        if not ok:
            key = (r["label"], g or "-")
            pairs[key] = pairs.get(key, 0) + 1
    confusions = sorted(((a, b, n) for (a, b), n in pairs.items()), key=lambda t: (-t[2], t[0]))
    n = len(rows) or 1
    return Evaluation(
        n=len(rows),
        accuracy=sum(correct) / n,
        strict_accuracy=sum(strict) / n,
        top_level_accuracy=sum(top) / n,
        top3_accuracy=sum(top3) / n,
        macro_f1=macro,
        threshold=model.threshold,
        coverage=n_conf / n,
        confident_accuracy=conf_acc,
        confusions=confusions,
    )


# ---------------------------------------------------------------- the product model

_lock = threading.Lock()


# The hand-written labelled splits (``dataset/validation.py``, ``heldout.py``,
# ``heldout2.py``). The starter model is trained on them too (weight ``HAND_WEIGHT``:
# one written situation is worth more than a template variant of an old one), and its
# calibration is chosen on their out-of-fold predictions (``build_starter``). The third
# held-out split (``MEASURE_SET``) is neither trained nor chosen on: it only measures.
CHOICE_SETS = ("validation.jsonl", "heldout.jsonl", "heldout2.jsonl")
MEASURE_SET = "heldout3.jsonl"
HAND_WEIGHT = 3.0
FOLDS = 5
# The confidence threshold is the lowest at which the out-of-fold suggestions are right
# this often. Three points above the 95 % target, for two reasons: out-of-fold texts
# share their writer's habits with the folds the model did learn (one writer's sets
# overstated accuracy by up to 3 points before: 0.928 on the validation split, 0.903 on
# the first held-out split), and the costs are not even: a confident wrong suggestion
# routes a request to the wrong unit, one marked for a human costs staff a glance. On
# the out-of-fold predictions it still covers 94 % of the texts (target ≥ 60 %).
TARGET_PRECISION = 0.98


def choice_rows() -> list[dict[str, Any]]:
    return [r for name in CHOICE_SETS for r in load_rows(DATA / name)]


def training_rows() -> tuple[list[dict[str, Any]], list[float]]:
    """What the starter model learns from: the generated training set and the
    hand-written splits, with their sample weights."""
    generated = load_rows(DATA / "train.jsonl")
    hand = choice_rows()
    return generated + hand, [1.0] * len(generated) + [HAND_WEIGHT] * len(hand)


def folds(rows: Sequence[dict[str, Any]], k: int = FOLDS) -> list[int]:
    """Fold of every row, stratified by label (rows sorted by label and text, dealt
    round-robin): deterministic and independent of the file order."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["label"], rows[i]["text"]))
    out = [0] * len(rows)
    for n, i in enumerate(order):
        out[i] = n % k
    return out


def out_of_fold(
    generated: Sequence[dict[str, Any]], hand: Sequence[dict[str, Any]], k: int = FOLDS
) -> tuple[list[Model], list[int], np.ndarray]:
    """Train ``k`` models, each on the generated rows and the hand-written rows of the
    other folds; return them, the fold of every hand-written row, and every
    hand-written row's pooled log-odds from the model that did not see it."""
    fold = folds(hand, k)
    models: list[Model] = []
    pooled: np.ndarray | None = None
    for f in range(k):
        rows = [*generated, *(r for r, g in zip(hand, fold, strict=True) if g != f)]
        weights = [1.0] * len(generated) + [HAND_WEIGHT] * (len(rows) - len(generated))
        m = train([r["text"] for r in rows], [r["label"] for r in rows], sample_weight=weights)
        mine = [i for i, g in enumerate(fold) if g == f]
        p_tfidf, p_e5 = m.proba_parts([normalise(hand[i]["text"]) for i in mine])
        part = m.pooled_log(p_tfidf, p_e5)
        if pooled is None:
            pooled = np.zeros((len(hand), part.shape[1]))
        pooled[mine] = part
        models.append(m)
    assert pooled is not None
    return models, fold, pooled


def build_starter() -> Model:
    """Train the starter model on the generated training set and the hand-written
    splits (``training_rows``) and calibrate it without looking at a text twice: five
    models, each trained without one fifth of the hand-written texts, predict that fifth
    (``out_of_fold``); the temperature is the least log-loss of those predictions and
    the threshold the lowest at which they are ``TARGET_PRECISION`` right. The third
    held-out split (``MEASURE_SET``) only measures (``classify_eval``, the bench)."""
    generated = load_rows(DATA / "train.jsonl")
    hand = choice_rows()
    models, fold, pooled = out_of_fold(generated, hand)
    classes = models[0].classes
    temperature = temperature_for(pooled, np.array([classes.index(r["label"]) for r in hand]))
    confidences: list[float] = [0.0] * len(hand)
    correct: list[bool] = [False] * len(hand)
    top: list[bool] = [False] * len(hand)
    for f, m in enumerate(models):
        mine = [i for i, g in enumerate(fold) if g == f]
        preds = with_temperature(m, temperature).predict(
            [hand[i]["text"] for i in mine], detect_mixed=False
        )
        for i, p in zip(mine, preds, strict=True):
            confidences[i] = p.confidence
            correct[i] = is_correct(p.category, hand[i])
            top[i] = (p.category or "").split("-")[0] == hand[i]["label"].split("-")[0]
    threshold = tune_threshold(confidences, correct, precision=TARGET_PRECISION)
    above = [ok for c, ok in zip(confidences, correct, strict=True) if c >= threshold]
    n = max(1, len(hand))
    rows, weights = training_rows()
    digest = hashlib.sha256(
        "".join(embeddings.file_hash(DATA / n) for n in ("train.jsonl", *CHOICE_SETS)).encode()
    ).hexdigest()[:16]
    return train(
        [r["text"] for r in rows],
        [r["label"] for r in rows],
        sample_weight=weights,
        threshold=threshold,
        temperature=temperature,
        meta={
            "kind": "starter",
            "train": digest,
            # the figures of the calibration: every hand-written text predicted by a
            # model that was not trained on it
            "out_of_fold": {
                "texts": len(hand),
                "accuracy": round(sum(correct) / n, 4),
                "top_level_accuracy": round(sum(top) / n, 4),
                "precision_above_threshold": round(sum(above) / max(1, len(above)), 4),
                "coverage": round(len(above) / n, 4),
            },
        },
    )


@lru_cache(maxsize=1)
def starter() -> Model:
    """The shipped starter model (``manage.py insight_train`` rebuilds it)."""
    with _lock:
        return Model.from_bytes(STARTER_PATH.read_bytes())
