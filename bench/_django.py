"""Shared set-up for benchmarks: Django on PostgreSQL (DATABASE_URL, default a
`linli_bench` database on the loopback server), created and migrated on demand."""

from __future__ import annotations

import os

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench"


def setup(*, fresh: bool = False) -> str:
    """Point Django at the bench database (creating/migrating it); returns its URL.

    ``fresh=True`` drops and recreates it first, for scenarios that need an empty street.
    """
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    if url.startswith("postgres"):
        import psycopg

        dbname = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [dbname]).fetchone()
            if exists and fresh:
                conn.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url
