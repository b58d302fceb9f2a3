"""Background work for the resource pool: recording no-shows (run every few minutes by
cron/systemd through ``manage.py resources_no_shows --enqueue``)."""

from __future__ import annotations

from django.tasks import task

from linli.resources.services import no_show_sweep


@task()
def no_show_sweep_task() -> int:
    return no_show_sweep()
