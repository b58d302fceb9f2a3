"""Idempotent creates: a retried or double-submitted create has no second effect.

A client names each create with a key — the ``Idempotency-Key`` header in the JSON API,
a hidden one-time field (``{% idempotency_field %}``, value from :func:`new_key`) in a
page form. The model stores it in an ``idempotency_key`` column (:func:`key_field`)
unique per community (:func:`unique_per_community`; rows without a key are exempt), and
the service inserts with ``linli.core.writes.insert_or_skip`` (``INSERT … ON CONFLICT
DO NOTHING RETURNING id``): the first request's INSERT is the only statement the key
costs. A replay — or the loser of two simultaneous posts, which PostgreSQL makes wait
on the unique index — inserts nothing and gets the original row back
(:func:`original`), never a second one. A key already used by someone else is refused
(409), so a key cannot be used to read another person's record. A service does both
steps with :func:`replayed` inside its ``governed_write``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core.errors import Conflict, ValidationFailed
from linli.core.writes import Write, insert_or_skip

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
MAX_LENGTH = 64
_VALID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def new_key() -> str:
    """A fresh one-time key for a form."""
    return uuid.uuid4().hex


def clean(raw: Any) -> str:
    """The key as stored: "" when none was given; a malformed key is refused."""
    key = (raw or "").strip() if isinstance(raw, str) else ""
    if key and not _VALID.match(key):
        raise ValidationFailed(
            _("请求编号（幂等键）无效：最多64位字母、数字或 - _ . :。"), field=FIELD
        )
    return key


def from_request(request: HttpRequest) -> str:
    """The ``Idempotency-Key`` header, or a form's hidden ``idempotency_key`` field."""
    raw = request.headers.get(HEADER) or request.POST.get(FIELD, "")
    return clean(raw)


def key_field() -> models.CharField[str, str]:
    return models.CharField(
        gettext_lazy("请求编号（幂等键）"), max_length=MAX_LENGTH, blank=True, default=""
    )


def unique_per_community(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["community", FIELD], condition=~Q(**{FIELD: ""}), name=name
    )


def original[M: models.Model](
    queryset: models.QuerySet[M], *, community_id: int, key: str, owned: Any
) -> M:
    """The row that already holds ``key`` in the community (after ``insert_or_skip``
    found it taken). ``owned(row)`` says whether it is the caller's own; a key held by
    someone else's row — or by no row (another constraint refused the insert) — is a
    conflict, and the caller learns nothing about that row."""
    row = queryset.filter(community_id=community_id, **{FIELD: key}).first()
    if row is None or not owned(row):
        raise Conflict(_("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict")
    return row


def replayed[M: models.Model](
    w: Write,
    obj: M,
    *,
    key: str,
    owned: Callable[[M], bool],
    queryset: models.QuerySet[M] | None = None,
) -> M | None:
    """Insert ``obj`` with ``insert_or_skip``; None when it went in. When its key was
    already taken (a replay, or a concurrent twin that committed first) the governed
    write ``w`` records nothing — the first request was audited — and the original row
    of ``obj``'s community comes back (``original``: a key held by someone else is a
    conflict). ``queryset`` (default: all of the model) can add ``select_related``."""
    if insert_or_skip(obj):
        return None
    w.record = False
    qs = queryset if queryset is not None else type(obj)._default_manager.all()
    return original(qs, community_id=obj.community_id, key=key, owned=owned)  # type: ignore[attr-defined]
