"""需求-资源-服务匹配: rank volunteers, neighbours' offers, partner services and (through
registered providers) shared resources for one need, and say why.

Retrieval is indexed, never a scan of the pool in Python:

1. the need's building → the walking distance to every building of the street
   (``distances.distances_from``: one index range scan of precomputed rows);
2. each provider filters by category/skill and community in SQL (composite indexes)
   and, when the category has many candidates, by the nearest buildings first
   (``near_buildings``), with a LIMIT — a ring that widens to the whole street only
   when the near ring has too few;
3. the shortlist (tens of rows) gets its past ratings and credit levels in two
   grouped queries, and is scored here.

Score (0–100), each part kept as a reason shown to the people deciding:
category/skill match (40, or 15 when the category needs no particular skill),
walking distance (25 at the same building, falling to 0 at 1.5 km; 8 when unknown),
availability (15 when the wanted slot fits, 5 when unknown, 0 when it does not),
past ratings (0–15 from the mean rating; 6 with none yet) and credit level (A 1, AA 3,
AAA 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.cache import cache
from django.db.models import Avg, Count, F, FloatField, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.communities.models import Resident
from linli.ledger.models import Account, AccountKind, Currency, LedgerSettings
from linli.mutualaid import distances
from linli.mutualaid.categories import NeedCategory, skills_for
from linli.mutualaid.distances import NEAR_COUNT
from linli.mutualaid.models import (
    Match,
    Need,
    Offer,
    OfferStatus,
    PartnerOffering,
    PartnerStatus,
)
from linli.mutualaid.providers import Candidate, NeedQuery, collect, register_provider
from linli.volunteers.models import SkillCategory, VolunteerProfile, VolunteerSkill

W_CATEGORY = 40
W_CATEGORY_GENERIC = 15
W_DISTANCE = 25
FAR_METRES = 1500
W_DISTANCE_UNKNOWN = 8
W_AVAILABLE = 15
W_AVAILABLE_UNKNOWN = 5
W_RATING = 15
W_RATING_NONE = 6
LEVEL_BONUS = {"A": 1, "AA": 3, "AAA": 5}
# How many candidates each provider returns; the ranking picks the top few from these.
SHORTLIST = 30


# --------------------------------------------------------------------------- slots


def slot_of(when: dt.datetime) -> str:
    """The volunteers.Slot a moment falls in (Beijing wall-clock time)."""
    local = timezone.localtime(when)
    weekend = local.weekday() >= 5
    if local.hour < 12:
        return "weekend_am" if weekend else "weekday_am"
    if weekend:
        return "weekend_pm"
    return "weekday_pm" if local.hour < 18 else "weekday_eve"


def query_for(need: Need, *, street_id: int | None, dist: dict[int, int]) -> NeedQuery:
    communities = distances.street_community_ids(street_id, need.community_id)
    return NeedQuery(
        need_id=need.pk,
        community_id=need.community_id,
        street_id=street_id,
        category=need.category,
        community_ids=tuple(communities),
        skills=skills_for(need.category),
        building_id=need.building_id,
        near_buildings=distances.nearest(dist),
        wanted_from=need.wanted_from,
        wanted_until=need.wanted_until,
        slots=(slot_of(need.wanted_from),) if need.wanted_from else (),
        limit=SHORTLIST,
    )


def _communities(q: NeedQuery) -> list[int]:
    return list(q.community_ids or (q.community_id,))


# Rings of nearest buildings searched in turn: a small ring keeps the join selective
# (the planner walks the building → household → resident indexes); the next ring and
# then the whole street are asked only when the previous found too few.
RINGS = (10, NEAR_COUNT)


def _ringed(rows_for: Any, q: NeedQuery, sizes: tuple[int, ...] = RINGS) -> list[Any]:
    """Search the nearest buildings first; widen ring by ring, then to the street."""
    rows: list[Any] = []
    seen: set[Any] = set()
    rings: list[tuple[int, ...] | None] = [q.near_buildings[:n] for n in sizes if q.near_buildings]
    for ring in [*rings, None]:
        if ring is not None and not ring:
            continue
        for r in rows_for(ring):
            if r["pk"] not in seen:
                seen.add(r["pk"])
                rows.append(r)
        if len(rows) >= q.limit:
            break
    return rows[: q.limit]


# --------------------------------------------------------------------------- providers


def volunteers_provider(q: NeedQuery) -> Iterable[Candidate]:
    """Listed, active volunteers of the street's skills pool with a matching skill (any
    volunteer when the category needs no skill)."""
    communities = _communities(q)
    labels = dict(SkillCategory.choices)

    def rows_for(buildings: tuple[int, ...] | None) -> list[dict[str, Any]]:
        if q.skills:
            qs = VolunteerSkill.objects.filter(
                category__in=q.skills,
                community_id__in=communities,
                profile__is_active=True,
                profile__listed=True,
            )
            if buildings is not None:
                qs = qs.filter(profile__resident__household__building_id__in=buildings)
            return list(
                qs.values(  # type: ignore[arg-type]
                    "category",
                    pk=F("profile_id"),
                    resident_id=F("profile__resident_id"),
                    cid=F("community_id"),
                    building_id=F("profile__resident__household__building_id"),
                    availability=F("profile__availability"),
                    user_id=F("profile__resident__user_id"),
                )[: q.limit]
            )
        qp = VolunteerProfile.objects.filter(
            community_id__in=communities, is_active=True, listed=True
        )
        if buildings is not None:
            qp = qp.filter(resident__household__building_id__in=buildings)
        return [
            {**r, "category": ""}
            for r in qp.values(
                "pk",
                "resident_id",
                "availability",
                cid=F("community_id"),
                building_id=F("resident__household__building_id"),
                user_id=F("resident__user_id"),
            )[: q.limit]
        ]

    for r in _ringed(rows_for, q):
        skill = r["category"]
        yield Candidate(
            kind="volunteer",
            id=int(r["pk"]),
            title=str(labels.get(skill, _("志愿者"))),
            community_id=int(r["cid"]),
            categories=(skill,) if skill else (),
            building_id=r["building_id"],
            slots=tuple(r["availability"] or ()),
            owner_user_id=r["user_id"],
            extra={"resident_id": str(r["resident_id"])},
        )


def offers_provider(q: NeedQuery) -> Iterable[Candidate]:
    communities = _communities(q)

    def rows_for(buildings: tuple[int, ...] | None) -> list[dict[str, Any]]:
        # .order_by(): no sort needed, any qualifying rows will do (ranked here).
        qs = Offer.objects.filter(
            category=q.category, status=OfferStatus.ACTIVE, community_id__in=communities
        ).order_by()
        if buildings is not None:
            qs = qs.filter(building_id__in=buildings)
        return list(
            qs.values(  # type: ignore[arg-type]
                "pk",
                "title",
                "building_id",
                "slots",
                "resident_id",
                cid=F("community_id"),
                user_id=F("resident__user_id"),
            )[: q.limit]
        )

    # Offers are indexed by (category, building): the wide ring stays selective.
    for r in _ringed(rows_for, q, (NEAR_COUNT,)):
        yield Candidate(
            kind="offer",
            id=int(r["pk"]),
            title=r["title"],
            community_id=int(r["cid"]),
            categories=(q.category,),
            building_id=r["building_id"],
            slots=tuple(r["slots"] or ()),
            owner_user_id=r["user_id"],
            extra={"resident_id": str(r["resident_id"])},
        )


def partners_provider(q: NeedQuery) -> Iterable[Candidate]:
    """Active offerings of active partners of the street answering the category."""
    rows = (
        PartnerOffering.objects.filter(
            category=q.category,
            is_active=True,
            community_id__in=_communities(q),
            partner__status=PartnerStatus.ACTIVE,
        )
        .order_by()
        .values(
            "pk",
            "title",
            "partner_id",
            cid=F("community_id"),
            building_id=F("partner__building_id"),
            location=F("partner__address"),
            org=F("partner__organisation__name"),
        )[: q.limit]
    )
    for r in rows:
        yield Candidate(
            kind="partner_service",
            id=int(r["pk"]),
            title=f"{r['org']} · {r['title']}",
            community_id=int(r["cid"]),
            categories=(q.category,),
            building_id=r["building_id"],
            location=r["location"] or "",
            extra={"partner_id": str(r["partner_id"])},
        )


def register_builtin() -> None:
    register_provider("volunteer", volunteers_provider)
    register_provider("offer", offers_provider)
    register_provider("partner_service", partners_provider)


# --------------------------------------------------------------------------- ranking


@dataclass
class Suggestion:
    candidate: Candidate
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
    metres: int | None = None

    @property
    def key(self) -> str:
        return f"{self.candidate.kind}:{self.candidate.id}"


def reason_text(r: dict[str, Any]) -> str:
    """A stored reason in the viewer's language."""
    code, a = r.get("code"), r.get("args") or {}
    cats = dict(NeedCategory.choices) | dict(SkillCategory.choices)
    if code == "skill":
        return _("技能对口：%(s)s") % {"s": cats.get(a.get("skill", ""), a.get("skill", ""))}
    if code == "category":
        return _("类别一致：%(s)s") % {"s": cats.get(a.get("category", ""), "")}
    if code == "generic":
        return _("无需特别技能，热心邻居即可")
    if code == "same_building":
        return _("同一楼栋")
    if code == "distance":
        return _("步行约 %(m)s 米") % {"m": a.get("m")}
    if code == "distance_unknown":
        return _("距离未知")
    if code == "slot_fits":
        return _("时段合适")
    if code == "slot_unknown":
        return _("时段待确认")
    if code == "slot_misfit":
        return _("时段不太合适")
    if code == "rated":
        return _("以往评价 %(r)s 分（%(n)s 次）") % {"r": a.get("r"), "n": a.get("n")}
    if code == "unrated":
        return _("暂无评价")
    if code == "level":
        return _("信用等级 %(l)s") % {"l": a.get("l")}
    return str(code)


def _reason(code: str, points: float, **args: Any) -> dict[str, Any]:
    return {"code": code, "points": round(points, 1), "args": args}


def score(c: Candidate, q: NeedQuery, dist: dict[int, int]) -> Suggestion:
    reasons: list[dict[str, Any]] = []
    total = 0.0
    # Category / skill.
    skill = next((s for s in c.categories if s in q.skills), None)
    if skill:
        reasons.append(_reason("skill", W_CATEGORY, skill=skill))
        total += W_CATEGORY
    elif q.category in c.categories:
        reasons.append(_reason("category", W_CATEGORY, category=q.category))
        total += W_CATEGORY
    else:
        reasons.append(_reason("generic", W_CATEGORY_GENERIC))
        total += W_CATEGORY_GENERIC
    # Walking distance.
    metres = dist.get(c.building_id) if c.building_id is not None else None
    if metres is None:
        reasons.append(_reason("distance_unknown", W_DISTANCE_UNKNOWN))
        total += W_DISTANCE_UNKNOWN
    else:
        pts = W_DISTANCE * max(0.0, 1 - metres / FAR_METRES)
        if metres == 0:
            reasons.append(_reason("same_building", pts))
        else:
            reasons.append(_reason("distance", pts, m=metres))
        total += pts
    # Availability.
    if c.available is True or (q.slots and set(q.slots) & set(c.slots)):
        reasons.append(_reason("slot_fits", W_AVAILABLE))
        total += W_AVAILABLE
    elif c.available is False or (q.slots and c.slots):
        reasons.append(_reason("slot_misfit", 0))
    else:
        reasons.append(_reason("slot_unknown", W_AVAILABLE_UNKNOWN))
        total += W_AVAILABLE_UNKNOWN
    # Past ratings and credit level.
    if c.rating is not None and c.rating_count:
        pts = W_RATING * (c.rating - 1) / 4
        reasons.append(_reason("rated", pts, r=round(c.rating, 1), n=c.rating_count))
        total += pts
    else:
        reasons.append(_reason("unrated", W_RATING_NONE))
        total += W_RATING_NONE
    bonus = LEVEL_BONUS.get(c.credit_level, 0)
    if bonus:
        reasons.append(_reason("level", bonus, l=c.credit_level))
        total += bonus
    return Suggestion(candidate=c, score=round(total, 1), reasons=reasons, metres=metres)


def _enrich(cands: list[Candidate]) -> list[Candidate]:
    """Past ratings and credit levels of the helping residents: one grouped query
    (ratings and lifetime points as subqueries per resident); level thresholds per
    community come from the ledger settings (cached)."""
    rids = {int(c.extra["resident_id"]) for c in cands if "resident_id" in c.extra}
    if not rids:
        return cands
    rated = Match.objects.filter(helper_id=OuterRef("pk"), rating__isnull=False).order_by()
    points = Account.objects.filter(
        resident_id=OuterRef("pk"), kind=AccountKind.RESIDENT, currency=Currency.POINTS
    )
    facts = {
        r["pk"]: r
        for r in Resident.objects.filter(pk__in=rids)
        .annotate(
            avg=Subquery(
                rated.values("helper_id").annotate(a=Avg("rating")).values("a")[:1],
                output_field=FloatField(),
            ),
            n=Subquery(rated.values("helper_id").annotate(c=Count("id")).values("c")[:1]),
            earned=Subquery(points.values("lifetime_earned")[:1]),
        )
        .values("pk", "community_id", "avg", "n", "earned")
    }
    out = []
    for c in cands:
        row = facts.get(int(c.extra.get("resident_id", 0) or 0))
        if row is None:
            out.append(c)
            continue
        a, aa, aaa = _levels(int(row["community_id"]))
        e = int(row["earned"] or 0)
        level = "AAA" if e >= aaa else "AA" if e >= aa else "A" if e >= a else ""
        avg = float(row["avg"]) if row["avg"] is not None else None
        out.append(replace(c, rating=avg, rating_count=int(row["n"] or 0), credit_level=level))
    return out


def _levels(community_id: int) -> tuple[int, int, int]:
    """The community's credit-level thresholds (A, AA, AAA), cached for a few minutes."""
    key = f"mutualaid:levels:{community_id}"
    got = cache.get(key)
    if got is None:
        s = LedgerSettings.objects.filter(community_id=community_id).first()
        got = (s.level_a, s.level_aa, s.level_aaa) if s else (100, 500, 2000)
        cache.set(key, got, 300)
    return (int(got[0]), int(got[1]), int(got[2]))


def suggest(
    need: Need,
    *,
    limit: int = 5,
    only: Iterable[str] | None = None,
    street_id: int | None = None,
    dist: dict[int, int] | None = None,
    exclude: set[tuple[str, int]] | None = None,
    kinds: set[str] | None = None,
) -> list[Suggestion]:
    """The top ``limit`` suggestions for ``need``, best first. ``only`` names the
    providers to ask (all when None), ``kinds`` the candidate kinds to keep;
    ``street_id``/``dist`` may be passed in by a caller that has them (the benchmark's
    batch); ``exclude`` lists (kind, id) already proposed — read here when not given."""
    if street_id is None:
        street_id = distances.street_of(need.community_id)
    if dist is None:
        dist = distances.distances_from(need.building_id)
    q = query_for(need, street_id=street_id, dist=dist)
    if exclude is None:
        # A candidate is put to a need once (declined ones are not suggested again).
        exclude = {
            (k, int(i))
            for k, i in Match.objects.filter(
                community_id=need.community_id, need_id=need.pk
            ).values_list("kind", "candidate_id")
        }
    requester = str(need.requester_id)
    cands = [
        c
        for c in collect(q, only=only)
        if (c.kind, c.id) not in exclude
        and c.extra.get("resident_id") != requester
        and (kinds is None or c.kind in kinds)
    ]
    # Shortlist on what costs nothing to know, then enrich only the shortlist.
    pre = sorted((score(c, q, dist) for c in cands), key=lambda s: -s.score)[: limit * 4]
    enriched = _enrich([s.candidate for s in pre])
    ranked = sorted(
        (score(c, q, dist) for c in enriched),
        key=lambda s: (-s.score, s.metres if s.metres is not None else 10**9, s.key),
    )
    return ranked[:limit]


def find(need: Need, kind: str, candidate_id: int) -> Suggestion | None:
    """The suggestion for one chosen candidate (re-ranked now, so its reasons are
    current); None when it no longer qualifies."""
    for s in suggest(need, limit=200, kinds={kind}, exclude=set()):
        if s.candidate.id == candidate_id:
            return s
    return None
