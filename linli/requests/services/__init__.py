"""Every write to requests: check (the machine in :mod:`linli.requests.states`) →
lock → change → timeline event → audit event → notify on commit.

One module per part of the life of a request; every public name is re-exported here
so ``from linli.requests.services import request_submit`` keeps working.

Services take an optional ``now`` so tests and the sweep can use a fixed clock; pages
and the API never pass it.
"""

from __future__ import annotations

from linli.requests.models import UnitKind
from linli.requests.services._common import (
    AUTO_CLOSE_AFTER,
    ESCALATE_INTERVAL,
    MAX_DESCRIPTION,
    MIN_DESCRIPTION,
    REOPEN_WINDOW,
    STAFF_CHANNELS,
    URGE_INTERVAL,
)
from linli.requests.services.open311_keys import open311_client_for_key, open311_client_issue
from linli.requests.services.resident import (
    request_complain,
    request_rate,
    request_reopen,
    request_support,
    request_urge,
)
from linli.requests.services.submit import request_submit
from linli.requests.services.sweep import SweepResult, sweep_deadlines
from linli.requests.services.workflow import (
    request_accept,
    request_bulk_assign,
    request_dispatch,
    request_feedback,
    request_merge,
    request_onsite,
    request_plan,
    request_recategorise,
    request_reject,
    request_reroute,
    request_resolve,
    request_start,
)

__all__ = [
    "request_submit",
    "request_support",
    "request_accept",
    "request_dispatch",
    "request_start",
    "request_resolve",
    "request_reject",
    "request_merge",
    "request_recategorise",
    "request_reroute",
    "request_bulk_assign",
    "request_plan",
    "request_feedback",
    "request_onsite",
    "request_urge",
    "request_complain",
    "request_rate",
    "request_reopen",
    "sweep_deadlines",
    "SweepResult",
    "open311_client_issue",
    "open311_client_for_key",
    "UnitKind",
    "AUTO_CLOSE_AFTER",
    "ESCALATE_INTERVAL",
    "MAX_DESCRIPTION",
    "MIN_DESCRIPTION",
    "REOPEN_WINDOW",
    "STAFF_CHANNELS",
    "URGE_INTERVAL",
]
