"""Every write of the mediation app (one module per aggregate)."""

from linli.mediation.services._common import PartyIn
from linli.mediation.services.cases import (
    case_close,
    case_escalate,
    case_follow_up,
    case_for_request,
    case_from_request,
    case_open,
    is_dispute_request,
    mediator_assign,
    party_add,
)
from linli.mediation.services.reminders import SweepResult, sweep_reminders
from linli.mediation.services.roster import mediator_add, mediator_set_active
from linli.mediation.services.work import (
    AGREEMENT_PARTS,
    agreement_save,
    agreement_sign,
    evidence_add,
    session_record,
)

__all__ = [
    "AGREEMENT_PARTS",
    "PartyIn",
    "SweepResult",
    "agreement_save",
    "agreement_sign",
    "case_close",
    "case_escalate",
    "case_follow_up",
    "case_for_request",
    "case_from_request",
    "case_open",
    "evidence_add",
    "is_dispute_request",
    "mediator_add",
    "mediator_assign",
    "mediator_set_active",
    "party_add",
    "session_record",
    "sweep_reminders",
]
