"""Quality gate: production settings pass `manage.py check --deploy` with no warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean() -> None:
    env = dict(os.environ)
    # Set by the browser tests' conftest in this process; never set in production.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 10 + "a-long-random-production-secret-for-the-check-0123456789",
        LINLI_AUDIT_KEY="a" * 8 + "-audit-checkpoint-signing-key-for-the-check-0123",
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_refuses_the_dev_secret() -> None:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY="")
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr


def test_production_refuses_the_dev_audit_key() -> None:
    env = dict(os.environ)
    env.pop("LINLI_AUDIT_KEY", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 10 + "a-long-random-production-secret-for-the-check-0123456789",
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode != 0 and "LINLI_AUDIT_KEY" in out.stderr
