"""Background work for the ledger: the nightly points expiry (run by cron/systemd
through ``manage.py expire_points --enqueue``, which enqueues this task for the
db_worker)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.communities.models import OrgUnit
from linli.ledger.services import points_expire


@task()
def expire_points_task(community_id: int | None = None) -> dict[str, Any]:
    community = OrgUnit.objects.get(pk=community_id) if community_id else None
    return asdict(points_expire(actor=None, community=community))
