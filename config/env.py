"""Reading settings from the environment in one place, so every settings module agrees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def database_config(default_sqlite: Path) -> dict[str, Any]:
    """SQLite file by default; DATABASE_URL (postgres://...) selects PostgreSQL."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60))
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(default_sqlite),
        # WAL + a busy timeout let the demo server and the task worker share the file.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
