"""The one place deliberation talks to the voting app (决议 step), so the topic's five
steps do not depend on the ballot's internals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from linli.deliberation.models import Topic
    from linli.voting.models import Ballot


@dataclass(frozen=True)
class Outcome:
    valid: bool
    passed: bool
    explanation: str


# Topic vote eligibility → the ballot's validity rule: a council decision needs ≥ 2/3
# of members; a community-wide consultation the 20 % online participation rule.
RULE_FOR_ELIGIBILITY = {
    "council": "members_two_thirds",
    "all_residents": "participation_20",
    "households": "households_75",
}


def open_ballot(
    *,
    actor: Any,
    topic: Topic,
    eligibility: str,
    voter_resident_ids: list[int] | None,
    opens_at: datetime,
    closes_at: datetime,
    secret: bool = False,
) -> Ballot:
    """Create the yes/no/abstain ballot for a topic and open it (roll frozen now)."""
    from linli.core.errors import ValidationFailed
    from linli.voting.services import ballot_create, ballot_open

    rule = RULE_FOR_ELIGIBILITY.get(eligibility)
    if rule is None:
        raise ValidationFailed(_("未知的表决范围。"), field="eligibility")
    ballot = ballot_create(
        actor=actor,
        community=topic.community,
        title=(_("议题表决：%(t)s") % {"t": topic.title})[:120],
        kind="yes_no_abstain",
        options=[str(_("同意")), str(_("反对")), str(_("弃权"))],
        eligibility=eligibility,
        validity_rule=rule,
        opens_at=opens_at,
        closes_at=closes_at,
        secret=secret,
        description=topic.description,
        voter_resident_ids=voter_resident_ids,
        source_type="deliberation.topic",
        source_id=str(topic.pk),
    )
    return ballot_open(actor=actor, ballot=ballot)


def is_closed(ballot: Ballot) -> bool:
    ballot.refresh_from_db(fields=["status"])
    return ballot.status == "closed"


def outcome(*, viewer: Any, ballot: Ballot) -> Outcome:
    from linli.voting.selectors import ballot_result

    r = ballot_result(viewer=viewer, ballot=ballot)
    return Outcome(valid=r.valid, passed=bool(r.valid and r.passed), explanation=r.explanation)
