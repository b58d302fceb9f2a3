"""Backup → restore into a fresh database → the consistency checks pass; a damaged
backup or a non-empty target is refused without touching anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from linli.communities.models import OrgUnit, Resident
from linli.core import audit
from linli.core.backup import BackupError, read_manifest, restore

ROOT = Path(__file__).resolve().parents[3]


def _run(env_db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(DATABASE_URL=env_db, DJANGO_SETTINGS_MODULE="config.settings.test")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _fresh_target(tmp_path: Path) -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    s = connection.settings_dict
    name = f"linli_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    user = s.get("USER") or "postgres"
    return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{name}"


def _drop_target(url: str) -> None:
    if connection.vendor == "postgresql":
        name = url.rsplit("/", 1)[1]
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database_and_passes_every_check(tmp_path: Path) -> None:
    call_command("seed_demo", households=60, quiet=True)
    default_storage.save("requests/backup-probe.jpg", ContentFile(b"\xff\xd8probe"))
    audit.seal_all()
    dest = tmp_path / "bk"
    call_command("backup", str(dest))
    manifest = read_manifest(dest)
    assert manifest["tables"]["communities_resident"] == Resident.objects.count()
    assert "media/requests/backup-probe.jpg" in manifest["sha256"]
    assert manifest["last_checkpoint"]["seq"] >= 1

    target = _fresh_target(tmp_path)
    try:
        out = _run(target, "restore", str(dest))
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Restored backup" in out.stdout and "Audit log OK" in out.stdout
        # Restoring again over the restored data needs --replace.
        again = _run(target, "restore", str(dest), "--no-check")
        assert again.returncode != 0 and "--replace" in again.stderr
    finally:
        _drop_target(target)


@pytest.mark.django_db(transaction=True)
def test_damaged_backup_is_refused_before_anything_changes(tmp_path: Path) -> None:
    # Backups run outside any transaction (a command), so this test commits its data.
    from linli.communities.services import orgunit_create

    city = orgunit_create(kind="city", name="备份市", code="BK")
    orgunit_create(kind="district", name="备份区", code="BK1", parent=city)
    dest = tmp_path / "bk"
    call_command("backup", str(dest))
    db_file = next(p for p in dest.iterdir() if p.name.startswith("database."))
    db_file.write_bytes(db_file.read_bytes()[:-10] + b"0123456789")
    before = OrgUnit.objects.count()
    with pytest.raises(BackupError, match="checksum"):
        restore(dest, replace=True)
    assert OrgUnit.objects.count() == before
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(dest))
    manifest = json.loads((dest / "manifest.json").read_text("utf-8"))
    assert manifest["vendor"] == connection.vendor
