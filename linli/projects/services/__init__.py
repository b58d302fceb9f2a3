"""Every write of the projects app (one module per aggregate), re-exported here.

Each service is keyword-only and typed, checks permission first, validates, and runs in
one transaction with its audit event (:func:`linli.core.writes.governed_write`, or a
state machine's ``apply``); notifications go out on commit."""

from linli.projects.services.delivery import (
    evaluation_record,
    feedback_submit,
    phase_add,
    phase_progress,
    photos_add,
)
from linli.projects.services.micro import (
    micro_cosign,
    micro_from_topic,
    micro_propose,
    micro_transition,
)
from linli.projects.services.pb import (
    Dates,
    ballot_cast,
    ballot_count,
    conflict_declare,
    override_result,
    pabulib_export,
    paper_ballot_record,
    pb_project_submit,
    programme_advance,
    programme_create,
    programme_update,
    reviewer_add,
    score_submit,
    weighted_scores,
)
from linli.projects.services.settings import settings_for, settings_save

__all__ = [
    "evaluation_record",
    "feedback_submit",
    "phase_add",
    "phase_progress",
    "photos_add",
    "Dates",
    "ballot_cast",
    "ballot_count",
    "conflict_declare",
    "override_result",
    "pabulib_export",
    "paper_ballot_record",
    "pb_project_submit",
    "programme_advance",
    "programme_create",
    "programme_update",
    "reviewer_add",
    "score_submit",
    "weighted_scores",
    "micro_cosign",
    "micro_from_topic",
    "micro_propose",
    "micro_transition",
    "settings_for",
    "settings_save",
]
