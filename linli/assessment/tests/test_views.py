"""Pages, exports and API by role × unit: who sees which board (others get the same
404 as a missing unit), exports refused outside the viewer's scope with a message,
the public card without personal data, and bad periods answered with the reason."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from linli.assessment import services
from linli.assessment.tests.conftest import MARCH, SH

APRIL_10 = datetime(2026, 4, 10, 9, 0, tzinfo=SH)


@pytest.fixture
def snapped(world: Any, march: Any) -> Any:
    services.snapshot_month(month=MARCH, now=APRIL_10, notify=False)
    return world


def _units(w: Any) -> dict[str, Any]:
    return {
        "district": w.district,
        "street": w.street,
        "other_street": w.other_street,
        "community": w.community,
        "other_community": w.other_community,
        "grid": w.grid,
    }


# Which units each role may open (everything else answers 404).
MATRIX = {
    "platform_admin": {
        "district",
        "street",
        "other_street",
        "community",
        "other_community",
        "grid",
    },
    "street_officer": {"street", "community", "grid"},
    "secretary": {"community", "grid"},
    "worker": {"community", "grid"},
    "supervisor": {"community", "grid"},
    "grid_worker": {"grid"},
    "other_secretary": {"other_community"},
    "resident": set(),
    "property": set(),
    "department": set(),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_board_scope_matrix(client: Any, snapped: Any, role: str) -> None:
    client.force_login(snapped.user(role))
    for key, unit in _units(snapped).items():
        r = client.get(f"/assessment/u/{unit.pk}/?period=2026-03")
        want = 200 if key in MATRIX[role] else 404
        assert r.status_code == want, (role, key, r.status_code)
        x = client.get(f"/assessment/u/{unit.pk}/export.xlsx?period=2026-03")
        assert x.status_code == want, (role, key, "export")
        if want == 404:
            assert "不在您的管辖范围内" in x.content.decode()
        api = client.get(f"/api/v1/assessment/units/{unit.pk}?period=2026-03")
        assert api.status_code == want, (role, key, "api")
        for extra in ("integrity/", "data/trend.csv"):
            r = client.get(f"/assessment/u/{unit.pk}/{extra}?period=2026-03")
            assert r.status_code == want, (role, key, extra)


def test_street_board_ranks_and_exports(client: Any, snapped: Any) -> None:
    client.force_login(snapped.user("street_officer"))
    page = client.get(f"/assessment/u/{snapped.street.pk}/?period=2026-03").content.decode()
    assert "阳光社区" in page and "样本不足" in page  # 3 ratings < the 30 required
    x = client.get(f"/assessment/u/{snapped.street.pk}/export.xlsx?period=2026-03")
    assert x["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(x.content))
    assert {"概况", "指标", "社区排名", "趋势"} <= set(wb.sheetnames)
    rows = list(wb["指标"].iter_rows(values_only=True))
    sat = next(r for r in rows if r[0] == "居民满意度")
    assert sat[2:4] == (2, 3)  # 2 of 3 ratings good (no survey in this month)
    pdf = client.get(f"/assessment/u/{snapped.street.pk}/export.pdf?period=2026-03")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = client.get(f"/assessment/u/{snapped.street.pk}/data/ranking.csv?period=2026-03")
    assert csv.status_code == 200 and "阳光社区" in csv.content.decode("utf-8-sig")


def test_community_board_has_heat_and_grid_drilldown(client: Any, snapped: Any) -> None:
    client.force_login(snapped.user("secretary"))
    page = client.get(f"/assessment/u/{snapped.community.pk}/?period=2026-03").content.decode()
    assert "楼栋诉求热度" in page
    assert f"/assessment/b/{snapped.building.pk}/" in page
    assert "1幢·6" in page  # six requests in 1幢, printed on the plan
    grid = client.get(f"/assessment/u/{snapped.grid.pk}/?period=2026-03").content.decode()
    assert "1幢" in grid
    b = client.get(f"/assessment/b/{snapped.building.pk}/?period=2026-03")
    assert b.status_code == 200 and "2026-03" in b.content.decode()
    client.force_login(snapped.user("other_secretary"))
    assert client.get(f"/assessment/b/{snapped.building.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("period", "needle"), [("2099-01", "未来"), ("2026-13", "1 到 12"), ("abc", "格式")]
)
def test_bad_period_answers_with_reason(
    client: Any, snapped: Any, period: str, needle: str
) -> None:
    client.force_login(snapped.user("street_officer"))
    r = client.get(f"/assessment/u/{snapped.street.pk}/?period={period}")
    assert r.status_code == 400 and needle in r.content.decode()
    x = client.get(f"/assessment/u/{snapped.street.pk}/export.pdf?period={period}")
    assert x.status_code == 400 and needle in x.content.decode()
    api = client.get(f"/api/v1/assessment/units/{snapped.street.pk}?period={period}")
    assert api.status_code == 400 and needle in api.json()["message"]


def test_public_card_shows_no_personal_data(client: Any, snapped: Any) -> None:
    r = client.get(f"/assessment/public/{snapped.community.pk}/?period=2026-03")
    html = r.content.decode()
    assert r.status_code == 200 and "考核结果" in html
    for secret in ("张三", "李四", "13812341234", "测试诉求"):
        assert secret not in html
    api = client.get(f"/api/v1/assessment/public/{snapped.community.pk}?period=2026-03")
    assert api.status_code == 200
    body = api.content.decode()
    assert api.json()["community_name"] == "阳光社区"
    assert "张三" not in body and "13812341234" not in body


def test_integrity_page_lists_recategorisation(client: Any, snapped: Any, march: Any) -> None:
    from linli.assessment.tests.conftest import AT
    from linli.requests.services import request_recategorise

    req = march.requests[3]  # still open
    request_recategorise(
        actor=snapped.user("secretary"),
        request=req,
        category_code="fac-light",
        reason="其实是灯坏",
        now=AT,
    )
    client.force_login(snapped.user("street_officer"))
    html = client.get(
        f"/assessment/u/{snapped.street.pk}/integrity/?period=2026-03"
    ).content.decode()
    assert "其实是灯坏" in html and f"request:{req.pk}" in html
    # Not in another month, and not for a street officer of another street.
    other = client.get(f"/assessment/u/{snapped.street.pk}/integrity/?period=2026-02")
    assert "其实是灯坏" not in other.content.decode()
    client.force_login(snapped.user("other_street_officer"))
    assert client.get(f"/assessment/u/{snapped.street.pk}/integrity/").status_code == 404


def test_weights_page_form_refuses_bad_sum(client: Any, snapped: Any) -> None:
    client.force_login(snapped.user("platform_admin"))
    data = {**{k: v for k, v in services.DEFAULTS.items()}, "w_conflict": 10}
    data["district"] = snapped.district.pk
    r = client.post("/assessment/weights/", data)
    assert r.status_code == 400
    assert "结果指标的三项权重之和须为 100%，现在是 80%" in r.content.decode()
    data["w_conflict"] = 30
    ok = client.post("/assessment/weights/", data)
    assert ok.status_code == 302
    client.force_login(snapped.user("secretary"))
    assert client.get("/assessment/weights/").status_code == 404
