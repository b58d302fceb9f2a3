"""The mediation case's two state machines, declared once with
:mod:`linli.core.transitions`.

* ``CASE`` (field ``status``): 已受理 (open) → 调解中 (mediating, from the first recorded
  session; each further session is a self-loop) → 已结案 (closed, with an outcome;
  the service refuses a close without one) → 已回访 (visited: the follow-up visit 30
  days after an agreement).
* ``LEVEL`` (field ``level``): 楼栋 → 社区 → 街道, one step at a time, with a reason,
  only while the case is still being mediated ("小事不出楼栋、大事不出社区").

Services change these fields only through ``<machine>.apply``; pages take their buttons
from ``can`` / ``available``; the permission-matrix test iterates over the tables.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.core.errors import DomainError, InvalidTransition
from linli.core.transitions import Machine, transition
from linli.core.types import Actor
from linli.mediation.models import ACTIVE_STATUSES, Case, Level, Outcome, Status
from linli.mediation.permissions import runs_case, sees_case

S = Status
L = Level


def _followup_after_agreement(actor: Actor, case: Case) -> DomainError | None:
    if case.outcome != Outcome.AGREEMENT:
        return InvalidTransition(_("只有达成调解协议的案件需要回访。"))
    return None


def _still_mediating(actor: Actor, case: Case) -> DomainError | None:
    if case.status not in ACTIVE_STATUSES:
        return InvalidTransition(_("案件已结案，不能再提级。"))
    return None


CASE: Machine[Case] = Machine(
    name="mediation.case",
    model=Case,
    transitions=[
        transition(
            "record_session",
            _l("记录调解"),
            [S.OPEN, S.MEDIATING],
            S.MEDIATING,
            who=runs_case,
            forbidden=_l("只有本案调解员或社区、街道调解负责人可以记录调解。"),
        ),
        transition(
            "close",
            _l("结案"),
            [S.OPEN, S.MEDIATING],
            S.CLOSED,
            who=runs_case,
            forbidden=_l("只有本案调解员或社区、街道调解负责人可以结案。"),
        ),
        transition(
            "follow_up",
            _l("记录回访"),
            [S.CLOSED],
            S.VISITED,
            who=runs_case,
            guard=_followup_after_agreement,
            forbidden=_l("只有本案调解员或社区、街道调解负责人可以记录回访。"),
        ),
    ],
    visible=sees_case,
    state_label=lambda c: str(c.get_status_display()),
)

LEVEL: Machine[Case] = Machine(
    name="mediation.level",
    model=Case,
    state_field="level",
    transitions=[
        transition(
            "to_community",
            _l("提交社区调解"),
            [L.BUILDING],
            L.COMMUNITY,
            who=runs_case,
            guard=_still_mediating,
            reason_required=True,
            forbidden=_l("只有本案调解员或社区、街道调解负责人可以提级。"),
        ),
        transition(
            "to_street",
            _l("提交街道调解"),
            [L.COMMUNITY],
            L.STREET,
            who=runs_case,
            guard=_still_mediating,
            reason_required=True,
            forbidden=_l("只有本案调解员或社区、街道调解负责人可以提级。"),
        ),
    ],
    visible=sees_case,
    state_label=lambda c: str(c.get_level_display()),
)

# The next level's action from each level (None at the top).
ESCALATE_FROM: dict[str, str] = {L.BUILDING: "to_community", L.COMMUNITY: "to_street"}

__all__ = ["CASE", "ESCALATE_FROM", "LEVEL"]
