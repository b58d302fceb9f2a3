"""How a quarter's scores are computed from the records (never typed in).

For each property company serving a community of the street (a building of the
community names it as ``property_company``), over the quarter's days:

* **居民诉求评价** (rating): the mean rating (1–5) of the requests created in the
  quarter that the company handled (accountable unit ``owner_org``, else the current
  ``assignee_org``), mapped to 0–100 as (mean − 1) ÷ 4 × 100; n = ratings;
* **满意度测评·物业服务** (survey): the share (%) of answers 4 or 5 (满意/非常满意) on
  the 物业服务 row of the monthly satisfaction survey, for answers submitted in the
  quarter; an answer counts for the company of the building it names, or — without a
  building — for the community's only company (dropped if there are several);
* **诉求按时办结率** (ontime): resolved on time ÷ resolved (with a known deadline);
* **诉求办结率** (resolution): resolved or closed ÷ all such requests (rejected and
  merged ones are not counted);
* **社区检查合格率** (inspection): items passed ÷ items checked in the quarter's
  inspections of the company's buildings.

A part without data is left out and the other weights are scaled up to 100 %. A
score needs ``min_sample`` residents' evaluations (ratings + survey answers) and at
least one staff record (a request or an inspection); otherwise it is "样本不足", not
ranked. Ranks: higher score first, equal scores share a rank (1, 2, 2, 4). Red list:
ranked within the top ``red_percent`` % (rounded up) and at least ``red_min_score``.
Black list: within the bottom ``black_percent`` % (rounded up; ties at the cut all
included) and below ``black_below``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models.functions import Coalesce

from linli.communities.models import Building, OrgUnit
from linli.propertyco.models import COMPONENT_KEYS, Criteria, Inspection
from linli.propertyco.quarters import Quarter

SURVEY_ROW_LABEL = "物业服务"
TWO = Decimal("0.01")


def q2(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class Row:
    community_id: int
    company_id: int
    rating_sum: int = 0
    rating_n: int = 0
    survey_good: int = 0
    survey_n: int = 0
    ontime_yes: int = 0
    ontime_n: int = 0
    resolved: int = 0
    request_n: int = 0
    items_passed: int = 0
    items_total: int = 0
    inspection_n: int = 0
    request_ids: list[int] = field(default_factory=list)
    inspection_ids: list[int] = field(default_factory=list)
    score: Decimal | None = None
    rank: int | None = None
    listing: str = ""

    # the parts on 0–100 (None: no data)
    def parts(self) -> dict[str, Decimal | None]:
        return {
            "rating": q2((self.rating_sum / self.rating_n - 1) * 25) if self.rating_n else None,
            "survey": q2(100 * self.survey_good / self.survey_n) if self.survey_n else None,
            "ontime": q2(100 * self.ontime_yes / self.ontime_n) if self.ontime_n else None,
            "resolution": q2(100 * self.resolved / self.request_n) if self.request_n else None,
            "inspection": (
                q2(100 * self.items_passed / self.items_total) if self.items_total else None
            ),
        }

    @property
    def rating_avg(self) -> Decimal | None:
        return q2(self.rating_sum / self.rating_n) if self.rating_n else None


def weighted(parts: dict[str, Decimal | None], weights: dict[str, int]) -> Decimal | None:
    present = [(k, v) for k, v in parts.items() if v is not None and weights.get(k, 0) > 0]
    total_w = sum(weights[k] for k, _v in present)
    if not total_w:
        return None
    return q2(sum(Decimal(weights[k]) * v for k, v in present) / Decimal(total_w))


def communities_of(street: OrgUnit) -> list[int]:
    return list(
        OrgUnit.objects.filter(kind="community", path__startswith=street.path).values_list(
            "pk", flat=True
        )
    )


def compute(street: OrgUnit, quarter: Quarter, criteria: Criteria) -> list[Row]:
    from linli.requests.models import ServiceRequest
    from linli.surveys.models import Answer, Question

    cids = communities_of(street)
    start, end = quarter.bounds()
    rows: dict[tuple[int, int], Row] = {}

    def row(cid: int, company: int) -> Row:
        key = (cid, company)
        if key not in rows:
            rows[key] = Row(cid, company)
        return rows[key]

    # Who serves where: the buildings' companies.
    companies_in: dict[int, set[int]] = defaultdict(set)
    building_company: dict[int, int] = {}
    for bid, cid, org in Building.objects.filter(
        community_id__in=cids,
        property_company__isnull=False,
        property_company__kind="property",
    ).values_list("pk", "community_id", "property_company_id"):
        companies_in[cid].add(org)
        building_company[bid] = org
        row(cid, org)

    # Requests the company handled.
    reqs = (
        ServiceRequest.objects.filter(
            community_id__in=cids, created_at__gte=start, created_at__lt=end
        )
        .exclude(status__in=["rejected", "merged"])
        .annotate(org=Coalesce("owner_org_id", "assignee_org_id"))
        .filter(org__isnull=False)
        .values_list("pk", "community_id", "org", "status", "rating", "resolved_on_time")
    )
    for pk, cid, org, status, rating, on_time in reqs.order_by("pk"):
        if org not in companies_in.get(cid, ()):
            continue  # a department's request, or a company no longer serving here
        r = row(cid, org)
        r.request_n += 1
        r.request_ids.append(pk)
        if status in ("resolved", "closed"):
            r.resolved += 1
        if on_time is not None:
            r.ontime_n += 1
            r.ontime_yes += int(bool(on_time))
        if rating is not None:
            r.rating_n += 1
            r.rating_sum += int(rating)

    # The monthly survey's 物业服务 row.
    for qid, cid, q_rows in Question.objects.filter(
        community_id__in=cids, survey__kind="satisfaction", kind="matrix"
    ).values_list("pk", "community_id", "rows"):
        labels = [str(x) for x in (q_rows or [])]
        if SURVEY_ROW_LABEL not in labels:
            continue
        row_no = labels.index(SURVEY_ROW_LABEL) + 1
        only = next(iter(companies_in[cid])) if len(companies_in.get(cid, ())) == 1 else None
        answers = Answer.objects.filter(
            community_id=cid,
            question_id=qid,
            row=row_no,
            option__isnull=False,
            response__submitted_on__gte=quarter.first_day,
            response__submitted_on__lte=quarter.last_day,
        ).values_list("option", "response__building_id")
        for option, bid in answers:
            company = building_company.get(bid) if bid else only
            if company is None or option is None:
                continue
            r = row(cid, company)
            r.survey_n += 1
            r.survey_good += int(int(option) >= 4)

    # Inspections.
    for pk, cid, org, passed, total in (
        Inspection.objects.filter(
            community_id__in=cids,
            inspected_on__gte=quarter.first_day,
            inspected_on__lte=quarter.last_day,
        )
        .order_by("pk")
        .values_list("pk", "community_id", "company_id", "passed", "total")
    ):
        r = row(cid, org)
        r.inspection_n += 1
        r.inspection_ids.append(pk)
        r.items_passed += passed
        r.items_total += total

    out = sorted(rows.values(), key=lambda r: (r.community_id, r.company_id))
    weights = criteria.weights
    for r in out:
        enough = (r.rating_n + r.survey_n) >= criteria.min_sample and (
            r.request_n + r.inspection_n
        ) > 0
        r.score = weighted(r.parts(), weights) if enough else None
    rank_and_list(out, criteria)
    return out


def rank_and_list(rows: list[Row], criteria: Criteria) -> None:
    """Competition ranking and the red/black rule (see the module docstring)."""
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: -(r.score or 0))
    n = len(ranked)
    prev_score: Decimal | None = None
    prev_rank = 0
    for i, r in enumerate(ranked, start=1):
        if r.score != prev_score:
            prev_rank = i
        r.rank = prev_rank
        prev_score = r.score
    if not n:
        return
    red_k = math.ceil(n * criteria.red_percent / 100)
    black_k = math.ceil(n * criteria.black_percent / 100)
    red_cut = ranked[red_k - 1].score if red_k else None
    black_cut = ranked[n - black_k].score if black_k else None
    for r in ranked:
        assert r.score is not None
        if red_cut is not None and r.score >= red_cut and r.score >= criteria.red_min_score:
            r.listing = "red"
        elif black_cut is not None and r.score <= black_cut and r.score < criteria.black_below:
            r.listing = "black"


__all__ = ["COMPONENT_KEYS", "Row", "compute", "rank_and_list", "weighted"]
