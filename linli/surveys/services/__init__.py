"""Every write of the surveys app, one module per aggregate (surveys, answers, wishes).
Re-exported here so callers write ``from linli.surveys import services``."""

from linli.surveys.services.answers import has_answered, survey_answer
from linli.surveys.services.surveys import (
    Settings,
    close_due_surveys,
    survey_close,
    survey_create,
    survey_from_template,
    survey_open,
    survey_publish_results,
    survey_remind,
    survey_reopen,
    survey_set_questions,
    survey_update,
)
from linli.surveys.services.wishes import (
    wish_claim,
    wish_confirm,
    wish_fulfil,
    wish_post,
    wish_publish,
    wish_reject,
    wish_release,
    wish_withdraw,
    wishes_to_topic,
)

__all__ = [
    "Settings",
    "close_due_surveys",
    "has_answered",
    "survey_answer",
    "survey_close",
    "survey_create",
    "survey_from_template",
    "survey_open",
    "survey_publish_results",
    "survey_remind",
    "survey_reopen",
    "survey_set_questions",
    "survey_update",
    "wish_claim",
    "wish_confirm",
    "wish_fulfil",
    "wish_post",
    "wish_publish",
    "wish_reject",
    "wish_release",
    "wish_withdraw",
    "wishes_to_topic",
]
