"""Demo assessment for 和睦街道: a year of request history for its three communities
(bulk-created, like an import from the old hotline system, each community with its own
service quality), a district weight set v2 next to the platform default, expert scores
for the last two months, one 改类 and one auto-closed request on the integrity page,
and the monthly snapshots of the last 12 months — so the boards, rankings, trend
lines, heat view and exports show a lived-in street."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.assessment import services
from linli.assessment.periods import last_complete_month
from linli.communities.models import Building, Resident
from linli.core.calendar import WorkCalendar
from linli.core.demo import DemoContext
from linli.requests import deadlines
from linli.requests.models import Category, Channel, EventKind, RequestEvent, ServiceRequest, Status
from linli.requests.routing import route
from linli.requests.stats import RequestStatsState, day_start

MONTHS = 12
# Per community: (requests a month, share answered on time, share rated well).
QUALITY = [(70, 0.93, 0.86), (55, 0.8, 0.7), (45, 0.68, 0.58)]


def _history(ctx: DemoContext, rng: random.Random) -> None:
    cats = list(Category.objects.filter(parent__isnull=False, is_active=True))
    cal = WorkCalendar()
    now = timezone.now()
    first = last_complete_month().start
    for _i in range(MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows: list[ServiceRequest] = []
    for ci, community in enumerate(ctx.communities[:3]):
        per_month, on_time, good = QUALITY[ci % len(QUALITY)]
        buildings = list(Building.objects.filter(community=community).select_related("grid"))
        if not buildings:
            continue
        adults = list(
            Resident.objects.filter(community=community, is_active=True, birth_year__lte=2006)
            .order_by("pk")
            .values_list("pk", flat=True)[:2000]
        )
        # A few buildings are noisier than the rest, so the heat view has a shape.
        weights = [rng.choice([1, 1, 1, 2, 4]) for _b in buildings]
        month = first
        for _m in range(MONTHS):
            days = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - month
            for _n in range(per_month + rng.randint(-10, 10)):
                b = rng.choices(buildings, weights=weights)[0]
                cat = rng.choice(cats)
                created = day_start(month) + timedelta(
                    seconds=rng.uniform(0, days.total_seconds() - 1)
                )
                if created > now - timedelta(days=2):
                    continue
                r = ServiceRequest(
                    community=community,
                    grid=b.grid,
                    building=b,
                    category=cat,
                    description=f"{b.name}{cat.name}（历史数据导入）",
                    channel=rng.choice([Channel.APP, Channel.APP, Channel.HOTLINE, Channel.VISIT]),
                    status=Status.CLOSED,
                    # Hotline history names the caller where the old system had them.
                    reporter_resident_id=rng.choice(adults) if adults else None,
                )
                target = route(category=cat, community=community, building=b, grid=b.grid)
                r.assignee_org, r.assignee_unit = target.org, target.unit
                r.owner_org, r.owner_unit = target.org, target.unit
                deadlines.set_initial(r, now=created, cal=cal)
                quick = rng.random() < on_time
                resp = timedelta(hours=rng.uniform(0.5, 20) if quick else rng.uniform(25, 60))
                r.accepted_at = r.responded_at = created + resp
                r.responded_on_time = r.responded_at <= r.response_due  # type: ignore[operator]
                fix = timedelta(hours=rng.uniform(4, 70) if quick else rng.uniform(80, 400))
                r.resolved_at = r.accepted_at + fix
                r.resolved_on_time = r.resolved_at <= r.feedback_due  # type: ignore[operator]
                r.cycle_seconds = int((r.resolved_at - created).total_seconds())
                r.resolution = "已处理完毕。"
                r.closed_at = r.resolved_at + timedelta(days=1)
                if rng.random() < 0.7:
                    r.rating = rng.choice([4, 5]) if rng.random() < good else rng.choice([1, 2, 3])
                    r.rated_at = r.closed_at
                r.next_due_at = None
                r.due_state = "none"
                r.created_at = created
                rows.append(r)
            month = (month + timedelta(days=32)).replace(day=1)
    ServiceRequest.objects.bulk_create(rows, batch_size=1000)
    resident_user = ctx.users.get(Role.RESIDENT)
    events = []
    for r in rows:
        events.append(
            RequestEvent(
                request=r,
                community_id=r.community_id,
                at=r.created_at,
                kind=EventKind.SUBMITTED,
                to_status=Status.SUBMITTED,
            )
        )
        # Rated requests were closed by the resident; the others by the 7-day auto-close.
        events.append(
            RequestEvent(
                request=r,
                community_id=r.community_id,
                at=r.closed_at or r.created_at,
                actor=resident_user if r.rating else None,
                kind=EventKind.TRANSITION,
                from_status=Status.RESOLVED,
                to_status=Status.CLOSED,
            )
        )
    RequestEvent.objects.bulk_create(events, batch_size=2000)
    # The day rows were built before this import: have them rebuilt from scratch.
    RequestStatsState.objects.filter(community__in=ctx.communities).delete()


def seed(ctx: DemoContext) -> None:
    rng = random.Random(ctx.seed + 17)
    _history(ctx, rng)
    admin = ctx.users.get(Role.PLATFORM_ADMIN)
    street = ctx.users.get(Role.STREET_OFFICER)
    supervisor = ctx.users.get(Role.SUPERVISOR)
    services.default_weights()
    if admin is not None:
        services.weights_create(
            actor=admin,
            district=ctx.district,
            values={
                "w_satisfaction": 40,
                "w_participation": 30,
                "w_conflict": 30,
                "w_awareness": 40,
                "w_normativity": 30,
                "w_openness": 30,
                "outcome_share": 70,
                "resident_share": 60,
                "min_sample": 20,
            },
            note="拱墅区：样本门槛按小社区调为 20 份",
        )
    last = last_complete_month()
    for p, scorer, kind, base in (
        (last, street, "professional", 84),
        (last.previous(), street, "professional", 80),
        (last, supervisor, "third_party", 78),
    ):
        if scorer is None:
            continue
        for i, community in enumerate(ctx.communities[:3]):
            if kind == "third_party" and community != ctx.main:
                continue
            services.expert_score_record(
                actor=scorer,
                community=community,
                month=p.start,
                kind=kind,
                score=base - 6 * i,
                basis="街道季度检查：台账、走访记录与现场察看。",
            )
    # One 改类 in the main community, for the integrity page.
    open_req = (
        ServiceRequest.objects.filter(community=ctx.main, status__in=["submitted", "accepted"])
        .order_by("pk")
        .first()
    )
    secretary = ctx.users.get(Role.SECRETARY)
    if open_req is not None and secretary is not None:
        from linli.requests.services import request_recategorise

        other = (
            Category.objects.filter(parent__isnull=False, is_active=True)
            .exclude(pk=open_req.category_id)
            .order_by("code")
            .first()
        )
        if other is not None:
            request_recategorise(
                actor=secretary,
                request=open_req,
                category_code=other.code,
                reason="居民反映的实为咨询事项",
            )
    p = last
    for _i in range(MONTHS):
        services.snapshot_month(month=p.start, notify=False)
        p = p.previous()


def logins(ctx: DemoContext) -> None:
    """Nothing to add: the street officer and the admin see the boards."""
