"""Who may do what with a ballot (django-rules predicates).

Staff who run the community (community workers, the secretary, and anyone above them)
create, open, close ballots and enter paper votes and written proxies. Grid workers,
street officers and supervisors watch. Residents of the community see ballots once
they are open. Whether a resident may *vote* depends on the roll snapshotted when the
ballot opened, which the service checks against the database, not a predicate.
"""

from __future__ import annotations

from typing import Any

import rules

from linli.accounts.models import Role
from linli.accounts.scope import scope_of
from linli.communities.models import OrgUnit
from linli.voting.models import Ballot

MANAGE_ROLES = (Role.COMMUNITY_WORKER, Role.SECRETARY, Role.STREET_OFFICER)
WATCH_ROLES = (
    Role.BUILDING_LIAISON,
    Role.GRID_WORKER,
    Role.COMMUNITY_WORKER,
    Role.SECRETARY,
    Role.STREET_OFFICER,
    Role.SUPERVISOR,
)
PUBLIC_STATUSES = ("open", "closed")


@rules.predicate
def manages_community(user: Any, community: OrgUnit | None) -> bool:
    if community is None:
        return False
    return scope_of(user).covers(community.path, *MANAGE_ROLES)


@rules.predicate
def manages_ballot(user: Any, ballot: Ballot | None) -> bool:
    return ballot is not None and scope_of(user).covers(ballot.community.path, *MANAGE_ROLES)


@rules.predicate
def watches_ballot(user: Any, ballot: Ballot | None) -> bool:
    # community_ids_for also maps grid-level posts to their community.
    return ballot is not None and ballot.community_id in scope_of(user).community_ids_for(
        *WATCH_ROLES
    )


@rules.predicate
def is_community_resident(user: Any, ballot: Ballot | None) -> bool:
    return (
        ballot is not None
        and ballot.status in PUBLIC_STATUSES
        and scope_of(user).community_id == ballot.community_id
    )


@rules.predicate
def is_open(user: Any, ballot: Ballot | None) -> bool:
    return ballot is not None and ballot.status == Ballot.Status.OPEN


@rules.predicate
def is_draft(user: Any, ballot: Ballot | None) -> bool:
    return ballot is not None and ballot.status == Ballot.Status.DRAFT


@rules.predicate
def is_closed(user: Any, ballot: Ballot | None) -> bool:
    return ballot is not None and ballot.status == Ballot.Status.CLOSED


can_create_ballot = manages_community
can_view_ballot = manages_ballot | watches_ballot | is_community_resident
# Opening, closing and cancelling (status changes) are declared in
# linli/voting/states.py; their predicates and rules come from that table.
can_enter_paper_vote = manages_ballot & is_open
can_record_proxy = manages_ballot & is_open
can_record_ratification = manages_ballot & is_closed
# Owners' ballots: the co-owners' representative, from their written agreement.
can_set_representative = manages_ballot & is_open
# The owners' roll names owners and their units: organisers and watchers only.
can_view_roll = manages_ballot | watches_ballot
# Interim numbers of an open ballot are for the organisers; everyone with access sees
# the result once voting has closed.
can_view_result = (manages_ballot & (is_open | is_closed)) | (can_view_ballot & is_closed)

rules.add_perm("voting.add_ballot", can_create_ballot)
rules.add_perm("voting.view_ballot", can_view_ballot)
rules.add_perm("voting.enter_paper_vote", can_enter_paper_vote)
rules.add_perm("voting.record_proxy", can_record_proxy)
rules.add_perm("voting.view_result", can_view_result)
rules.add_perm("voting.set_representative", can_set_representative)
rules.add_perm("voting.view_roll", can_view_roll)
