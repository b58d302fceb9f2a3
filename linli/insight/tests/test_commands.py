"""The evaluation contract: classify_requests (JSON Lines in → out) and
classify_eval FILE, with the product model."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_classify_requests_reads_and_writes_json_lines(monkeypatch: Any) -> None:
    lines = [
        {"id": 1, "text": "电悌又坏了，关在里面出不来"},
        {"id": "b", "text": "楼下的垃级三天没人收，臭死了"},
        {"id": 3, "text": ""},
        "not json",
        {"id": 5},
    ]
    raw = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    monkeypatch.setattr("sys.stdin", io.StringIO(raw + "\n"))
    out = io.StringIO()
    call_command("classify_requests", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == 1 and rows[0]["category"] == "fac-elevator"
    assert rows[0]["unit_kind"] == "property"
    assert rows[1]["id"] == "b" and rows[1]["category"] == "env-garbage"
    for r in rows:
        assert set(r) >= {"id", "category", "unit_kind", "confidence", "alternatives"}
        assert 0.0 <= r["confidence"] <= 1.0
    assert rows[2]["category"] is None and rows[2]["needs_human"]
    assert rows[3]["id"] is None and rows[3]["reason"] == "empty"
    assert rows[4]["id"] == 5 and rows[4]["needs_human"]


@pytest.mark.django_db
def test_classify_eval_reports_the_figures(tmp_path: Path) -> None:
    f = tmp_path / "small.jsonl"
    rows = [
        {"text": "电梯门关到一半又弹开", "label": "fac-elevator"},
        {"text": "楼上半夜跳绳咚咚咚", "label": "di-noise"},
        {"text": "邻居家的狗一直叫", "label": "di-pet"},
        {"text": "家里没水了也没通知", "label": "fac-water"},
    ]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    out = io.StringIO()
    call_command("classify_eval", str(f), "--json", stdout=out)
    got = json.loads(out.getvalue())
    assert got["n"] == 4
    for k in ("accuracy", "macro_f1", "top_level_accuracy", "coverage", "threshold"):
        assert 0.0 <= got[k] <= 1.0
    assert "confusions" in got and got["accuracy"] >= 0.75
    text = io.StringIO()
    call_command("classify_eval", str(f), stdout=text)
    assert "macro-F1" in text.getvalue() and "coverage" in text.getvalue()


def test_classify_eval_refuses_bad_files(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("classify_eval", str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no label"}\n')
    with pytest.raises(CommandError):
        call_command("classify_eval", str(bad))
