"""Every write of the voting station, one module per aggregate:

* :mod:`.ballots` — create, and open / close / cancel through the state machine
  (``linli/voting/states.py``);
* :mod:`.votes` — online votes (cast, change, idempotent replay);
* :mod:`.paper` — paper votes entered by two staff members;
* :mod:`.proxies` — written proxies (书面委托);
* :mod:`.ratification` — 事后追认 after close.

Concurrency: one vote per voter is the unique key ``vote_one_per_voter``; a second
concurrent insert inserts nothing (``ON CONFLICT DO NOTHING``) and is reported as
"已投过票". Closing vs. a late vote: every vote write ends with the ballot recheck,
which holds ``FOR KEY SHARE`` on the ballot row until commit; closing takes
``FOR UPDATE`` on that row, so it waits for every vote in flight, and votes after the
close see "closed" and roll back. Nothing is counted that the audit log does not hold.

``from linli.voting.services import X`` keeps working for every public name.
"""

from linli.voting.services._common import (
    ADULT_AGE,
    HOUSEHOLD_ELIGIBILITY,
    YES_NO_OPTIONS,
    CastResult,
    _not_eligible,
    co_owner_refusal,
    normalise_receipt,
    receipt_for,
    receipt_hash,
    voter_for,
    voter_tag,
    voters_for,
)
from linli.voting.services.ballots import (
    ballot_cancel,
    ballot_close,
    ballot_create,
    ballot_get,
    ballot_open,
    owners_roll,
    roll_preview,
    roll_preview_count,
)
from linli.voting.services.owners import representative_set
from linli.voting.services.paper import paper_vote_record
from linli.voting.services.proxies import proxy_grant, proxy_revoke
from linli.voting.services.ratification import (
    ratification,
    ratification_deadline,
    ratification_record,
)
from linli.voting.services.votes import vote_cast

__all__ = [
    "ADULT_AGE",
    "HOUSEHOLD_ELIGIBILITY",
    "YES_NO_OPTIONS",
    "CastResult",
    "_not_eligible",
    "ballot_cancel",
    "ballot_close",
    "ballot_create",
    "ballot_get",
    "ballot_open",
    "co_owner_refusal",
    "owners_roll",
    "roll_preview",
    "normalise_receipt",
    "paper_vote_record",
    "proxy_grant",
    "proxy_revoke",
    "ratification",
    "ratification_deadline",
    "ratification_record",
    "receipt_for",
    "representative_set",
    "roll_preview_count",
    "receipt_hash",
    "vote_cast",
    "voter_for",
    "voter_tag",
    "voters_for",
]
