"""The mediation workflow through the real services: open → session → agreement →
sign → close with agreement → follow-up; escalation; referral; the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.core.models import AuditEvent
from linli.core.notify import MemorySender
from linli.mediation import services
from linli.mediation.models import Case, CaseMediator, Party, Session
from linli.mediation.tests.conftest import open_case, record_session, save_agreement, sign

pytestmark = pytest.mark.django_db


def test_full_workflow_with_agreement(mw: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = mw.case
    assert case.status == "open" and case.level == "building"
    assert CaseMediator.objects.get(case=case).lead
    record_session(mw)
    case.refresh_from_db()
    assert case.status == "mediating"
    save_agreement(mw)
    with django_capture_on_commit_callbacks(execute=True):
        sign(mw)
    # The parties are told the 30-day window for judicial confirmation by SMS.
    sms = [m for m in MemorySender.outbox if m.channel == "sms"]
    assert {m.to for m in sms} == {
        mw.w.residents["resident"].phone,
        mw.w.residents["neighbour"].phone,
    }
    assert "司法确认" in sms[0].body
    services.case_close(actor=mw.user("grid_worker"), case=case, outcome="agreement")
    case.refresh_from_db()
    today = timezone.localdate()
    assert case.status == "closed" and case.outcome == "agreement"
    assert case.agreement_effective_on == today
    assert case.followup_due == today + timedelta(days=30)
    assert case.confirmation_deadline == today + timedelta(days=30)
    services.case_follow_up(
        actor=mw.user("grid_worker"), case=case, note="已赔偿并修复", performed=True
    )
    case.refresh_from_db()
    assert case.status == "visited" and case.followup_performed is True
    actions = list(
        AuditEvent.objects.filter(target_type__icontains="case", target_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "mediation.case_opened",
        "mediation.case.record_session",
        "mediation.agreement_saved",
        "mediation.agreement_signed",
        "mediation.case.close",
        "mediation.case.follow_up",
    ]
    # No names or phones in the audit chain.
    for ev in AuditEvent.objects.filter(action__startswith="mediation."):
        text = str(ev.payload)
        assert "张三" not in text and mw.w.residents["resident"].phone not in text


def test_escalation_building_community_street(
    mw: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = mw.case
    services.case_escalate(actor=mw.user("grid_worker"), case=case, reason="楼栋调解未果")
    case.refresh_from_db()
    assert case.level == "community" and case.escalated_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.case_escalate(actor=mw.user("worker"), case=case, reason="涉及金额较大")
    case.refresh_from_db()
    assert case.level == "street"
    # Street officers are told.
    assert any(m.to == "street_officer" for m in MemorySender.outbox if m.channel == "inapp")
    from linli.core.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        services.case_escalate(actor=mw.user("worker"), case=case, reason="再提级")


def test_referral_to_assessment_when_it_fails(mw: Any) -> None:
    record_session(mw)
    services.case_close(
        actor=mw.user("grid_worker"),
        case=mw.case,
        outcome="referred",
        referral="assessment",
        referral_note="漏水原因需专业鉴定",
    )
    mw.case.refresh_from_db()
    assert mw.case.outcome == "referred" and mw.case.referral == "assessment"
    assert mw.case.followup_due is None


def test_outside_party_and_later_respondent(world: Any) -> None:
    case = open_case(
        world,
        parties=[PartyIn_("applicant", name="赵六", phone="13900001111", address="外卖站")],
    )
    services.party_add(
        actor=world.user("worker"),
        case=case,
        party=services.PartyIn(role="respondent", resident_id=world.residents["neighbour"].pk),
    )
    roles = sorted(Party.objects.filter(case=case).values_list("role", flat=True))
    assert roles == ["applicant", "respondent"]


def PartyIn_(role: str, **kw: Any) -> services.PartyIn:  # noqa: N802 - reads like the class
    return services.PartyIn(role=role, **kw)


def test_session_idempotent(mw: Any) -> None:
    kw = {
        "actor": mw.user("grid_worker"),
        "case": mw.case,
        "held_at": timezone.now(),
        "location": "调解室",
        "attendees": "双方",
        "notes": "第一次调解记录",
        "idempotency_key": "k-1",
    }
    a = services.session_record(**kw)
    b = services.session_record(**kw)
    assert a.pk == b.pk and Session.objects.filter(case=mw.case).count() == 1


def test_open_idempotent(world: Any) -> None:
    a = open_case(world, idempotency_key="open-1")
    b = open_case(world, idempotency_key="open-1")
    assert a.pk == b.pk and Case.objects.count() == 1


def test_volunteer_from_skills_pool_on_roster(world: Any) -> None:
    from linli.volunteers.services import profile_save

    profile = profile_save(
        actor=world.user("resident"),
        resident=world.residents["resident"],
        skills=[("law", "退休法官")],
    )
    from linli.mediation.selectors import volunteer_candidates

    assert [
        v.pk
        for v in volunteer_candidates(
            viewer=world.user("secretary"), community_id=world.community.pk
        )
    ] == [profile.pk]
    m = services.mediator_add(
        actor=world.user("secretary"), community=world.community, volunteer=profile
    )
    assert m.source == "volunteer" and m.user_id == world.user("resident").pk
    case = open_case(world, m)
    # The volunteer mediator, though also a resident, runs the case they mediate.
    record_session_for = services.session_record(
        actor=world.user("resident"),
        case=case,
        held_at=timezone.now(),
        location="1幢楼道",
        attendees="双方",
        notes="楼栋内先行调解",
    )
    assert record_session_for.pk


def test_open_is_rate_limited(world: Any) -> None:
    from linli.core.errors import RateLimited

    for _ in range(10):
        open_case(world)
    with pytest.raises(RateLimited):
        open_case(world)
    assert Case.objects.count() == 10


def test_session_statement_budget(mw: Any, django_assert_max_num_queries: Any) -> None:
    """Recording a session: permission, lock, insert, state change, audit — a fixed
    number of statements, not one per party or mediator."""
    record_session(mw)  # warm the scope caches of this user
    with django_assert_max_num_queries(14):
        record_session(mw)


def test_staff_who_do_not_mediate_see_masked_phones(mw: Any) -> None:
    from linli.mediation.selectors import case_file

    phone = mw.w.residents["resident"].phone
    mine = {p.role: p.phone for p in case_file(viewer=mw.user("grid_worker"), case=mw.case).parties}
    assert mine["applicant"] == phone
    sec = {p.role: p.phone for p in case_file(viewer=mw.user("secretary"), case=mw.case).parties}
    assert sec["applicant"] == phone[:3] + "****" + phone[-4:]
    other = {p.role: p.phone for p in case_file(viewer=mw.user("neighbour"), case=mw.case).parties}
    assert other["applicant"] == ""


def test_party_and_evidence_idempotent(mw: Any, tmp_path: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linli.mediation.models import Evidence

    settings.MEDIA_ROOT = tmp_path
    kw: dict[str, Any] = {
        "actor": mw.user("worker"),
        "case": mw.case,
        "party": services.PartyIn(role="respondent", name="钱七", phone="13700001234"),
        "idempotency_key": "party-1",
    }
    assert services.party_add(**kw).pk == services.party_add(**kw).pk
    assert Party.objects.filter(case=mw.case, name="钱七").count() == 1
    first = services.evidence_add(
        actor=mw.user("grid_worker"),
        case=mw.case,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 a"),
        idempotency_key="ev-1",
    )
    again = services.evidence_add(
        actor=mw.user("grid_worker"),
        case=mw.case,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 a"),
        idempotency_key="ev-1",
    )
    assert first.pk == again.pk and Evidence.objects.count() == 1
