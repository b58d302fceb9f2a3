"""Reads of the 红黑榜, each for a viewer.

Published quarters and the register are public (company names and figures only).
Unpublished quarters are seen by who runs the street; evidence (which requests and
inspections a score rests on) by who runs the street, the community's staff and the
company itself. "Not found" and "not allowed" look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from linli.communities.models import Organisation, OrgUnit
from linli.core.errors import NotFound
from linli.propertyco.models import (
    ACTIVE_ENTRY,
    Board,
    BoardStatus,
    Criteria,
    Inspection,
    RegisterEntry,
    Score,
)
from linli.propertyco.permissions import (
    community_staff_ids,
    company_ids,
    inspector_community_ids,
    runs_street,
    street_ids,
)
from linli.propertyco.quarters import Quarter, today


@dataclass(frozen=True)
class BoardRow:
    """One line of a quarter's board (what the assessment dashboards show)."""

    score_id: int
    company_id: int
    company: str
    community_id: int
    community: str
    street: str
    score: Decimal | None
    rank: int | None
    list: str | None  # "red" | "black" | None
    criteria_version: int
    published: bool


def criteria_current() -> Criteria | None:
    return Criteria.objects.order_by("-version").first()


def criteria_all() -> list[Criteria]:
    return list(Criteria.objects.order_by("-version"))


def _visible_boards(viewer: Any) -> Q:
    """Published boards, plus unpublished ones of the streets the viewer runs."""
    q = Q(board__status=BoardStatus.PUBLISHED)
    streets = street_ids(viewer)
    if streets is None:
        return Q()
    if streets:
        q |= Q(board__street_id__in=streets)
    return q


def quarter_board(*, viewer: Any, unit: OrgUnit, quarter: Quarter | str) -> list[BoardRow]:
    """The scores of ``quarter`` for the communities at or under ``unit`` (a street, a
    community, or above), best first within each street. Anonymous viewers and
    everyone else see published quarters; a street's own officers also see its
    computed-but-unpublished quarter."""
    q = Quarter.parse(quarter)
    scores = (
        Score.objects.filter(
            _visible_boards(viewer),
            board__year=q.year,
            board__quarter=q.q,
            community__path__startswith=unit.path,
        )
        .select_related("company", "community", "board__street", "board__criteria")
        .order_by("board__street__path", "rank", "community__path", "company__name")
    )
    return [
        BoardRow(
            score_id=s.pk,
            company_id=s.company_id,
            company=s.company.name,
            community_id=s.community_id,
            community=s.community.name,
            street=s.board.street.name,
            score=s.score,
            rank=s.rank,
            list=s.listing or None,
            criteria_version=s.board.criteria.version,
            published=s.board.status == BoardStatus.PUBLISHED,
        )
        for s in _nulls_last(scores)
    ]


def _nulls_last(scores: QuerySet[Score]) -> list[Score]:
    rows = list(scores)
    return [s for s in rows if s.rank is not None] + [s for s in rows if s.rank is None]


def board_quarters(*, viewer: Any, unit: OrgUnit) -> list[Quarter]:
    """Quarters that have a board visible to ``viewer`` for ``unit``'s communities."""
    pairs = (
        Score.objects.filter(_visible_boards(viewer), community__path__startswith=unit.path)
        .values_list("board__year", "board__quarter")
        .distinct()
    )
    return sorted({Quarter(y, q) for y, q in pairs}, reverse=True)


def board_criteria(*, unit: OrgUnit, quarter: Quarter) -> list[Criteria]:
    """The criteria versions behind ``unit``'s published boards of ``quarter``."""
    return list(
        Criteria.objects.filter(
            boards__year=quarter.year,
            boards__quarter=quarter.q,
            boards__status=BoardStatus.PUBLISHED,
            boards__scores__community__path__startswith=unit.path,
        )
        .distinct()
        .order_by("-version")
    )


def public_units() -> list[OrgUnit]:
    """Streets and communities that have a published board (the public page's menu)."""
    paths = set(
        Score.objects.filter(board__status=BoardStatus.PUBLISHED).values_list(
            "community__path", flat=True
        )
    )
    ids = {int(p.strip("/").split("/")[-1]) for p in paths} | {
        int(p.strip("/").split("/")[-2]) for p in paths
    }
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))


def boards_for(*, viewer: Any) -> list[Board]:
    """The boards of the streets ``viewer`` runs (staff page)."""
    streets = street_ids(viewer)
    qs = Board.objects.select_related("street", "criteria").order_by(
        "-year", "-quarter", "street__path"
    )
    if streets is not None:
        qs = qs.filter(street_id__in=streets)
    return list(qs[:100])


def runnable_streets(*, viewer: Any) -> list[OrgUnit]:
    streets = street_ids(viewer)
    qs = OrgUnit.objects.filter(kind="street").order_by("path")
    if streets is not None:
        qs = qs.filter(pk__in=streets)
    return list(qs)


def board_for(*, viewer: Any, pk: int) -> Board:
    """A board for its staff page: the street's officers (any state); community staff
    and property staff only once published (their own rows, see :func:`scores_of`)."""
    board = Board.objects.select_related("street", "criteria").filter(pk=pk).first()
    if board is None:
        raise NotFound()
    if runs_street(viewer, board.street):
        return board
    if board.status == BoardStatus.PUBLISHED and scores_of(viewer=viewer, board=board):
        return board
    raise NotFound()


def scores_of(*, viewer: Any, board: Board) -> list[Score]:
    """The board's rows with their parts, as far as ``viewer`` may see them."""
    qs = (
        Score.objects.filter(board=board)
        .select_related("company", "community")
        .order_by("rank", "community__path", "company__name")
    )
    if not runs_street(viewer, board.street):
        if board.status != BoardStatus.PUBLISHED:
            return []
        qs = qs.filter(
            Q(company_id__in=company_ids(viewer)) | Q(community_id__in=community_staff_ids(viewer))
        )
    return _nulls_last(qs)


def sees_evidence(viewer: Any, score: Score) -> bool:
    if runs_street(viewer, score.board.street):
        return True
    if score.board.status != BoardStatus.PUBLISHED:
        return False
    return score.company_id in company_ids(viewer) or score.community_id in community_staff_ids(
        viewer
    )


@dataclass(frozen=True)
class Evidence:
    score: Score
    requests: list[Any]
    inspections: list[Inspection]


def score_evidence(*, viewer: Any, pk: int) -> Evidence:
    """The requests and inspections behind one score (no reporter names: category,
    dates, status, on-time flag and rating only)."""
    from linli.requests.models import ServiceRequest

    score = (
        Score.objects.select_related("board__street", "board__criteria", "company", "community")
        .filter(pk=pk)
        .first()
    )
    if score is None or not sees_evidence(viewer, score):
        raise NotFound()
    from linli.requests.models import Status

    labels = dict(Status.choices)
    rows = list(
        ServiceRequest.objects.filter(community_id=score.community_id, pk__in=score.request_ids)
        .order_by("created_at")
        .values(
            "pk",
            "category__name",
            "created_at",
            "status",
            "resolved_on_time",
            "rating",
        )
    )
    requests = [{**r, "status_label": str(labels.get(r["status"], r["status"]))} for r in rows]
    inspections = list(
        Inspection.objects.filter(community_id=score.community_id, pk__in=score.inspection_ids)
        .select_related("building")
        .order_by("inspected_on")
    )
    return Evidence(score, requests, inspections)


def company_scores(*, viewer: Any) -> list[Score]:
    """Property staff: their companies' published scores, newest quarter first."""
    ids = company_ids(viewer)
    if not ids:
        return []
    return list(
        Score.objects.filter(company_id__in=ids, board__status=BoardStatus.PUBLISHED)
        .select_related("company", "community", "board__criteria")
        .order_by("-board__year", "-board__quarter", "community__path")[:200]
    )


def my_companies(*, viewer: Any) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=company_ids(viewer)).order_by("name"))


def inspections_for(*, viewer: Any, limit: int = 100) -> list[Inspection]:
    cids = inspector_community_ids(viewer) | community_staff_ids(viewer)
    q = Q(community_id__in=cids) | Q(company_id__in=company_ids(viewer))
    return list(
        Inspection.objects.filter(q)
        .select_related("building", "company", "community")
        .order_by("-inspected_on", "-pk")[:limit]
    )


def inspection_for(*, viewer: Any, pk: int) -> Inspection:
    ins = (
        Inspection.objects.select_related("building", "company", "community").filter(pk=pk).first()
    )
    if ins is None or not (
        ins.community_id in (inspector_community_ids(viewer) | community_staff_ids(viewer))
        or ins.company_id in company_ids(viewer)
        or runs_street(viewer, ins.community.parent)
    ):
        raise NotFound()
    return ins


def register(*, active_only: bool = False) -> list[RegisterEntry]:
    """The city-wide register (public): company, community, period, status."""
    qs = RegisterEntry.objects.select_related(
        "company", "community", "street", "first_score__board", "second_score__board"
    )
    if active_only:
        qs = qs.filter(status__in=ACTIVE_ENTRY, bars_until__gte=today())
    return list(qs.order_by("-listed_on", "-pk")[:500])


def entry_for(*, pk: int) -> RegisterEntry:
    entry = (
        RegisterEntry.objects.select_related(
            "company", "community", "street", "first_score__board", "second_score__board"
        )
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise NotFound()
    return entry


def is_barred(company: Organisation | int, on: date | None = None) -> bool:
    """Whether the company may not take part in a new tender on ``on`` (city-wide)."""
    cid = getattr(company, "pk", company)
    day = on or today()
    return RegisterEntry.objects.filter(
        company_id=cid, status__in=ACTIVE_ENTRY, listed_on__lte=day, bars_until__gte=day
    ).exists()


def dismissal_eligible(company: Organisation | int, community: OrgUnit | int) -> bool:
    """Whether the owners' committee of ``community`` may start the dismissal of
    ``company``: an active register entry for that pair (two consecutive black
    quarters there, not revoked on appeal)."""
    return RegisterEntry.objects.filter(
        company_id=getattr(company, "pk", company),
        community_id=getattr(community, "pk", community),
        status__in=ACTIVE_ENTRY,
    ).exists()


def entries_of_company(*, viewer: Any) -> list[RegisterEntry]:
    ids = company_ids(viewer)
    return [e for e in register() if e.company_id in ids]
