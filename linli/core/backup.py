"""Backup and restore of the whole installation: the database and every uploaded file.

A backup is a directory::

    manifest.json   vendor, time, per-table row counts, last audit checkpoint,
                    SHA-256 of every file below
    database.dump   PostgreSQL: ``pg_dump --format=custom`` (restored with pg_restore)
    database.sqlite3  SQLite: an online copy made with SQLite's backup API
    media/…         every file in Django's default storage (photos), read and written
                    through the storage API, so an S3-compatible store works the same

Restore refuses a database that already holds data unless told to replace it, checks
every checksum before touching anything, and after restoring the operator runs the
consistency commands (``verify_audit``, ``ledger_recompute``, ``voting_recount
--all-closed``), which ``manage.py restore`` does by default.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import connection

FORMAT = 1


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _walk(storage: Storage, prefix: str = "") -> Iterator[str]:
    try:
        dirs, files = storage.listdir(prefix)
    except (FileNotFoundError, NotImplementedError):
        return
    for f in files:
        yield f"{prefix}{f}"
    for d in dirs:
        yield from _walk(storage, f"{prefix}{d}/")


def _pg_env() -> tuple[dict[str, str], list[str], str]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = []
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    return env, args, str(s["NAME"])


def table_counts() -> dict[str, int]:
    out = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        out[model._meta.db_table] = model._default_manager.count()
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    rows: int


def backup(dest: Path) -> BackupResult:
    """Write a backup into the empty or new directory ``dest``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor == "postgresql":
        env, args, name = _pg_env()
        db_file = dest / "database.dump"
        proc = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
            ["pg_dump", "--format=custom", "--no-owner", *args, "--file", str(db_file), name],  # noqa: S607
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
    elif vendor == "sqlite":
        db_file = dest / "database.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(db_file)
        try:
            connection.connection.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    else:
        raise BackupError(f"unsupported database: {vendor}")

    media_dir = dest / "media"
    files = 0
    for name in _walk(default_storage):
        out = media_dir / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as src, open(out, "wb") as fh:
            shutil.copyfileobj(src, fh)
        files += 1

    from linli.core.models import AuditCheckpoint

    last = AuditCheckpoint.objects.order_by("-seq").first()
    counts = table_counts()
    checksums = {
        str(p.relative_to(dest)): _sha256(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "vendor": vendor,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": counts,
        "media_files": files,
        "last_checkpoint": (
            {"seq": last.seq, "hash": last.hash, "last_id": last.last_id} if last else None
        ),
        "sha256": checksums,
    }
    (dest / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return BackupResult(dest, files, sum(counts.values()))


def read_manifest(src: Path) -> dict[str, Any]:
    src = Path(src)
    try:
        manifest: dict[str, Any] = json.loads((src / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable manifest.json in {src}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError("unknown backup format")
    for rel, digest in manifest["sha256"].items():
        path = src / rel
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{rel} is missing or does not match its checksum")
    return manifest


def database_is_empty() -> bool:
    from linli.communities.models import OrgUnit

    try:
        return not OrgUnit.objects.exists()
    except Exception:  # noqa: BLE001 - no tables yet counts as empty
        return True


def restore(src: Path, *, replace: bool = False) -> dict[str, Any]:
    """Restore the backup at ``src`` into the configured database and storage."""
    src = Path(src)
    manifest = read_manifest(src)
    vendor = connection.vendor
    if manifest["vendor"] != vendor:
        raise BackupError(f"backup is from {manifest['vendor']}, this database is {vendor}")
    if not replace and not database_is_empty():
        raise BackupError("the database already holds data; pass --replace to overwrite it")
    if vendor == "postgresql":
        env, args, name = _pg_env()
        connection.close()
        proc = subprocess.run(  # noqa: S603
            [  # noqa: S607
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                "--dbname",
                name,
                str(src / "database.dump"),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_restore failed: {proc.stderr.strip()}")
    else:
        connection.ensure_connection()
        source = sqlite3.connect(src / "database.sqlite3")
        try:
            source.backup(connection.connection)  # type: ignore[arg-type]
        finally:
            source.close()
    media_dir = src / "media"
    if media_dir.is_dir():
        for path in sorted(media_dir.rglob("*")):
            if not path.is_file():
                continue
            name = str(path.relative_to(media_dir))
            if default_storage.exists(name):
                default_storage.delete(name)
            saved = default_storage.save(name, ContentFile(path.read_bytes()))
            if saved != name:
                raise BackupError(f"storage renamed {name} to {saved}")
    return manifest


__all__ = ["backup", "restore", "read_manifest", "table_counts", "BackupError"]
