"""议事厅 pages, one module per aggregate. Thin: parse the form, call one service or
selector, render or redirect. A refused action comes back as a message on the page it
was sent from (nothing changed). Re-exported here for ``urls.py``."""

from __future__ import annotations

from linli.deliberation.views.action_items import action_update, actions, supervision_review
from linli.deliberation.views.councils import council_add, council_page, council_remove
from linli.deliberation.views.deliberators import (
    deliberator_action,
    deliberator_enrol,
    deliberators,
)
from linli.deliberation.views.meetings import (
    meeting_agenda,
    meeting_attendance,
    meeting_conclude,
    meeting_detail,
    meeting_list,
    meeting_materials,
    meeting_new,
    meeting_notice,
)
from linli.deliberation.views.topics import (
    action_new,
    hall,
    insight_propose,
    insights,
    objection_answer,
    topic_comment,
    topic_detail,
    topic_move,
    topic_new,
    topic_object,
    topic_publicise,
    topic_review,
    topic_vote,
)

__all__ = [
    "action_new",
    "action_update",
    "actions",
    "council_add",
    "council_page",
    "council_remove",
    "deliberator_action",
    "deliberator_enrol",
    "deliberators",
    "hall",
    "insight_propose",
    "insights",
    "meeting_agenda",
    "meeting_attendance",
    "meeting_conclude",
    "meeting_detail",
    "meeting_list",
    "meeting_materials",
    "meeting_new",
    "meeting_notice",
    "objection_answer",
    "supervision_review",
    "topic_comment",
    "topic_detail",
    "topic_move",
    "topic_new",
    "topic_object",
    "topic_publicise",
    "topic_review",
    "topic_vote",
]
