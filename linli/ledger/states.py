"""The earning claim's state machine (one table, :mod:`linli.core.transitions`).

::

    awaiting_confirmation ──confirm──▶ awaiting_approval ──approve──▶ approved
            │                         (approved at once when the      │
            └──────────reject─────────┴─ rule names no approver) ─────┴──reject──▶ rejected

``submit`` is not a transition (the claim is created in its first state by
``claim_submit``). Approving posts the earning (``services.earning._approve``), so an
approved claim always has its ledger transaction (database constraint). Services call
:data:`CLAIMS` ``.apply``; pages and the API take their buttons from
``CLAIMS.available`` and the permission matrix test is driven by this table.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.transitions import Machine, transition
from linli.ledger.models import ClaimStatus, EarningClaim
from linli.ledger.permissions import can_approve_claim, can_confirm_claim, can_view_claim

CONFIRM = "confirm"
APPROVE = "approve"
REJECT = "reject"

CLAIMS: Machine[EarningClaim] = Machine(
    name="ledger.claim",
    model=EarningClaim,
    transitions=[
        transition(
            CONFIRM,
            _("确认服务"),
            [ClaimStatus.AWAITING_CONFIRMATION],
            ClaimStatus.AWAITING_APPROVAL,
            who=can_confirm_claim,
            forbidden=_("只有服务对象或其网格员可以确认，且不能确认自己提供的服务。"),
        ),
        transition(
            APPROVE,
            _("通过"),
            [ClaimStatus.AWAITING_APPROVAL],
            ClaimStatus.APPROVED,
            who=can_approve_claim,
        ),
        transition(
            REJECT,
            _("驳回"),
            [ClaimStatus.AWAITING_CONFIRMATION, ClaimStatus.AWAITING_APPROVAL],
            ClaimStatus.REJECTED,
            who=can_approve_claim | can_confirm_claim,
            reason_required=True,
        ),
    ],
    # Another community's claim is "not found" to the services too, not "forbidden".
    visible=can_view_claim,
    lock_queryset=lambda: EarningClaim.objects.select_related(
        "rule", "resident__grid", "recipient__grid"
    ),
    state_label=lambda c: str(c.get_status_display()),
)

# Kept for readers of the old dict: state -> states reachable from it.
CLAIM_TRANSITIONS: dict[str, set[str]] = {
    s: {CLAIMS[a].target for a in CLAIMS.actions_from(s)}
    | ({ClaimStatus.APPROVED} if s == ClaimStatus.AWAITING_CONFIRMATION else set())
    for s in ClaimStatus.values
}

__all__ = ["APPROVE", "CLAIMS", "CLAIM_TRANSITIONS", "CONFIRM", "REJECT"]
