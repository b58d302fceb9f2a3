"""Open311 client keys: issue and look up."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.core import audit
from linli.core.errors import PermissionDenied
from linli.core.types import Actor
from linli.requests.models import Open311Client
from linli.requests.services._common import _clean_text, _user

# ---------------------------------------------------------------- Open311 keys


def open311_client_issue(
    *, actor: Actor, name: str, community: OrgUnit, contact: str = "", key: str | None = None
) -> tuple[Open311Client, str]:
    """Issue an API key for a client app; returns the key once (only its hash is kept)."""
    if actor is not None and not scope_of(actor).covers(
        community.path, Role.SECRETARY, Role.STREET_OFFICER
    ):
        raise PermissionDenied(_("只有社区书记、街道或平台管理员可以发放接入密钥。"))
    name = _clean_text(name, field="name", min_len=2, max_len=80, what=_("应用名称"))
    # ``key`` is only passed by the demo, so its printed key stays the same across runs.
    key = key or "o311_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name,
            community=community,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[5:13],
            contact=contact[:120],
            issued_by=_user(actor),
        )
        audit.record(
            actor=actor,
            action="requests.open311_key_issue",
            target=client,
            community_id=community.pk,
            payload={"name": name, "prefix": client.prefix},
        )
    return client, key


def open311_client_for_key(key: str | None) -> Open311Client | None:
    if not key or len(key) > 200:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    client = (
        Open311Client.objects.filter(key_hash=digest, is_active=True)
        .select_related("community")
        .first()
    )
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client
