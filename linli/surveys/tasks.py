"""Background work of the surveys app: answers exports of large surveys."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from linli.surveys.services.exports import export_build


@task()
def build_answer_export(export_id: int) -> dict[str, Any]:
    return export_build(export_id)
