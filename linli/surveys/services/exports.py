"""Answers exports made in the background, for surveys too large to build while the
browser waits (above :data:`DIRECT_MAX` responses).

Staff ask for one (:func:`export_request`: one audit event; a second request for the
same survey and format while one is being made returns that one), the task worker
builds the file (:func:`export_build`, run by ``linli.surveys.tasks``) with the same
rows as the direct download, and the exports page lists it for download when ready
(the page refreshes itself meanwhile; no JavaScript)."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import exports, ratelimit
from linli.core.errors import NotFound, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import governed_write, lock_row
from linli.surveys.models import AnswerExport, ExportStatus, Question, Survey

log = logging.getLogger(__name__)

DIRECT_MAX = 20_000  # responses: above this the export is made in the background
FORMATS = ("xlsx", "csv")
STALE = timedelta(minutes=30)  # a job queued longer than this is taken as lost


def export_request(*, actor: Actor, survey: Survey, fmt: str) -> AnswerExport:
    """Queue an answers export of ``survey`` as ``fmt`` (xlsx or csv) for ``actor``,
    who must read the survey's results; returns the export (an earlier one of the
    same survey and format still being made, if any)."""
    from linli.surveys.states import reads_results
    from linli.surveys.tasks import build_answer_export

    if fmt not in FORMATS:
        raise ValidationFailed(_("导出格式只能是 Excel 或 CSV。"), field="fmt")
    if actor is None or actor.pk is None or not reads_results(actor, survey):
        raise NotFound()
    user_id = int(actor.pk)
    ratelimit.check("surveys.export", user=actor)
    cid = survey.community_id
    with governed_write(actor=actor, action="surveys.export", community_id=cid) as w:
        # The survey row lock makes two clicks at once queue one job.
        lock_row(Survey.objects.all(), survey.pk, community_id=cid)
        pending = (
            AnswerExport.objects.filter(
                community_id=cid,
                survey_id=survey.pk,
                fmt=fmt,
                status=ExportStatus.QUEUED,
                created_at__gt=timezone.now() - STALE,
            )
            .order_by("-created_at")
            .first()
        )
        if pending is not None:
            w.record = False
            return pending
        export = AnswerExport.objects.create(
            community_id=cid, survey_id=survey.pk, fmt=fmt, requested_by_id=user_id
        )
        w.target = survey
        w.payload.update(fmt=fmt, export=export.pk)
        export_id = export.pk

        def enqueue() -> None:
            build_answer_export.enqueue(export_id=export_id)

        w.on_commit(enqueue)
    return export


def export_build(export_id: int) -> dict[str, Any]:
    """Make the file of a queued export (the task's work). A failure marks the export
    failed (the page says so) and is raised again for the task's record."""
    from linli.surveys import results

    export = AnswerExport.objects.select_related("survey").filter(pk=export_id).first()
    if export is None or export.status != ExportStatus.QUEUED:
        return {"export": export_id, "skipped": True}
    survey = export.survey
    started = time.perf_counter()
    try:
        questions = list(
            Question.objects.filter(community_id=survey.community_id, survey=survey).order_by(
                "position"
            )
        )
        counted = _Counted()
        with tempfile.TemporaryFile() as tmp:
            if export.fmt == "xlsx":
                rows = results.export_rows(survey, questions, cell=exports.xlsx_cell)
                exports.xlsx_sheet_write(tmp, "答卷", counted(rows), rendered=True)
            else:
                exports.csv_write(tmp, counted(results.export_rows(survey, questions)))
            tmp.seek(0)
            name = f"survey-{survey.pk}-answers-{export.pk}.{export.fmt}"
            export.file.save(name, File(tmp), save=False)
        export.status = ExportStatus.READY
        export.rows = max(counted.n - 1, 0)  # less the header
        export.seconds = round(time.perf_counter() - started, 1)
        export.save(update_fields=["file", "status", "rows", "seconds", "updated_at"])
    except Exception:
        log.exception("survey answers export %s failed", export_id)
        AnswerExport.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED, updated_at=timezone.now()
        )
        raise
    return {"export": export_id, "rows": export.rows, "seconds": export.seconds}


class _Counted:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            self.n += 1
            yield row


__all__ = ["DIRECT_MAX", "FORMATS", "export_build", "export_request"]
