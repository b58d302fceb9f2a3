"""Pages, the JSON API and the Excel export: the public board shows no personal data
and no unpublished text; staff pages and exports are scoped; every action is in the
API (and its OpenAPI document)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.test import Client
from openpyxl import load_workbook

from linli.communities.models import Organisation
from linli.propertyco.models import Board, BoardStatus, EntryStatus, Inspection, RegisterEntry
from linli.propertyco.quarters import Quarter
from linli.propertyco.tests.conftest import PC, compute_publish, inspect, seed_level

BAD = {"jia": 1, "ding": 5, "bing": 4}
SECRET_NOTE = "3单元门口堆放杂物，住户王阿姨反映多次"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _published(pc: PC) -> Board:
    seed_level(pc, Quarter(2026, 2), BAD)
    inspect(pc, pc.w.building, date(2026, 5, 20), passed=1, total=5, note=SECRET_NOTE)
    board, _l = compute_publish(pc, "2026Q2")
    return board


def test_public_board_has_scores_and_criteria_but_no_personal_data(pc: PC) -> None:
    _published(pc)
    # An unpublished quarter stays hidden from the public.
    seed_level(pc, Quarter(2026, 3), {"jia": 5, "ding": 5, "bing": 5})
    from linli.propertyco import services

    services.board_compute(actor=pc.user("street_officer"), street=pc.street, quarter="2026Q3")
    page = Client().get("/propertyco/", {"unit": pc.street.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "2026年第2季度" in html and "2026年第3季度" not in html
    for name in ("甲物业", "丙物业", "丁物业", "红榜", "黑榜", "评分标准（第 1 版）", "30%"):
        assert name in html, name
    for private in (
        "张三",
        "13812341234",
        "楼道灯不亮",  # request text
        SECRET_NOTE,  # inspection note
        "王阿姨",
        "secretary",
        "street_officer",
    ):
        assert private not in html, private
    # The community view and the English page.
    one = Client().get("/propertyco/", {"unit": pc.community2.pk}).content.decode()
    assert "丙物业" in one and "甲物业" not in one
    en = Client().get("/propertyco/", {"lang": "en"}).content.decode()
    assert "Red list" in en and "Black list" in en


def test_public_api_board_and_register(pc: PC) -> None:
    _published(pc)
    c = Client()
    rows = c.get(
        "/api/v1/propertyco/board", {"unit_id": str(pc.street.pk), "quarter": "2026Q2"}
    ).json()
    assert [(r["company"], r["list"]) for r in rows] == [
        ("丁物业", "red"),
        ("丙物业", None),
        ("甲物业", "black"),
    ]
    assert set(rows[0]) == {
        "score_id",
        "company_id",
        "company",
        "community_id",
        "community",
        "street",
        "score",
        "rank",
        "list",
        "criteria_version",
        "published",
    }
    assert c.get("/api/v1/propertyco/register").json() == []
    crit = c.get("/api/v1/propertyco/criteria").json()
    assert crit[0]["weights"]["rating"] == 30


def test_api_actions_and_openapi(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    seed_level(pc, Quarter(2026, 3), BAD)
    admin = client_for(pc.user("platform_admin"))
    bad = admin.post(
        "/api/v1/propertyco/criteria",
        {"weights": {"rating": 50, "survey": 30}},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400
    assert bad.json()["message"] == "The weights must add up to exactly 100%; they add up to 80%."
    officer = client_for(pc.user("street_officer"))
    future = officer.post(
        "/api/v1/propertyco/boards",
        {"street_id": pc.street.pk, "quarter": "2026Q4"},
        content_type="application/json",
    )
    assert future.status_code == 400 and "尚未结束" in future.json()["message"]
    outsider = client_for(pc.user("other_street_officer")).post(
        "/api/v1/propertyco/boards",
        {"street_id": pc.street.pk, "quarter": "2026Q2"},
        content_type="application/json",
    )
    assert outsider.status_code == 403 and Board.objects.count() == 0
    entries: list[int] = []
    for q in ("2026Q2", "2026Q3"):
        made = officer.post(
            "/api/v1/propertyco/boards",
            {"street_id": pc.street.pk, "quarter": q},
            content_type="application/json",
        )
        assert made.status_code == 201 and made.json()["actions"] == ["publish"]
        pub = officer.post(f"/api/v1/propertyco/boards/{made.json()['id']}/publish")
        assert pub.status_code == 200 and pub.json()["status"] == "published"
        entries += pub.json()["listed"]
    assert len(entries) == 1
    company = client_for(pc.user("property"))
    detail = company.get(f"/api/v1/propertyco/register/{entries[0]}").json()
    assert detail["actions"] == ["appeal"] and len(detail["evidence"]["request_ids"]) == 8
    public = Client().get(f"/api/v1/propertyco/register/{entries[0]}").json()
    assert public["evidence"] is None and public["barred"] is True
    no_reason = company.post(
        f"/api/v1/propertyco/register/{entries[0]}/appeal",
        {"reason": " "},
        content_type="application/json",
    )
    assert (
        no_reason.status_code == 400 and no_reason.json()["message"] == "请填写“提出申诉”的理由。"
    )
    ok = company.post(
        f"/api/v1/propertyco/register/{entries[0]}/appeal",
        {"reason": "数据有误"},
        content_type="application/json",
    )
    assert ok.json()["status"] == "appealed"
    decided = officer.post(
        f"/api/v1/propertyco/register/{entries[0]}/decide",
        {"decision": "uphold", "reason": "证据充分"},
        content_type="application/json",
    )
    assert decided.json()["status"] == "upheld"
    # Inspections and evidence through the API.
    made = client_for(pc.user("secretary")).post(
        "/api/v1/propertyco/inspections",
        {
            "building_id": pc.w.building.pk,
            "inspected_on": "2026-11-02",
            "items": [{"item": "楼道保洁", "passed": True}, {"item": "电梯", "passed": False}],
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="ins-1",
    )
    assert made.status_code == 201 and made.json()["passed"] == 1
    again = client_for(pc.user("secretary")).post(
        "/api/v1/propertyco/inspections",
        {
            "building_id": pc.w.building.pk,
            "inspected_on": "2026-11-02",
            "items": [{"item": "楼道保洁", "passed": True}],
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="ins-1",
    )
    assert again.json()["id"] == made.json()["id"]
    assert Inspection.objects.filter(inspected_on=date(2026, 11, 2)).count() == 1
    outside = client_for(pc.user("other_secretary")).post(
        "/api/v1/propertyco/inspections",
        {
            "building_id": pc.w.building.pk,
            "inspected_on": "2026-11-02",
            "items": [{"item": "楼道保洁", "passed": True}],
        },
        content_type="application/json",
    )
    assert outside.status_code == 404
    score_id = detail["evidence"]["scores"][0]["id"]
    ev = company.get(f"/api/v1/propertyco/scores/{score_id}/evidence")
    assert ev.status_code == 200 and len(ev.json()["requests"]) == 4
    assert (
        client_for(pc.user("other_property"))
        .get(f"/api/v1/propertyco/scores/{score_id}/evidence")
        .status_code
        == 404
    )
    spec = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/propertyco/criteria",
        "/api/v1/propertyco/board",
        "/api/v1/propertyco/boards",
        "/api/v1/propertyco/boards/{board_id}/publish",
        "/api/v1/propertyco/inspections",
        "/api/v1/propertyco/register/{entry_id}/appeal",
        "/api/v1/propertyco/register/{entry_id}/decide",
        "/api/v1/propertyco/scores/{score_id}/evidence",
    ):
        assert path in spec, path


def test_staff_pages_compute_publish_and_export(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    Organisation.objects.filter(pk=pc.bing.pk).update(name='=HYPERLINK("http://x","点我")')
    officer = client_for(pc.user("street_officer"))
    assert officer.get("/propertyco/staff/").status_code == 200
    refused = officer.post("/propertyco/staff/", {"street": pc.street.pk, "quarter": "2027Q1"})
    assert refused.status_code == 200 and "还没有开始" in refused.content.decode()
    resp = officer.post("/propertyco/staff/", {"street": pc.street.pk, "quarter": "2026Q2"})
    board = Board.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/propertyco/staff/boards/{board.pk}/"
    page = officer.get(resp["Location"]).content.decode()
    assert "公布" in page and "丁物业" in page
    officer.post(f"/propertyco/staff/boards/{board.pk}/publish/")
    board.refresh_from_db()
    assert board.status == BoardStatus.PUBLISHED
    x = officer.get(f"/propertyco/staff/boards/{board.pk}/export.xlsx")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    sheet = wb.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["街道", "社区", "物业公司", "得分"]
    assert '\'=HYPERLINK("http://x","点我")' in [v[2] for v in values]
    assert [v[3] for v in values[1:]] == [100, 86.43, 24.29]
    assert wb.worksheets[1].title.startswith("评分标准")
    via_api = officer.get(f"/api/v1/propertyco/boards/{board.pk}/export.xlsx")
    assert via_api.status_code == 200 and via_api.content[:2] == b"PK"
    assert (
        client_for(pc.user("other_street_officer"))
        .get(f"/api/v1/propertyco/boards/{board.pk}/export.xlsx")
        .status_code
        == 404
    )
    # Outside the street: no page, no export.
    other = client_for(pc.user("other_street_officer"))
    assert other.get(f"/propertyco/staff/boards/{board.pk}/").status_code == 404
    assert other.get(f"/propertyco/staff/boards/{board.pk}/export.xlsx").status_code == 404


def test_inspection_form(pc: PC) -> None:
    c = client_for(pc.user("secretary"))
    assert c.get("/propertyco/staff/inspections/new/").status_code == 200
    resp = c.post(
        "/propertyco/staff/inspections/new/",
        {
            "building": pc.w.building.pk,
            "inspected_on": "2026-11-03",
            "item_1": "楼道保洁",
            "pass_1": "1",
            "item_2": "电梯运行",
            "pass_2": "0",
            "item_3": "",
            "note": "电梯异响",
            "idempotency_key": "form-ins-1",
        },
    )
    assert resp.status_code == 302
    ins = Inspection.objects.get()
    assert (ins.passed, ins.total, ins.company_id) == (1, 2, pc.jia.pk)
    bad = c.post(
        "/propertyco/staff/inspections/new/",
        {"building": pc.w.building.pk, "inspected_on": "2026-11-03", "item_1": "绿化"},
    )
    assert bad.status_code == 400 and "请为检查项目“绿化”选择合格或不合格。" in bad.content.decode()
    assert Inspection.objects.count() == 1
    assert (
        client_for(pc.user("property")).get("/propertyco/staff/inspections/new/").status_code == 404
    )


def test_property_staff_see_their_own_scores_and_appeal(pc: PC) -> None:
    seed_level(pc, Quarter(2026, 2), BAD)
    seed_level(pc, Quarter(2026, 3), BAD)
    compute_publish(pc, "2026Q2")
    compute_publish(pc, "2026Q3")
    entry = RegisterEntry.objects.get()
    c = client_for(pc.user("property"))
    page = c.get("/propertyco/company/").content.decode()
    assert "甲物业" in page and "2026年第3季度" in page and "丙物业" not in page
    assert client_for(pc.user("other_property")).get("/propertyco/company/").status_code == 200
    assert (
        "甲物业"
        not in client_for(pc.user("other_property")).get("/propertyco/company/").content.decode()
    )
    detail = c.get(f"/propertyco/register/{entry.pk}/").content.decode()
    assert "提出申诉" in detail
    empty = c.post(f"/propertyco/register/{entry.pk}/appeal/", {"reason": ""}, follow=True)
    assert "请填写“提出申诉”的理由。" in empty.content.decode()
    c.post(f"/propertyco/register/{entry.pk}/appeal/", {"reason": "电梯故障系厂家原因"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.APPEALED
    public = Client().get(f"/propertyco/register/{entry.pk}/").content.decode()
    assert "甲物业" in public and "电梯故障系厂家原因" not in public
    reg = Client().get("/propertyco/register/").content.decode()
    assert "甲物业" in reg and "2029-11-20" in reg


def test_criteria_page(pc: PC) -> None:
    assert Client().get("/propertyco/criteria/").status_code == 200
    admin = client_for(pc.user("platform_admin"))
    bad = admin.post(
        "/propertyco/criteria/",
        {
            "w_rating": "30",
            "w_survey": "30",
            "w_ontime": "15",
            "w_resolution": "15",
            "w_inspection": "5",
            "min_sample": "10",
            "red_percent": "20",
            "red_min_score": "85",
            "black_percent": "10",
            "black_below": "70",
        },
    )
    assert bad.status_code == 400 and "现在是 95%" in bad.content.decode()
    assert Client().post("/propertyco/criteria/", {}).status_code in (403, 404)
