"""The "3+3" indicators (SPEC §8): their written definitions and the figures a month
of records gives for a set of communities.

Every indicator is a ratio of two counts taken from the records themselves (never
typed in). :func:`month_figures` reads one month for many communities with a fixed
number of grouped queries (not one per community), so a district's monthly snapshot
costs the same few statements whether it has 10 communities or 200.

The figures are stored on the snapshot; :mod:`linli.assessment.scoring` turns them
into indicator values and the composite score. A quarter adds the figures of its
months, so its rates are pooled, not averages of monthly rates.

Bump :data:`DEFINITIONS_VERSION` whenever a definition below changes: a snapshot
records the version it was computed under."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.requests.stats import day_start

DEFINITIONS_VERSION = "2026.11"

# A required disclosure counts as on time when published within this many days.
PUBLISH_WITHIN_DAYS = 3
# An entry whose effective time is this far before it was recorded is "back-dated".
BACKDATE_AFTER = timedelta(hours=24)
# SLA buckets (hours from report to resolution) for the distribution chart.
SLA_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 24),
    (24, 72),
    (72, 168),
    (168, 360),
    (360, None),
)
ADULT_AGE = 18


@dataclass(frozen=True)
class Definition:
    key: str
    group: str  # "outcome", "process" or "requests" (shown alongside, not weighted)
    name: str | Promise
    numerator: str | Promise
    denominator: str | Promise
    source: str | Promise
    num_key: str
    den_key: str


DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "satisfaction",
        "outcome",
        _("居民满意度"),
        _(
            "居民评价：诉求评价 4–5 星数 + 月度满意度调查中“满意/非常满意”（4–5 分）答卷数；"
            "专业评估与第三方测评的平均分另计，按权重合成"
        ),
        _("居民评价：已评价诉求数 + 月度满意度调查答卷数"),
        _("诉求评价（本月提交的诉求）、满意度调查（本月截止的问卷）、专业评估记录"),
        "sat_good",
        "sat_n",
    ),
    Definition(
        "participation",
        "outcome",
        _("居民参与率"),
        _(
            "本月至少参与一次的居民人数（投票、议事发言、志愿服务签到、填答问卷、提交诉求、"
            "参与预算投票，每人只计一次）"
        ),
        _("在册成年居民人数（18 周岁以上）"),
        _("投票站、议事厅、志愿服务、问卷、诉求、参与式预算"),
        "participants",
        "adults",
    ),
    Definition(
        "conflict",
        "outcome",
        _("矛盾化解率"),
        _("本月受理的调解案件中达成协议的件数 + 本月提交的邻里纠纷类诉求中已办结的件数"),
        _("本月受理的调解案件数 + 本月提交的邻里纠纷类诉求数"),
        _("人民调解案件、邻里纠纷类诉求"),
        "conflict_settled",
        "conflict_n",
    ),
    Definition(
        "awareness",
        "process",
        _("政策知晓率"),
        _("本月发布的公告中，发布范围内已阅读的居民人次"),
        _("本月发布的公告的发布范围居民人次之和"),
        _("公告已读回执"),
        "aware_read",
        "aware_audience",
    ),
    Definition(
        "normativity",
        "process",
        _("议事规范性"),
        _(
            "本月进入公示的议题中，依次走完提议、商议、审议、决议、公示五步，且议事会议按时"
            "发出通知、提前公布材料的议题数"
        ),
        _("本月进入公示的议题数"),
        _("议事厅议题流转记录、议事会议通知"),
        "topics_normative",
        "topics_done",
    ),
    Definition(
        "openness",
        "process",
        _("信息公开度"),
        _("应公开事项中按时公开的件数：决议后 3 日内公示的议题、会后 3 日内形成纪要的会议"),
        _("本月应公开事项总数（决议结束的议题、已召开的会议）"),
        _("议事厅议题与会议"),
        "disclosed_on_time",
        "disclosures_due",
    ),
    Definition(
        "response",
        "requests",
        _("诉求响应率"),
        _("按时响应的诉求数"),
        _("本月提交的诉求数"),
        _("诉求（接诉即办）"),
        "req_responded",
        "req_total",
    ),
    Definition(
        "on_time",
        "requests",
        _("诉求按时办结率"),
        _("按时办结的诉求数"),
        _("本月提交的诉求数"),
        _("诉求（接诉即办）"),
        "req_on_time",
        "req_total",
    ),
    Definition(
        "resolution",
        "requests",
        _("诉求解决率"),
        _("已办结的诉求数"),
        _("本月提交的诉求数"),
        _("诉求（接诉即办）"),
        "req_resolved",
        "req_total",
    ),
)
BY_KEY = {d.key: d for d in DEFINITIONS}
OUTCOME = tuple(d for d in DEFINITIONS if d.group == "outcome")
PROCESS = tuple(d for d in DEFINITIONS if d.group == "process")
REQUEST_RATES = tuple(d for d in DEFINITIONS if d.group == "requests")

# Every figure a snapshot stores (all integers).
FIGURES = (
    "req_total",
    "req_responded",
    "req_on_time",
    "req_resolved",
    "req_rated",
    "req_good",
    "survey_n",
    "survey_good",
    "sat_n",
    "sat_good",
    "expert_n",
    "expert_sum",
    "participants",
    "adults",
    "conflict_settled",
    "conflict_n",
    "aware_read",
    "aware_audience",
    "topics_normative",
    "topics_done",
    "disclosed_on_time",
    "disclosures_due",
    "integrity_n",
    "integrity_base",
)


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(m: date) -> date:
    return date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def month_range(m: date) -> tuple[datetime, datetime]:
    return day_start(m), day_start(next_month(m))


@dataclass
class MonthData:
    figures: dict[int, dict[str, int]]
    detail: dict[int, dict[str, Any]]


def month_figures(community_ids: Iterable[int], month: date) -> MonthData:
    """The figures and breakdowns of ``month`` for each community. Precondition: the
    request day rows are fresh (:func:`linli.requests.stats.refresh`)."""
    ids = sorted(set(community_ids))
    fig: dict[int, dict[str, int]] = {c: dict.fromkeys(FIGURES, 0) for c in ids}
    det: dict[int, dict[str, Any]] = {c: {} for c in ids}
    if not ids:
        return MonthData(fig, det)
    start, end = month_range(month)
    _requests(ids, month, fig, det)
    _surveys(ids, start, end, fig)
    _experts(ids, month, fig)
    _participation(ids, month, start, end, fig, det)
    _conflict(ids, start, end, fig)
    _awareness(ids, start, end, fig)
    _deliberation(ids, start, end, fig)
    _integrity(ids, start, end, fig)
    for c in ids:
        f = fig[c]
        f["sat_n"] = f["req_rated"] + f["survey_n"]
        f["sat_good"] = f["req_good"] + f["survey_good"]
    return MonthData(fig, det)


def _requests(
    ids: list[int], month: date, fig: dict[int, dict[str, int]], det: dict[int, dict[str, Any]]
) -> None:
    from linli.requests.models import ServiceRequest, Status
    from linli.requests.stats import RequestDayStat

    rows = (
        RequestDayStat.objects.filter(
            community_id__in=ids, day__gte=month, day__lt=next_month(month)
        )
        .values_list(
            "community_id",
            "category_id",
            "total",
            "responded",
            "on_time",
            "resolved",
            "rated",
            "good",
            "cycles",
        )
        .order_by()
    )
    cats: dict[int, dict[str, int]] = defaultdict(dict)
    sla: dict[int, list[int]] = {c: [0] * len(SLA_BUCKETS) for c in ids}
    for cid, cat, total, responded, on_time, resolved, rated, good, cycles in rows:
        f = fig[cid]
        f["req_total"] += total
        f["req_responded"] += responded
        f["req_on_time"] += on_time
        f["req_resolved"] += resolved
        f["req_rated"] += rated
        f["req_good"] += good
        key = str(cat)
        cats[cid][key] = cats[cid].get(key, 0) + total
        for secs in cycles or []:
            hours = secs / 3600
            for i, (lo, hi) in enumerate(SLA_BUCKETS):
                if hours >= lo and (hi is None or hours < hi):
                    sla[cid][i] += 1
                    break
    start, end = month_range(month)
    # Requests per building, for the heat view (merged duplicates left out, as above).
    per_building = (
        ServiceRequest.objects.filter(
            community_id__in=ids, created_at__gte=start, created_at__lt=end
        )
        .exclude(status=Status.MERGED)
        .filter(building__isnull=False)
        .values("community_id", "building_id")
        .annotate(
            n=Count("id"),
            late=Count("id", filter=Q(resolved_on_time=False) | Q(responded_on_time=False)),
            rated=Count("id", filter=Q(rating__isnull=False)),
            good=Count("id", filter=Q(rating__gte=4)),
        )
        .order_by()
    )
    buildings: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for r in per_building:
        buildings[r["community_id"]][str(r["building_id"])] = [
            r["n"],
            r["late"],
            r["rated"],
            r["good"],
        ]
    for c in ids:
        det[c]["categories"] = cats.get(c, {})
        det[c]["sla"] = sla[c]
        det[c]["buildings"] = buildings.get(c, {})


def _surveys(
    ids: list[int], start: datetime, end: datetime, fig: dict[int, dict[str, int]]
) -> None:
    """Monthly satisfaction surveys that closed in the month: answers to the first
    rating question, 4–5 counted as satisfied (the surveys app's own tallies)."""
    from linli.surveys.models import Question, Survey, SurveyStatus, Tally
    from linli.surveys.results import ANSWERED

    surveys = dict(
        Survey.objects.filter(
            community_id__in=ids,
            kind="satisfaction",
            status__in=[SurveyStatus.CLOSED, SurveyStatus.PUBLISHED],
            closes_at__gte=start,
            closes_at__lt=end,
        ).values_list("pk", "community_id")
    )
    if not surveys:
        return
    first_q: dict[int, int] = {}
    for sid, qid in (
        Question.objects.filter(survey_id__in=list(surveys), kind="rating")
        .order_by("survey_id", "position", "pk")
        .values_list("survey_id", "pk")
    ):
        first_q.setdefault(sid, qid)
    q_to_c = {qid: surveys[sid] for sid, qid in first_q.items()}
    for qid, option, n in (
        Tally.objects.filter(question_id__in=list(q_to_c), row=0)
        .values("question_id", "option")
        .annotate(n=Sum("n"))
        .values_list("question_id", "option", "n")
        .order_by()
    ):
        f = fig[q_to_c[qid]]
        if option == ANSWERED:
            f["survey_n"] += int(n or 0)
        elif option in (4, 5):
            f["survey_good"] += int(n or 0)


def _experts(ids: list[int], month: date, fig: dict[int, dict[str, int]]) -> None:
    from linli.assessment.models import ExpertScore

    for cid, n, total in (
        ExpertScore.objects.filter(community_id__in=ids, month=month)
        .values("community_id")
        .annotate(n=Count("id"), total=Sum("score"))
        .values_list("community_id", "n", "total")
        .order_by()
    ):
        fig[cid]["expert_n"] = int(n)
        fig[cid]["expert_sum"] = int(total or 0)


def _participation(
    ids: list[int],
    month: date,
    start: datetime,
    end: datetime,
    fig: dict[int, dict[str, int]],
    det: dict[int, dict[str, Any]],
) -> None:
    """Distinct residents who took part, by any of the six ways; adults on the roll
    (as it stands when the snapshot is taken: the roll keeps no history)."""
    from linli.communities.models import Resident
    from linli.deliberation.models import TopicComment
    from linli.projects.models import PBBallot
    from linli.requests.models import ServiceRequest
    from linli.surveys.models import Participation
    from linli.volunteers.models import SignUp
    from linli.voting.models import Vote

    sources = {
        "requests": ServiceRequest.objects.filter(
            community_id__in=ids,
            created_at__gte=start,
            created_at__lt=end,
            reporter_resident__isnull=False,
        ).values_list("community_id", "reporter_resident_id"),
        "votes": Vote.objects.filter(
            community_id__in=ids, created_at__gte=start, created_at__lt=end, cast_by__isnull=False
        ).values_list("community_id", "cast_by_id"),
        "deliberation": TopicComment.objects.filter(
            community_id__in=ids,
            created_at__gte=start,
            created_at__lt=end,
            resident__isnull=False,
        ).values_list("community_id", "resident_id"),
        "volunteering": SignUp.objects.filter(
            community_id__in=ids, checked_in_at__gte=start, checked_in_at__lt=end
        ).values_list("community_id", "resident_id"),
        "surveys": Participation.objects.filter(
            community_id__in=ids,
            answered_on__gte=month,
            answered_on__lt=next_month(month),
            resident__isnull=False,
        ).values_list("community_id", "resident_id"),
        "budgeting": PBBallot.objects.filter(
            community_id__in=ids, cast_at__gte=start, cast_at__lt=end
        ).values_list("community_id", "resident_id"),
    }
    ways: dict[int, dict[int, int]] = {c: {} for c in ids}
    by_source: dict[int, dict[str, int]] = {c: {} for c in ids}
    for name, qs in sources.items():
        seen: dict[int, set[int]] = defaultdict(set)
        for cid, rid in qs.distinct().order_by().iterator(chunk_size=5000):
            seen[cid].add(rid)
        for cid, rids in seen.items():
            by_source[cid][name] = len(rids)
            w = ways[cid]
            for rid in rids:
                w[rid] = w.get(rid, 0) + 1
    born_by = month.year - ADULT_AGE
    adults = dict(
        Resident.objects.filter(community_id__in=ids, is_active=True, birth_year__lte=born_by)
        .values("community_id")
        .annotate(n=Count("id"))
        .values_list("community_id", "n")
        .order_by()
    )
    registered = dict(
        Resident.objects.filter(
            community_id__in=ids, is_active=True, birth_year__lte=born_by, user__isnull=False
        )
        .values("community_id")
        .annotate(n=Count("id"))
        .values_list("community_id", "n")
        .order_by()
    )
    for c in ids:
        fig[c]["participants"] = len(ways[c])
        fig[c]["adults"] = int(adults.get(c, 0))
        det[c]["funnel"] = [
            int(adults.get(c, 0)),
            int(registered.get(c, 0)),
            len(ways[c]),
            sum(1 for n in ways[c].values() if n >= 2),
        ]
        det[c]["participation_by"] = by_source[c]


def _conflict(
    ids: list[int], start: datetime, end: datetime, fig: dict[int, dict[str, int]]
) -> None:
    from linli.mediation.models import Case, Outcome
    from linli.requests.models import ServiceRequest, Status

    for cid, n, settled in (
        Case.objects.filter(community_id__in=ids, opened_at__gte=start, opened_at__lt=end)
        .values("community_id")
        .annotate(n=Count("id"), settled=Count("id", filter=Q(outcome=Outcome.AGREEMENT)))
        .values_list("community_id", "n", "settled")
        .order_by()
    ):
        fig[cid]["conflict_n"] += int(n)
        fig[cid]["conflict_settled"] += int(settled)
    for cid, n, settled in (
        ServiceRequest.objects.filter(
            community_id__in=ids,
            created_at__gte=start,
            created_at__lt=end,
            category__parent__code="dispute",
        )
        .exclude(status=Status.MERGED)
        .values("community_id")
        .annotate(n=Count("id"), settled=Count("id", filter=Q(resolved_at__isnull=False)))
        .values_list("community_id", "n", "settled")
        .order_by()
    ):
        fig[cid]["conflict_n"] += int(n)
        fig[cid]["conflict_settled"] += int(settled)


def _awareness(
    ids: list[int], start: datetime, end: datetime, fig: dict[int, dict[str, int]]
) -> None:
    """知晓率 over the month's notices, each counted by the notices app's own
    definition (audience residents who opened it / audience size)."""
    from linli.notices.models import Notice
    from linli.notices.selectors import notice_awareness

    notices = Notice.objects.filter(
        community_id__in=ids,
        status=Notice.Status.PUBLISHED,
        publish_at__gte=start,
        publish_at__lt=end,
    ).order_by("pk")
    for n in notices:
        a = notice_awareness(n)
        fig[n.community_id]["aware_read"] += a.readers
        fig[n.community_id]["aware_audience"] += a.audience


def _deliberation(
    ids: list[int], start: datetime, end: datetime, fig: dict[int, dict[str, int]]
) -> None:
    """议事规范性 and the deliberation part of 信息公开度."""
    from linli.deliberation.models import (
        AgendaItem,
        DeliberationSettings,
        Meeting,
        TopicTransition,
    )

    steps = ["proposed", "discussing", "reviewing", "resolving", "publicised"]
    done = list(
        TopicTransition.objects.filter(
            community_id__in=ids, to_step="publicised", at__gte=start, at__lt=end
        ).values_list("community_id", "topic_id", "at")
    )
    topic_ids = [t for _c, t, _a in done]
    history: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
    for tid, frm, to, at in (
        TopicTransition.objects.filter(topic_id__in=topic_ids)
        .order_by("at", "pk")
        .values_list("topic_id", "from_step", "to_step", "at")
    ):
        history[tid].append((frm, to, at))
    cfg = {s.community_id: s for s in DeliberationSettings.objects.filter(community_id__in=ids)}
    default = DeliberationSettings()
    meetings: dict[int, list[Meeting]] = defaultdict(list)
    for item in AgendaItem.objects.filter(topic_id__in=topic_ids).select_related(
        "meeting", "meeting__notice"
    ):
        meetings[item.topic_id].append(item.meeting)
    for cid, tid, _at in done:
        f = fig[cid]
        f["topics_done"] += 1
        path = (
            [frm for frm, _to, _a in history[tid]] + [history[tid][-1][1]] if history[tid] else []
        )
        in_order = path[: len(steps)] == steps
        s = cfg.get(cid, default)
        notice_ok = all(_meeting_noticed(m, s.notice_days, s.materials_days) for m in meetings[tid])
        if in_order and notice_ok:
            f["topics_normative"] += 1
    # Openness: a resolved topic publicised within PUBLISH_WITHIN_DAYS of its
    # resolution; a held meeting with minutes within PUBLISH_WITHIN_DAYS of its end.
    within = timedelta(days=PUBLISH_WITHIN_DAYS)
    resolved = TopicTransition.objects.filter(
        community_id__in=ids, from_step="resolving", at__gte=start, at__lt=end
    ).values_list("community_id", "topic_id", "to_step", "at")
    for cid, _tid, to, at in resolved:
        if to != "publicised":
            continue
        fig[cid]["disclosures_due"] += 1
        fig[cid]["disclosed_on_time"] += 1 if _publicised_on_time(_tid, at, within) else 0
    for cid, ends, concluded, minutes in Meeting.objects.filter(
        community_id__in=ids, status=Meeting.Status.HELD, ends_at__gte=start, ends_at__lt=end
    ).values_list("community_id", "ends_at", "concluded_at", "minutes"):
        fig[cid]["disclosures_due"] += 1
        if concluded is not None and minutes and concluded - ends <= within:
            fig[cid]["disclosed_on_time"] += 1


def _publicised_on_time(topic_id: int, at: datetime, within: timedelta) -> bool:
    """The resolving→publicised move is the publication; it is on time when the vote
    that ended the resolving step closed no more than ``within`` before it."""
    from linli.deliberation.models import Topic
    from linli.voting.models import Ballot

    ballot_id = Topic.objects.filter(pk=topic_id).values_list("ballot_id", flat=True).first()
    if ballot_id is None:
        return True
    closed = Ballot.objects.filter(pk=ballot_id).values_list("closed_at", flat=True).first()
    return closed is None or at - closed <= within


def _meeting_noticed(meeting: object, notice_days: int, materials_days: int) -> bool:
    """A meeting had due notice: its notice went out ``notice_days`` before it began
    and the materials ``materials_days`` before (SPEC §2; the service enforces both
    when they are issued through it, so a miss means it was done outside)."""
    starts = meeting.starts_at  # type: ignore[attr-defined]
    notice = meeting.notice  # type: ignore[attr-defined]
    if notice is None or notice.publish_at is None:
        return False
    if starts - notice.publish_at < timedelta(days=notice_days):
        return False
    mat = meeting.materials_published_at  # type: ignore[attr-defined]
    return mat is not None and starts - mat >= timedelta(days=materials_days)


def _integrity(
    ids: list[int], start: datetime, end: datetime, fig: dict[int, dict[str, int]]
) -> None:
    """How many changes in the month moved an item out of an indicator, against the
    items they could have touched. The list itself is :func:`integrity_items`."""
    for counts in integrity_counts(ids, start, end).values():
        for cid, n in counts.items():
            fig[cid]["integrity_n"] += n
    for cid, n in integrity_base(ids, start, end).items():
        fig[cid]["integrity_base"] += n


def integrity_base(ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Per community, the items a change could have moved out of an indicator: requests
    closed, care visits and mediation sessions recorded in [start, end)."""
    from linli.care.models import Visit
    from linli.mediation.models import Session
    from linli.requests.models import RequestEvent

    out: dict[int, int] = defaultdict(int)
    sources = (
        RequestEvent.objects.filter(
            community_id__in=ids, at__gte=start, at__lt=end, to_status="closed"
        ),
        Visit.objects.filter(community_id__in=ids, created_at__gte=start, created_at__lt=end),
        Session.objects.filter(community_id__in=ids, created_at__gte=start, created_at__lt=end),
    )
    for qs in sources:
        for cid, n in (
            qs.values("community_id")  # type: ignore[attr-defined]
            .annotate(n=Count("id"))
            .values_list("community_id", "n")
            .order_by()
        ):
            out[cid] += int(n)
    return out


INTEGRITY_KINDS: dict[str, str | Promise] = {
    "recategorised": _("诉求改类（可能移出考核口径）"),
    "auto_closed": _("未经居民确认即关闭"),
    "backdated_visit": _("补录的走访（走访时间早于录入 24 小时以上）"),
    "backdated_session": _("补录的调解记录（调解时间早于录入 24 小时以上）"),
}


def _integrity_querysets(ids: list[int], start: datetime, end: datetime) -> dict[str, object]:
    from django.db.models import DateTimeField as DTF
    from django.db.models import ExpressionWrapper, F

    from linli.care.models import Visit
    from linli.mediation.models import Session
    from linli.requests.models import EventKind, RequestEvent

    late = ExpressionWrapper(F("created_at") - BACKDATE_AFTER, output_field=DTF())
    return {
        "recategorised": RequestEvent.objects.filter(
            community_id__in=ids, at__gte=start, at__lt=end, kind=EventKind.RECATEGORISED
        ),
        "auto_closed": RequestEvent.objects.filter(
            community_id__in=ids,
            at__gte=start,
            at__lt=end,
            to_status="closed",
            actor__isnull=True,
        ),
        "backdated_visit": Visit.objects.filter(
            community_id__in=ids, created_at__gte=start, created_at__lt=end
        )
        .annotate(limit=late)
        .filter(visited_at__lt=F("limit")),
        "backdated_session": Session.objects.filter(
            community_id__in=ids, created_at__gte=start, created_at__lt=end
        )
        .annotate(limit=late)
        .filter(held_at__lt=F("limit")),
    }


def integrity_counts(ids: list[int], start: datetime, end: datetime) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for kind, qs in _integrity_querysets(ids, start, end).items():
        out[kind] = dict(
            qs.values("community_id")  # type: ignore[attr-defined]
            .annotate(n=Count("id"))
            .values_list("community_id", "n")
            .order_by()
        )
    return out


# Column heads of the integrity table (the long labels above explain each).
INTEGRITY_SHORT: dict[str, str | Promise] = {
    "recategorised": _("改类"),
    "auto_closed": _("未经确认关闭"),
    "backdated_visit": _("补录走访"),
    "backdated_session": _("补录调解"),
}


@dataclass(frozen=True)
class IntegrityItem:
    kind: str
    label: str | Promise
    community_id: int
    at: datetime
    ref: str  # "request:123", "visit:45" … (no personal data)
    note: str

    @property
    def url(self) -> str:
        """Where staff open the record (requests only: the others are read in their
        own apps' lists)."""
        kind, _sep, pk = self.ref.partition(":")
        return f"/requests/desk/{pk}/" if kind == "request" else ""


def integrity_items(
    ids: list[int], start: datetime, end: datetime, limit: int = 500
) -> list[IntegrityItem]:
    """The changes themselves, newest first (staff only: notes may name categories)."""
    qsets = _integrity_querysets(ids, start, end)
    items: list[IntegrityItem] = []
    for e in qsets["recategorised"].order_by("-at")[:limit]:  # type: ignore[attr-defined]
        items.append(
            IntegrityItem(
                "recategorised",
                INTEGRITY_KINDS["recategorised"],
                e.community_id,
                e.at,
                f"request:{e.request_id}",
                e.note,
            )
        )
    for e in qsets["auto_closed"].order_by("-at")[:limit]:  # type: ignore[attr-defined]
        items.append(
            IntegrityItem(
                "auto_closed",
                INTEGRITY_KINDS["auto_closed"],
                e.community_id,
                e.at,
                f"request:{e.request_id}",
                "",
            )
        )
    for v in qsets["backdated_visit"].order_by("-created_at")[:limit]:  # type: ignore[attr-defined]
        items.append(
            IntegrityItem(
                "backdated_visit",
                INTEGRITY_KINDS["backdated_visit"],
                v.community_id,
                v.created_at,
                f"visit:{v.pk}",
                f"{v.visited_at:%Y-%m-%d %H:%M}",
            )
        )
    for s in qsets["backdated_session"].order_by("-created_at")[:limit]:  # type: ignore[attr-defined]
        items.append(
            IntegrityItem(
                "backdated_session",
                INTEGRITY_KINDS["backdated_session"],
                s.community_id,
                s.created_at,
                f"mediation-session:{s.pk}",
                f"{s.held_at:%Y-%m-%d %H:%M}",
            )
        )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
