"""Bad input: each refused with a clear message, nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from linli.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.models import AuditEvent
from linli.mediation import selectors, services
from linli.mediation.models import Agreement, Case, Evidence, Party, Session
from linli.mediation.services import PartyIn
from linli.mediation.tests.conftest import open_case, record_session, save_agreement, sign

pytestmark = pytest.mark.django_db


def unchanged(case: Case, before: dict[str, Any], events: int) -> None:
    case.refresh_from_db()
    assert {k: getattr(case, k) for k in before} == before
    assert AuditEvent.objects.count() == events


def snapshot(case: Case) -> tuple[dict[str, Any], int]:
    keys = ("status", "level", "outcome", "closed_at", "referral", "followup_due")
    return {k: getattr(case, k) for k in keys}, AuditEvent.objects.count()


def test_close_without_outcome_refused(mw: Any) -> None:
    record_session(mw)
    before, n = snapshot(mw.case)
    with pytest.raises(ValidationFailed) as e:
        services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="")
    assert "请先选择调解结果" in str(e.value.message) and e.value.field == "outcome"
    unchanged(mw.case, before, n)


def test_close_with_unknown_outcome_refused(mw: Any) -> None:
    before, n = snapshot(mw.case)
    with pytest.raises(ValidationFailed):
        services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="won")
    unchanged(mw.case, before, n)


def test_close_as_agreement_without_signed_agreement_refused(mw: Any) -> None:
    record_session(mw)
    save_agreement(mw)  # drafted, not signed
    before, n = snapshot(mw.case)
    with pytest.raises(Conflict) as e:
        services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="agreement")
    assert "尚未" in str(e.value.message)
    unchanged(mw.case, before, n)


def test_referred_without_destination_refused(mw: Any) -> None:
    before, n = snapshot(mw.case)
    with pytest.raises(ValidationFailed) as e:
        services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="referred")
    assert e.value.field == "referral"
    unchanged(mw.case, before, n)


def test_no_agreement_needs_a_note(mw: Any) -> None:
    before, n = snapshot(mw.case)
    with pytest.raises(ValidationFailed):
        services.case_close(actor=mw.user("grid_worker"), case=mw.case, outcome="no_agreement")
    unchanged(mw.case, before, n)


def test_agreement_missing_parts_refused(mw: Any) -> None:
    n = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as e:
        save_agreement(mw, responsibilities="", performance_method=" ", performance_deadline=None)
    msg = str(e.value.message)
    assert "各方当事人的责任" in msg and "履行方式" in msg and "履行期限" in msg
    assert e.value.details["missing"] == ["各方当事人的责任", "履行方式", "履行期限"]
    assert not Agreement.objects.exists() and AuditEvent.objects.count() == n


def test_agreement_without_respondent_refused(world: Any) -> None:
    from linli.mediation.tests.conftest import MW

    m = services.mediator_add(
        actor=world.user("secretary"), community=world.community, user=world.user("grid_worker")
    )
    case = open_case(world, m, parties=[PartyIn(role="applicant", name="赵六")])
    with pytest.raises(ValidationFailed) as e:
        save_agreement(MW(world, m, case), case=case)
    assert "被申请人" in str(e.value.message)
    assert not Agreement.objects.exists()


def test_sign_without_seal_refused(mw: Any) -> None:
    save_agreement(mw)
    with pytest.raises(ValidationFailed) as e:
        services.agreement_sign(
            actor=mw.user("grid_worker"),
            case=mw.case,
            signed_on=timezone.localdate(),
            parties_signed=True,
            mediator_signed=True,
            sealed=False,
        )
    assert "印章" in str(e.value.message)
    assert Agreement.objects.get().signed_on is None


def test_sign_in_future_refused(mw: Any) -> None:
    save_agreement(mw)
    with pytest.raises(ValidationFailed):
        services.agreement_sign(
            actor=mw.user("grid_worker"),
            case=mw.case,
            signed_on=timezone.localdate() + timedelta(days=2),
            parties_signed=True,
            mediator_signed=True,
            sealed=True,
        )
    assert Agreement.objects.get().signed_on is None


def test_agreement_in_force_cannot_be_rewritten(mw: Any) -> None:
    save_agreement(mw)
    sign(mw)
    with pytest.raises(Conflict):
        save_agreement(mw, terms="改一下")
    assert "800元" in Agreement.objects.get().terms


def test_non_party_cannot_view(mw: Any) -> None:
    for key in ("stranger", "grid2_worker", "other_secretary", "property", "liaison"):
        with pytest.raises(NotFound):
            selectors.case_get_for(viewer=mw.user(key), pk=mw.case.pk)
        assert not selectors.cases_for(viewer=mw.user(key)).exists()


def test_party_cannot_record_or_close(mw: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.session_record(
            actor=mw.user("resident"),
            case=mw.case,
            held_at=timezone.now(),
            location="x",
            attendees="y",
            notes="我来写记录",
        )
    with pytest.raises(PermissionDenied):
        services.case_close(actor=mw.user("neighbour"), case=mw.case, outcome="withdrawn")
    assert not Session.objects.exists()


def test_outsider_close_is_not_found(mw: Any) -> None:
    with pytest.raises(NotFound):
        services.case_close(actor=mw.user("stranger"), case=mw.case, outcome="withdrawn", note="x")


def test_resident_cannot_open(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        open_case(world, actor=world.user("resident"))
    assert not Case.objects.exists()


def test_party_from_other_community_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed) as e:
        open_case(
            world, parties=[PartyIn(role="applicant", resident_id=world.residents["stranger"].pk)]
        )
    assert "本社区在册居民" in str(e.value.message)
    assert not Case.objects.exists() and not Party.objects.exists()


def test_open_without_applicant_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed):
        open_case(world, parties=[PartyIn(role="respondent", name="李某")])
    assert not Case.objects.exists()


def test_open_building_level_without_building_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed):
        open_case(world, building=None, level="building")
    assert not Case.objects.exists()


def test_open_over_long_facts_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed) as e:
        open_case(world, facts="吵" * 2001)
    assert "2000" in str(e.value.message)
    assert not Case.objects.exists()


def test_session_in_future_refused(mw: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.session_record(
            actor=mw.user("grid_worker"),
            case=mw.case,
            held_at=timezone.now() + timedelta(days=1),
            location="调解室",
            attendees="双方",
            notes="还没开始的调解",
        )
    mw.case.refresh_from_db()
    assert mw.case.status == "open" and not Session.objects.exists()


def test_evidence_wrong_type_refused(mw: Any) -> None:
    f = SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as e:
        services.evidence_add(actor=mw.user("grid_worker"), case=mw.case, upload=f)
    assert "PDF" in str(e.value.message)
    assert not Evidence.objects.exists()


def test_evidence_too_large_refused(mw: Any) -> None:
    f = SimpleUploadedFile(
        "a.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )
    with pytest.raises(ValidationFailed):
        services.evidence_add(actor=mw.user("grid_worker"), case=mw.case, upload=f)
    assert not Evidence.objects.exists()


def test_evidence_pdf_accepted(mw: Any, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    f = SimpleUploadedFile("收据.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    ev = services.evidence_add(
        actor=mw.user("grid_worker"), case=mw.case, upload=f, description="维修收据"
    )
    assert ev.original_name == "收据.pdf" and ev.content_type == "application/pdf"
    assert "收据" not in str(ev.file.name)  # stored under a random name


def test_follow_up_without_agreement_refused(mw: Any) -> None:
    services.case_close(
        actor=mw.user("grid_worker"), case=mw.case, outcome="withdrawn", note="双方已自行和解"
    )
    with pytest.raises(InvalidTransition):
        services.case_follow_up(
            actor=mw.user("grid_worker"), case=mw.case, note="回访", performed=True
        )
    mw.case.refresh_from_db()
    assert mw.case.status == "closed"


def test_escalate_without_reason_refused(mw: Any) -> None:
    before, n = snapshot(mw.case)
    with pytest.raises(ValidationFailed):
        services.case_escalate(actor=mw.user("grid_worker"), case=mw.case, reason=" ")
    unchanged(mw.case, before, n)


def test_closed_case_cannot_escalate_or_take_sessions(mw: Any) -> None:
    services.case_close(
        actor=mw.user("grid_worker"), case=mw.case, outcome="withdrawn", note="撤回"
    )
    for call in (
        lambda: services.case_escalate(actor=mw.user("worker"), case=mw.case, reason="x"),
        lambda: record_session(mw),
        lambda: save_agreement(mw),
    ):
        with pytest.raises(DomainError):
            call()
    assert not Session.objects.exists()


def test_request_case_once_held_by_the_database(world: Any) -> None:
    """Even past the service's own check (two clicks at once), the unique key on
    (community, source_request) lets only one case in."""
    from linli.requests.catalog import ensure_categories
    from linli.requests.models import Category
    from linli.requests.services import request_submit

    ensure_categories()
    req = request_submit(
        actor=world.user("resident"),
        category=Category.objects.get(code="di-other"),
        description="邻居在楼道装摄像头对着我家门。",
        building=world.building,
    )
    services.case_from_request(actor=world.user("worker"), request=req)
    with pytest.raises(Conflict):
        open_case(world, source_request=req, channel="request")
    assert Case.objects.filter(source_request=req).count() == 1


def test_database_refuses_closed_case_without_outcome(mw: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=mw.case.pk).update(status="closed", closed_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(
            community=mw.w.community,
            case=mw.case,
            facts="x",
            disputed_matters="x",
            responsibilities="x",
            terms="x",
            performance_method="x",
            performance_deadline=timezone.localdate(),
            drafted_by=mw.user("grid_worker"),
            signed_on=timezone.localdate(),
            parties_signed=True,
        )
