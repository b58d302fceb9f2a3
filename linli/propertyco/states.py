"""The 红黑榜's two state machines (:mod:`linli.core.transitions`).

* ``BOARD`` (a street's quarter): 已计算 → 已公布. Publishing is refused while a
  black-listed score has no evidence (no request and no inspection behind it).
  Recomputing is only possible before publication (a published quarter is history).
* ``ENTRY`` (the register): 已列入 → 申诉中 (the company, with a written reason) →
  维持 / 撤销 (a street officer of the street or the platform admin, with a reason).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from linli.core.errors import DomainError, ValidationFailed
from linli.core.transitions import Machine, predicate, transition
from linli.core.types import Actor
from linli.propertyco.models import Board, BoardStatus, EntryStatus, Listing, RegisterEntry
from linli.propertyco.permissions import is_entry_company_staff, runs_entry_street, runs_street


@predicate
def runs_board(user: Actor, board: Board) -> bool:
    return board is not None and runs_street(user, board.street)


def _black_has_evidence(actor: Actor, board: Board) -> DomainError | None:
    bare = [
        s
        for s in board.scores.filter(listing=Listing.BLACK).select_related("company")
        if not s.has_evidence
    ]
    if bare:
        return ValidationFailed(
            _("黑榜认定缺少证据：%(names)s 没有任何诉求或检查记录作为依据，不能公布。")
            % {"names": "、".join(s.company.name for s in bare)},
            code="no_evidence",
        )
    return None


BOARD: Machine[Board] = Machine(
    name="propertyco.board",
    model=Board,
    transitions=[
        transition(
            "publish",
            _l("公布"),
            [BoardStatus.COMPUTED],
            BoardStatus.PUBLISHED,
            who=runs_board,
            guard=_black_has_evidence,
            forbidden=_l("只有本街道的街道干部或平台管理员可以公布季度红黑榜。"),
        ),
    ],
    state_label=lambda b: str(b.get_status_display()),
)

ENTRY: Machine[RegisterEntry] = Machine(
    name="propertyco.entry",
    model=RegisterEntry,
    transitions=[
        transition(
            "appeal",
            _l("提出申诉"),
            [EntryStatus.LISTED],
            EntryStatus.APPEALED,
            who=is_entry_company_staff,
            reason_required=True,
            forbidden=_l("只有被列入名录的物业公司可以申诉。"),
        ),
        transition(
            "uphold",
            _l("驳回申诉"),
            [EntryStatus.APPEALED],
            EntryStatus.UPHELD,
            who=runs_entry_street,
            reason_required=True,
            forbidden=_l("只有本街道的街道干部或平台管理员可以复核申诉。"),
        ),
        transition(
            "revoke",
            _l("撤销列入"),
            [EntryStatus.APPEALED],
            EntryStatus.REVOKED,
            who=runs_entry_street,
            reason_required=True,
            forbidden=_l("只有本街道的街道干部或平台管理员可以复核申诉。"),
        ),
    ],
    state_label=lambda e: str(e.get_status_display()),
)

BOARD.add_perms("propertyco")
ENTRY.add_perms("propertyco")

__all__ = ["BOARD", "ENTRY", "runs_board"]
