"""The pages (no JavaScript): list, open, case page actions, agreement form and print
page, 404 for outsiders, and the one-step 转为调解案件 from a 邻里纠纷 request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.mediation.models import Agreement, Case, Party
from linli.mediation.tests.conftest import record_session, save_agreement, sign

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def dispute_request(world: Any, code: str = "di-noise") -> Any:
    from linli.requests.catalog import ensure_categories
    from linli.requests.models import Category
    from linli.requests.services import request_submit

    ensure_categories()
    return request_submit(
        actor=world.user("resident"),
        category=Category.objects.get(code=code),
        description="楼上每天夜里十二点后还在拖椅子，影响休息。",
        building=world.building,
    )


def test_open_case_from_the_form(world: Any) -> None:
    c = client_for(world.user("worker"))
    page = c.get("/mediation/new/")
    assert page.status_code == 200 and "受理调解" in page.content.decode()
    resp = c.post(
        "/mediation/new/",
        {
            "community": world.community.pk,
            "title": "车位被占",
            "kind": "parking",
            "facts": "邻居长期占用申请人的固定车位。",
            "channel": "visit",
            "building": world.building.pk,
            "applicant_phone": world.residents["resident"].phone,
            "respondent_name": "钱七",
            "respondent_phone": "13700001234",
            "idempotency_key": "form-1",
        },
    )
    case = Case.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/mediation/{case.pk}/"
    parties = {p.role: p for p in Party.objects.filter(case=case)}
    assert parties["applicant"].resident_id == world.residents["resident"].pk
    assert parties["respondent"].resident_id is None and parties["respondent"].name == "钱七"
    assert case.level == "building"


def test_close_without_outcome_on_the_page(mw: Any) -> None:
    c = client_for(mw.user("grid_worker"))
    resp = c.post(f"/mediation/{mw.case.pk}/do/close/", {"outcome": ""}, follow=True)
    assert "请先选择调解结果" in resp.content.decode()
    mw.case.refresh_from_db()
    assert mw.case.status == "open"


def test_mediator_page_flow(mw: Any) -> None:
    c = client_for(mw.user("grid_worker"))
    pk = mw.case.pk
    page = c.get(f"/mediation/{pk}/").content.decode()
    assert "记录一次调解" in page and "13812341234" in page  # the mediator calls the parties
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    c.post(
        f"/mediation/{pk}/do/session/",
        {"held_at": now, "location": "调解室", "attendees": "双方", "notes": "第一次调解。"},
    )
    mw.case.refresh_from_db()
    assert mw.case.status == "mediating"
    resp = c.post(
        f"/mediation/{pk}/agreement/",
        {
            "facts": "漏水",
            "disputed_matters": "赔偿",
            "responsibilities": "被申请人负责",
            "terms": "赔偿800元",
            "performance_method": "现金",
            "performance_deadline": "",
        },
    )
    assert "履行期限" in resp.content.decode() and not Agreement.objects.exists()
    deadline = (timezone.localdate() + timedelta(days=7)).isoformat()
    resp = c.post(
        f"/mediation/{pk}/agreement/",
        {
            "facts": "漏水",
            "disputed_matters": "赔偿",
            "responsibilities": "被申请人负责",
            "terms": "赔偿800元",
            "performance_method": "现金",
            "performance_deadline": deadline,
        },
    )
    assert resp.status_code == 302
    c.post(
        f"/mediation/{pk}/agreement/sign/",
        {
            "parties_signed": "1",
            "mediator_signed": "1",
            "sealed": "1",
            "signed_on": timezone.localdate().isoformat(),
        },
    )
    c.post(f"/mediation/{pk}/do/close/", {"outcome": "agreement"})
    mw.case.refresh_from_db()
    assert mw.case.status == "closed" and mw.case.outcome == "agreement"
    printed = c.get(f"/mediation/{pk}/agreement/print/").content.decode()
    for part in (
        "人民调解协议书",
        "当事人的基本情况",
        "争议事项",
        "履行方式",
        "履行期限",
        "司法确认",
    ):
        assert part in printed


def test_party_sees_own_case_without_notes_or_other_phone(mw: Any) -> None:
    record_session(mw)
    save_agreement(mw)
    sign(mw)
    c = client_for(mw.user("resident"))
    page = c.get(f"/mediation/{mw.case.pk}/").content.decode()
    assert "楼上卫生间漏水" in page
    assert "同意先请物业检测漏点" not in page  # session notes stay with the mediators
    assert mw.w.residents["neighbour"].phone not in page
    assert "司法确认" in page
    assert c.get(f"/mediation/{mw.case.pk}/agreement/print/").status_code == 200
    assert "楼上卫生间漏水" in c.get("/mediation/").content.decode()


def test_outsiders_get_404(mw: Any) -> None:
    for key in ("stranger", "grid2_worker", "property", "supervisor"):
        c = client_for(mw.user(key))
        assert c.get(f"/mediation/{mw.case.pk}/").status_code == 404
        assert c.get(f"/mediation/{mw.case.pk}/agreement/print/").status_code == 404
        assert c.post(f"/mediation/{mw.case.pk}/do/close/", {"outcome": "x"}).status_code == 404
    anon = Client()
    resp = anon.get(f"/mediation/{mw.case.pk}/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_request_link_and_one_step_case(world: Any) -> None:
    req = dispute_request(world)
    staff = client_for(world.user("worker"))
    from django.urls import reverse

    html = staff.get(reverse("requests:staff_detail", args=[req.pk])).content.decode()
    assert f"/mediation/from-request/{req.pk}/" in html
    confirm = staff.get(f"/mediation/from-request/{req.pk}/").content.decode()
    assert "夜里十二点" in confirm
    resp = staff.post(f"/mediation/from-request/{req.pk}/", {"kind": "noise"})
    case = Case.objects.get()
    assert resp.status_code == 302
    assert case.source_request_id == req.pk and case.channel == "request"
    assert case.kind == "noise" and case.level == "building" and "夜里十二点" in case.facts
    assert Party.objects.get(case=case).resident_id == world.residents["resident"].pk
    # A second time: straight to the case, no second one.
    again = staff.post(f"/mediation/from-request/{req.pk}/", {"kind": "noise"})
    assert again.status_code == 302 and Case.objects.count() == 1
    from django.urls import reverse

    html = staff.get(reverse("requests:staff_detail", args=[req.pk])).content.decode()
    assert "已转为调解案件" in html


def test_request_link_hidden_for_other_categories_and_roles(world: Any) -> None:
    from django.urls import reverse

    other = dispute_request(world, code="fac-light")
    html = (
        client_for(world.user("worker"))
        .get(reverse("requests:staff_detail", args=[other.pk]))
        .content.decode()
    )
    assert "转为调解案件" not in html
    dispute = dispute_request(world)
    # Property staff may see the request's staff page but may not open a case.
    from linli.core.errors import DomainError
    from linli.mediation.services import case_from_request

    with pytest.raises(DomainError):
        case_from_request(actor=world.user("property"), request=dispute)
    with pytest.raises(DomainError):
        case_from_request(actor=world.user("worker"), request=other)
    assert not Case.objects.exists()


def test_roster_and_stats_pages(mw: Any) -> None:
    c = client_for(mw.user("secretary"))
    page = c.get("/mediation/mediators/").content.decode()
    assert "调解员名册" in page and "grid_worker" in page
    resp = c.post(
        "/mediation/mediators/",
        {"community": mw.w.community.pk, "user": mw.user("worker").pk, "speciality": "家事"},
    )
    assert resp.status_code == 302
    assert "worker" in c.get("/mediation/mediators/").content.decode()
    stats = c.get("/mediation/stats/").content.decode()
    assert "调解成功率" in stats and "阳光社区" in stats
    assert client_for(mw.user("resident")).get("/mediation/stats/").status_code == 404


def test_english(mw: Any) -> None:
    c = client_for(mw.user("grid_worker"))
    resp = c.get(f"/mediation/{mw.case.pk}/?lang=en", HTTP_ACCEPT_LANGUAGE="en")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Record a session" in html and "Leak between floors" in html


def test_agreement_pdf(mw: Any) -> None:
    save_agreement(mw)
    resp = client_for(mw.user("grid_worker")).get(f"/mediation/{mw.case.pk}/agreement.pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    assert (
        client_for(mw.user("stranger")).get(f"/mediation/{mw.case.pk}/agreement.pdf").status_code
        == 404
    )


def test_resident_tile_only_for_parties(mw: Any) -> None:
    from linli.core.nav import items_for

    keys = {i.key for i in items_for("resident", mw.user("resident"))}
    assert "mediation_mine" in keys
    assert "mediation_mine" not in {i.key for i in items_for("resident", mw.user("stranger"))}
