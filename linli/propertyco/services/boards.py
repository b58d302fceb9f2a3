"""A street's quarter: compute the scores from the records, publish them, and put a
company black-listed in two consecutive quarters on the city-wide register."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import OrgUnit
from linli.core import audit
from linli.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row
from linli.propertyco import scoring
from linli.propertyco.models import (
    Board,
    BoardStatus,
    Criteria,
    EntryStatus,
    Listing,
    RegisterEntry,
    Score,
)
from linli.propertyco.permissions import can_run_board
from linli.propertyco.quarters import Quarter, plus_years, today
from linli.propertyco.services import _notify
from linli.propertyco.states import BOARD

BAR_YEARS = 3


def check_quarter(quarter: Quarter) -> None:
    """A quarter can be scored only once it has ended."""
    now = today()
    if quarter.first_day > now:
        raise ValidationFailed(
            _("%(quarter)s还没有开始，不能评分。") % {"quarter": quarter.label}, field="quarter"
        )
    if not quarter.ended(now):
        raise ValidationFailed(
            _("%(quarter)s尚未结束（%(last)s 结束），结束后才能评分。")
            % {"quarter": quarter.label, "last": quarter.last_day.isoformat()},
            field="quarter",
        )


def board_compute(*, actor: Actor, street: OrgUnit, quarter: Quarter | str) -> Board:
    """Compute (or, before publication, recompute) ``street``'s scores for an ended
    quarter with the latest criteria. Permission first: a street the actor does not
    run is refused before anything else is looked at."""
    if street is None or street.kind != "street" or not can_run_board(actor, street):
        raise PermissionDenied(_("您无权管理该街道的物业红黑榜（只能管理本街道）。"))
    q = Quarter.parse(quarter)
    check_quarter(q)
    criteria = Criteria.objects.order_by("-version").first()
    if criteria is None:
        raise Conflict(_("尚未发布评分标准，请平台管理员先发布。"), code="no_criteria")
    with governed_write(actor=actor, action="propertyco.board_computed", community_id=None) as w:
        board = Board(street=street, year=q.year, quarter=q.q, criteria=criteria)
        if not insert_or_skip(board):
            held = (
                Board.objects.filter(street=street, year=q.year, quarter=q.q)
                .values_list("pk", flat=True)
                .first()
            )
            board = lock_row(Board.objects.all(), held)
            if board.status == BoardStatus.PUBLISHED:
                raise Conflict(
                    _("%(quarter)s的红黑榜已公布，不能重新计算。") % {"quarter": q.label},
                    code="published",
                )
            Score.objects.filter(board=board).delete()
            board.criteria = criteria
        rows = scoring.compute(street, q, criteria)
        board.computed_at = timezone.now()
        board.computed_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]
        board.save()
        Score.objects.bulk_create(
            [
                Score(
                    community_id=r.community_id,
                    board=board,
                    company_id=r.company_id,
                    rating_avg=r.rating_avg,
                    rating_n=r.rating_n,
                    survey_rate=r.parts()["survey"],
                    survey_n=r.survey_n,
                    ontime_rate=r.parts()["ontime"],
                    ontime_n=r.ontime_n,
                    resolution_rate=r.parts()["resolution"],
                    request_n=r.request_n,
                    inspection_rate=r.parts()["inspection"],
                    inspection_n=r.inspection_n,
                    score=r.score,
                    rank=r.rank,
                    listing=r.listing,
                    request_ids=r.request_ids,
                    inspection_ids=r.inspection_ids,
                )
                for r in rows
            ]
        )
        w.target = board
        w.payload.update(
            {
                "street": street.pk,
                "quarter": str(q),
                "criteria": criteria.version,
                "rows": len(rows),
                "scored": sum(1 for r in rows if r.score is not None),
                "red": sum(1 for r in rows if r.listing == Listing.RED),
                "black": sum(1 for r in rows if r.listing == Listing.BLACK),
            }
        )
    return board


def _neighbour_black(board: Board, score: Score) -> Score | None:
    """The same company's black score in the same community in the quarter just
    before or just after ``board`` (published), if any."""
    q = Quarter(board.year, board.quarter)
    for other in (q.prev(), q.next()):
        hit = (
            Score.objects.filter(
                community_id=score.community_id,
                company_id=score.company_id,
                listing=Listing.BLACK,
                board__street_id=board.street_id,
                board__year=other.year,
                board__quarter=other.q,
                board__status=BoardStatus.PUBLISHED,
            )
            .select_related("board")
            .first()
        )
        if hit is not None:
            return hit
    return None


def evidence_of(*scores: Score) -> dict[str, Any]:
    return {
        "scores": [
            {
                "id": s.pk,
                "quarter": f"{s.board.year}Q{s.board.quarter}",
                "score": str(s.score),
                "rank": s.rank,
                "criteria": s.board.criteria.version,
            }
            for s in scores
        ],
        "request_ids": sorted({i for s in scores for i in s.request_ids}),
        "inspection_ids": sorted({i for s in scores for i in s.inspection_ids}),
    }


def register_list(w: Write, *, first: Score, second: Score) -> RegisterEntry | None:
    """Put ``second.company`` on the register for ``second.community`` (the two
    consecutive black quarters ``first`` → ``second``). Refused without evidence: both
    scores must rest on requests or inspections."""
    if first.listing != Listing.BLACK or second.listing != Listing.BLACK:
        raise ValidationFailed(_("列入不良名录须有连续两个季度的黑榜记录。"), code="no_evidence")
    if not (first.has_evidence and second.has_evidence):
        raise ValidationFailed(
            _("列入不良名录缺少证据：两个季度的黑榜得分都须有诉求或检查记录作为依据。"),
            code="no_evidence",
        )
    listed_on = today()
    first, second = sorted([first, second], key=lambda s: (s.board.year, s.board.quarter))
    entry = RegisterEntry(
        community_id=second.community_id,
        street_id=second.board.street_id,
        company_id=second.company_id,
        first_score=first,
        second_score=second,
        listed_on=listed_on,
        bars_until=plus_years(listed_on, BAR_YEARS),
        status=EntryStatus.LISTED,
        evidence=evidence_of(first, second),
    )
    if not insert_or_skip(entry):
        return None
    # The event belongs to the community whose owners' committee may now act (the
    # publishing write itself is the street's, with no tenant).
    audit.record(
        actor=w.actor if getattr(w.actor, "pk", None) else None,
        action="propertyco.register_listed",
        target=entry,
        community_id=entry.community_id,
        payload={
            "company": entry.company_id,
            "community": entry.community_id,
            "scores": [first.pk, second.pk],
            "bars_until": entry.bars_until.isoformat(),
            "dismissal_eligible": True,
        },
    )
    names = {"company": second.company.name, "until": entry.bars_until.isoformat()}
    _notify.notify(
        w,
        _notify.company_staff(entry),
        _(
            "贵公司连续两个季度列入黑榜，已列入全市物业服务企业不良名录，"
            "%(until)s 前不得参加新的物业招投标。如有异议，可书面申诉。"
        )
        % names,
    )
    _notify.notify(
        w,
        _notify.community_leads(entry),
        _("%(company)s连续两个季度列入黑榜，已列入不良名录；业主委员会可依法启动解聘程序。")
        % names,
    )
    return entry


def board_publish(*, actor: Actor, board: Board) -> list[RegisterEntry]:
    """Publish a computed quarter. Refused while a black-listed score has no evidence.
    Every black-listed company that was also black-listed in the adjacent quarter in
    the same community goes on the register in the same transaction; the entries
    created are returned."""
    created: list[RegisterEntry] = []

    def effects(row: Board, w: Write) -> None:
        row.published_at = timezone.now()
        row.published_by = actor if getattr(actor, "pk", None) else None  # type: ignore[assignment]
        # The row is published from here on, so the neighbour check sees it too.
        row.save()
        for s in row.scores.filter(listing=Listing.BLACK).select_related("board__criteria"):
            other = _neighbour_black(row, s)
            if other is None:
                continue
            other = Score.objects.select_related("board__criteria").get(pk=other.pk)
            entry = register_list(w, first=other, second=s)
            if entry is not None:
                created.append(entry)
        w.payload["listed"] = [e.pk for e in created]

    if board.pk is None:
        raise NotFound()
    try:
        BOARD.apply(actor=actor, obj=board, action="publish", effects=effects)
    except IntegrityError:
        raise Conflict(_("该季度正在由他人公布，请刷新后重试。")) from None
    return created
