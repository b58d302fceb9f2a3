"""Demo mediation for 阳光社区: a roster (the grid worker, the community worker and a
volunteer with a law skill from the skills pool) and six cases showing every stage —
a noise dispute turned from a 邻里纠纷 request and being mediated, a leak settled by an
agreement whose follow-up visit is overdue, a parking dispute settled last week (the
demo resident is its applicant; the judicial-confirmation window is open), a property
fee dispute escalated to the community, a family dispute referred to the court, and
an outside party's complaint that ended without agreement. Written through the
services; only the dates are moved back afterwards so the timeline looks lived-in."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import Role
from linli.communities.models import Building, Resident
from linli.core.demo import DemoContext
from linli.mediation import services
from linli.mediation.models import Case, Mediator
from linli.mediation.services import PartyIn
from linli.volunteers.models import VolunteerProfile


def _back(case: Case, days: int) -> Case:
    """Move a demo case's opening back ``days`` days (demo data only)."""
    Case.objects.filter(pk=case.pk).update(opened_at=timezone.now() - timedelta(days=days))
    case.refresh_from_db()
    return case


def _session(case: Case, actor: object, days_ago: int, notes: str) -> None:
    services.session_record(
        actor=actor,  # type: ignore[arg-type]
        case=case,
        held_at=timezone.now() - timedelta(days=days_ago, hours=2),
        location="阳光社区人民调解室",
        attendees="双方当事人、调解员",
        notes=notes,
    )


def _agree(case: Case, actor: object, signed_days_ago: int, terms: str) -> None:
    today = timezone.localdate()
    services.agreement_save(
        actor=actor,  # type: ignore[arg-type]
        case=case,
        facts=case.facts,
        disputed_matters="损失如何承担、今后如何避免。",
        responsibilities="经调解，双方确认被申请人负主要责任，申请人予以谅解。",
        terms=terms,
        performance_method="当面履行，调解员见证。",
        performance_deadline=today + timedelta(days=14),
    )
    services.agreement_sign(
        actor=actor,  # type: ignore[arg-type]
        case=case,
        signed_on=today - timedelta(days=signed_days_ago),
        parties_signed=True,
        mediator_signed=True,
        sealed=True,
    )
    services.case_close(actor=actor, case=case, outcome="agreement")  # type: ignore[arg-type]


def seed(ctx: DemoContext) -> None:
    main = ctx.main
    secretary = ctx.users[Role.SECRETARY]
    worker = ctx.users[Role.COMMUNITY_WORKER]
    grid = ctx.users[Role.GRID_WORKER]
    m_grid = services.mediator_add(
        actor=secretary, community=main, user=grid, speciality="楼栋邻里纠纷"
    )
    services.mediator_add(actor=secretary, community=main, user=worker, speciality="物业、家事")
    lawyer = (
        VolunteerProfile.objects.filter(
            community=main, skills__category="law", resident__user__isnull=False
        )
        .order_by("id")
        .first()
    )
    m_law: Mediator | None = None
    if lawyer is not None:
        m_law = services.mediator_add(
            actor=secretary, community=main, volunteer=lawyer, speciality="法律咨询"
        )
    me = Resident.objects.get(user=ctx.users[Role.RESIDENT])
    building = me.household.building
    neighbours = list(
        Resident.objects.filter(community=main, is_active=True, household__building=building)
        .exclude(household_id=me.household_id)
        .order_by("id")[:6]
    )
    others = list(
        Resident.objects.filter(community=main, is_active=True)
        .exclude(household__building=building)
        .order_by("id")[:8]
    )
    other_building = Building.objects.filter(community=main).exclude(pk=building.pk).first()

    # 1. A 邻里纠纷 request turned into a case, being mediated at the building.
    from linli.requests.models import ServiceRequest

    req = (
        ServiceRequest.objects.filter(
            community=main, category__code="di-noise", reporter_resident__isnull=False
        )
        .order_by("id")
        .first()
    )
    if req is not None:
        noise = services.case_from_request(actor=worker, request=req, mediator_ids=[m_grid.pk])
    else:
        noise = services.case_open(
            actor=grid,
            community=main,
            kind="noise",
            title="楼上夜间拖椅子噪音",
            facts="楼上住户每天夜里十一点后拖动桌椅，楼下老人无法入睡。",
            channel="visit",
            parties=[PartyIn(role="applicant", resident_id=neighbours[0].pk)],
            building=building,
            mediator_ids=[m_grid.pk],
        )
    _back(noise, 3)
    services.party_add(
        actor=grid,
        case=noise,
        party=PartyIn(role="respondent", resident_id=neighbours[1].pk),
    )
    _session(
        noise,
        grid,
        1,
        "双方到场陈述。楼上同意给桌椅加装脚垫，晚十点后不再搬动；约定一周后再回访效果。",
    )

    # 2. A leak settled by an agreement 35 days ago: the follow-up visit is overdue.
    leak = _back(
        services.case_open(
            actor=grid,
            community=main,
            kind="leakage",
            title="卫生间漏水渗到楼下",
            facts="楼上卫生间防水层老化，渗水致楼下天花板发霉脱落。",
            channel="visit",
            parties=[
                PartyIn(role="applicant", resident_id=neighbours[2].pk),
                PartyIn(role="respondent", resident_id=neighbours[3].pk),
            ],
            building=building,
            mediator_ids=[m_grid.pk],
        ),
        45,
    )
    _session(leak, grid, 40, "物业检测确认漏点在楼上卫生间。双方就修复和赔偿协商。")
    _agree(leak, grid, 35, "被申请人重做卫生间防水层，并赔偿申请人天花板修复费1200元。")

    # 3. A parking dispute settled last week; the demo resident is the applicant.
    parking = _back(
        services.case_open(
            actor=worker,
            community=main,
            kind="parking",
            title="固定车位被长期占用",
            facts="申请人的产权车位被邻居长期停放电动三轮车。",
            channel="hotline",
            parties=[
                PartyIn(role="applicant", resident_id=me.pk),
                PartyIn(role="respondent", resident_id=others[0].pk),
            ],
            building=building,
            level="community",
            mediator_ids=[m.pk for m in (m_law, m_grid) if m is not None],
        ),
        12,
    )
    _session(parking, grid, 9, "双方同意由物业在非机动车棚为被申请人安排位置。")
    _agree(parking, grid, 8, "被申请人三日内将三轮车移至非机动车棚，不再占用申请人车位。")

    # 4. A property-fee dispute escalated from the building to the community.
    fees = _back(
        services.case_open(
            actor=grid,
            community=main,
            kind="property_fees",
            title="电梯停运期间物业费争议",
            facts="电梯停运两个月，部分业主要求减免同期物业费，物业不同意。",
            channel="patrol",
            parties=[
                PartyIn(role="applicant", resident_id=others[1].pk),
                PartyIn(role="respondent", name="阳光物业服务中心", phone="057188880000"),
            ],
            building=other_building,
            mediator_ids=[m_grid.pk],
        ),
        6,
    )
    services.case_escalate(actor=grid, case=fees, reason="涉及整栋业主，楼栋层面无法协调物业。")

    # 5. A family dispute referred to the court after mediation failed.
    family = _back(
        services.case_open(
            actor=worker,
            community=main,
            kind="family",
            title="赡养费分担纠纷",
            facts="三名子女对母亲赡养费分担方式意见不一。",
            channel="visit",
            parties=[
                PartyIn(role="applicant", resident_id=others[2].pk),
                PartyIn(role="respondent", resident_id=others[3].pk),
            ],
            mediator_ids=[m.pk for m in (m_law,) if m is not None] or [m_grid.pk],
        ),
        30,
    )
    _session(family, worker, 25, "各方对房产处分有分歧，调解未果。告知可向人民法院起诉。")
    services.case_close(
        actor=worker,
        case=family,
        outcome="referred",
        referral="court",
        referral_note="告知当事人向区人民法院起诉，并提供诉讼指引。",
    )

    # 6. An outside party's complaint that ended without agreement.
    outside = _back(
        services.case_open(
            actor=worker,
            community=main,
            kind="other",
            title="快递柜占用消防通道",
            facts="外来快递员反映被居民阻拦放置快递柜，双方发生争执。",
            channel="hotline",
            parties=[
                PartyIn(role="applicant", name="周师傅", phone="13900007777", address="某快递站点"),
                PartyIn(role="respondent", resident_id=others[4].pk),
            ],
            mediator_ids=[m_grid.pk],
        ),
        20,
    )
    _session(outside, grid, 18, "快递柜位置确实占用消防通道，双方各执一词。")
    services.case_close(
        actor=grid,
        case=outside,
        outcome="no_agreement",
        note="快递柜位置由物业与快递公司另行协商，居民不再阻拦。",
    )
