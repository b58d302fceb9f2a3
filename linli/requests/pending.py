"""Photos kept across re-renders of the report form (validation error, duplicate warning).

An accepted upload is cleaned once (:mod:`linli.requests.photos`: checked, EXIF dropped,
long side ≤ 1600 px) and written to the default storage under ``pending/``; the form then
carries a signed list of those names in a hidden field. The signature binds the list to
the user and expires after :data:`MAX_AGE` seconds, so a forged or stale list — or another
user's — is ignored; at most :data:`~linli.requests.photos.MAX_PHOTOS` are kept. After a
successful submit the kept files are deleted (the request stores its own copies); the
files of forms that were abandoned are removed by :func:`purge_stale`, which the deadline
sweep runs."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from linli.requests.photos import MAX_PHOTOS, CleanPhoto, clean_photos

MAX_AGE = 2 * 60 * 60  # seconds a kept photo stays usable
_SALT = "linli.requests.pending-photos"
_DIR = "pending"
_EXTS = ("jpg", "png", "webp")


@dataclass(frozen=True)
class KeptPhoto:
    name: str  # storage name, pending/<random>.<ext>

    def upload(self) -> ContentFile[bytes]:
        with default_storage.open(self.name, "rb") as fh:
            return ContentFile(fh.read(), name=self.name.rsplit("/", 1)[-1])

    def thumbnail_data_uri(self) -> str:
        """A small inline preview (the CSP allows ``data:`` images; no extra URL)."""
        import io

        from PIL import Image

        with default_storage.open(self.name, "rb") as fh, Image.open(fh) as img:
            img.thumbnail((160, 160))
            out = io.BytesIO()
            img.convert("RGB").save(out, format="JPEG", quality=70)
        return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def _valid_name(name: Any) -> bool:
    if not isinstance(name, str) or not name.startswith(_DIR + "/"):
        return False
    stem, _dot, ext = name[len(_DIR) + 1 :].partition(".")
    return ext in _EXTS and len(stem) == 32 and all(c in "0123456789abcdef" for c in stem)


def load(token: str, *, user_id: int) -> list[KeptPhoto]:
    """The kept photos named by a signed token; an invalid, expired or foreign token
    (or a file that is gone) yields nothing."""
    if not token:
        return []
    try:
        data = signing.loads(token, salt=_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(data, dict) or data.get("u") != user_id:
        return []
    names = [n for n in data.get("p", []) if _valid_name(n)][:MAX_PHOTOS]
    return [KeptPhoto(n) for n in names if default_storage.exists(n)]


def keep(uploads: Sequence[Any]) -> list[KeptPhoto]:
    """Clean new uploads (raises ``ValidationFailed`` like the service) and store them."""
    kept = []
    for photo in clean_photos(uploads, name="pending"):
        kept.append(_store(photo))
    return kept


def _store(photo: CleanPhoto) -> KeptPhoto:
    ext = (photo.content.name or "x.jpg").rsplit(".", 1)[-1]
    name = default_storage.save(f"{_DIR}/{secrets.token_hex(16)}.{ext}", photo.content)
    return KeptPhoto(name)


def token_for(photos: Sequence[KeptPhoto], *, user_id: int) -> str:
    if not photos:
        return ""
    return signing.dumps({"u": user_id, "p": [p.name for p in photos]}, salt=_SALT)


def discard(photos: Sequence[KeptPhoto]) -> None:
    for p in photos:
        default_storage.delete(p.name)


def purge_stale(*, now: datetime | None = None) -> int:
    """Delete kept photos older than :data:`MAX_AGE` (their signed token can no longer
    name them, so nobody can use them again); returns how many were deleted. A photo
    still inside its window stays, even if its form was abandoned a minute ago."""
    cutoff = (now or timezone.now()) - timedelta(seconds=MAX_AGE)
    try:
        _dirs, files = default_storage.listdir(_DIR)
    except FileNotFoundError:  # nothing was ever kept
        return 0
    deleted = 0
    for filename in files:
        name = f"{_DIR}/{filename}"
        if not _valid_name(name):
            continue  # not ours: leave it for a person to look at
        if default_storage.get_modified_time(name) < cutoff:
            default_storage.delete(name)
            deleted += 1
    return deleted
