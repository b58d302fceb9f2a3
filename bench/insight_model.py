"""Insight (SPEC §10) on this CPU: classification latency, training time, memory of
the loaded model, held-out quality, duplicate precision/recall.

``.venv/bin/python -m bench insight_model [--latency-texts=300]`` — no database
needed (the classifier and the similarity are pure computation on bundled files).

* latency: one text at a time through ``Model.predict`` (segmentation, TF-IDF, e5
  embedding, both linear models, the two-matters check), with the embedding store
  switched OFF so every text is really embedded; wall time and this process's CPU
  time (``time.process_time``: what the text costs, whatever else the shared machine
  is doing), p50/p95;
* training: the starter model from the generated texts and the hand-written splits
  (embeddings from the shipped store) with its five out-of-fold models, and the one-off
  embedding of the training set measured on a sample;
* memory: resident set size before/after loading the model and the e5 engine;
* quality: the out-of-fold figures of the hand-written splits (where the temperature
  and the threshold were chosen) and the third held-out split (never trained or chosen
  on: the figures to report), each part alone and combined;
* duplicates at the shipped threshold on ``pairs3.jsonl`` (third held-out texts: to
  report; the other pair sets are built from texts the model now learns from).
Results go to bench/results/insight_model.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _arg(argv: list[str], name: str, default: int) -> int:
    for a in argv:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


def _prf(pred: list[bool], gold: list[int]) -> dict[str, float]:
    tp = sum(p and g == 1 for p, g in zip(pred, gold, strict=True))
    fp = sum(p and g == 0 for p, g in zip(pred, gold, strict=True))
    fn = sum((not p) and g == 1 for p, g in zip(pred, gold, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3)}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    rss0 = _rss_mb()
    from linli.insight import classifier, embeddings, semantic

    t0 = time.perf_counter()
    model = classifier.starter()
    embeddings._model()
    model.predict(["预热一下"])
    load_s = time.perf_counter() - t0
    rss1 = _rss_mb()
    out: dict[str, Any] = {
        "load_average": os.getloadavg(),
        "model_load_seconds": round(load_s, 2),
        "memory_mb": {
            "before": round(rss0),
            "after_load": round(rss1),
            "model": round(rss1 - rss0),
        },  # noqa: E501
        "model_file_bytes": classifier.STARTER_PATH.stat().st_size,
    }

    held = classifier.load_rows(classifier.DATA / "heldout.jsonl")
    # ---- latency, store off: every text is segmented and embedded for real
    n_lat = _arg(argv, "latency-texts", 300)
    texts = [r["text"] for r in held][:n_lat]
    store = embeddings._store
    embeddings._store = lambda: {}  # type: ignore[assignment]
    cache_size = embeddings.CACHE_SIZE
    embeddings.CACHE_SIZE = 0
    embeddings.clear_cache()
    wall: list[float] = []
    cpu: list[float] = []
    try:
        for t in texts:
            w0, c0 = time.perf_counter(), time.process_time()
            model.predict([t])
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
    finally:
        embeddings._store = store  # type: ignore[assignment]
        embeddings.CACHE_SIZE = cache_size
    out["latency_ms"] = {
        "texts": len(texts),
        "wall_p50": round(statistics.median(wall), 1),
        "wall_p95": round(_pct(wall, 0.95), 1),
        "cpu_p50": round(statistics.median(cpu), 1),
        "cpu_p95": round(_pct(cpu, 0.95), 1),
    }
    out["memory_mb"]["after_latency"] = round(_rss_mb())
    print("latency", out["latency_ms"], flush=True)

    # ---- training
    train_rows = classifier.load_rows(classifier.DATA / "train.jsonl")
    sample = [r["text"] for r in train_rows[:: max(1, len(train_rows) // 60)]]
    e0 = time.perf_counter()
    embeddings.embed_raw(sample)
    per_text = (time.perf_counter() - e0) / len(sample)
    t0 = time.perf_counter()
    rebuilt = classifier.build_starter()
    fit_s = time.perf_counter() - t0
    out["training"] = {
        "texts": len(train_rows),
        "fit_seconds_with_shipped_embeddings": round(fit_s, 1),
        "embedding_seconds_estimated": round(per_text * len(train_rows), 1),
        "deterministic_same_as_shipped": rebuilt.digest() == model.digest(),
    }
    print("training", out["training"], flush=True)

    out["out_of_fold"] = rebuilt.meta.get("out_of_fold")
    print("out_of_fold", out["out_of_fold"], flush=True)

    # ---- quality on the third held-out split (never trained or chosen on)
    rows = classifier.load_rows(classifier.DATA / classifier.MEASURE_SET)
    ev = classifier.evaluate(model, rows)
    fig: dict[str, Any] = {k: v for k, v in ev.as_dict().items() if k != "confusions"}
    fig["top_confusions"] = ev.confusions[:8]
    # the two parts alone vs combined (the choice of model)
    p_tfidf, p_e5 = model.proba_parts([classifier.normalise(r["text"]) for r in rows])
    for name, probs in (("tfidf_only", p_tfidf), ("e5_only", p_e5)):
        got = [model.classes[int(i)] for i in probs.argmax(axis=1)]
        acc = sum(classifier.is_correct(g, r) for g, r in zip(got, rows, strict=True))
        top = sum(
            g.split("-")[0] == r["label"].split("-")[0] for g, r in zip(got, rows, strict=True)
        )
        fig[name] = {
            "accuracy": round(acc / len(rows), 3),
            "top_level": round(top / len(rows), 3),
        }
    out["heldout3"] = fig
    print("heldout3", fig, flush=True)

    # ---- duplicates at the shipped threshold
    out["duplicates"] = {"threshold": semantic.THRESHOLD}
    for split, name in (("heldout3", "pairs3.jsonl"),):
        pairs = classifier.load_rows(classifier.DATA / name)
        scores = []
        for r in pairs:
            place = semantic.Place(r["same_building"], r["distance_m"], r["days"])
            scores.append(semantic.meaning(r["a"], r["b"]) if semantic.near(place) else -1.0)
        gold = [int(r["label"]) for r in pairs]
        out["duplicates"][split] = {
            "pairs": len(pairs),
            "hard_negatives": sum(r["kind"] == "hard_negative" for r in pairs),
            **_prf([sc >= semantic.THRESHOLD for sc in scores], gold),
        }
    print("duplicates", out["duplicates"], flush=True)

    res = ROOT / "bench" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "insight_model.json").write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
