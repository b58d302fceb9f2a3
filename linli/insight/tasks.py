"""Background work: retrain per-community models from staff corrections (run
periodically by cron/systemd through ``manage.py insight_retrain``, which enqueues
this task for the db_worker, like the requests app's deadline sweep)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from linli.insight.services import retrain_all


@task()
def retrain_communities_task() -> list[dict[str, Any]]:
    return [asdict(r) for r in retrain_all()]
