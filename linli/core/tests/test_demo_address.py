"""`make demo PORT=8101` names the address it will really serve on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[3]


def test_make_demo_passes_host_and_port_to_the_seed_message() -> None:
    make = shutil.which("make")
    assert make is not None, "make is needed to run the demo"
    out = subprocess.run(
        [make, "-n", "demo", "HOST=192.0.2.10", "PORT=8101"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "seed_demo --host 192.0.2.10 --port 8101" in out
    assert "runserver 192.0.2.10:8101" in out
    assert "8000" not in out


@pytest.mark.django_db
def test_seed_demo_names_the_served_address(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINLI_DEMO_PORT", "8102")
    call_command("seed_demo", households=60)
    assert "Open http://127.0.0.1:8102/" in capsys.readouterr().out
    # The second run (demo already loaded) prints the logins and the address again.
    call_command("seed_demo", households=60, host="192.0.2.10", port="8101")
    out = capsys.readouterr().out
    assert "Open http://192.0.2.10:8101/" in out
    assert "8000" not in out
