from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from openpyxl import Workbook, load_workbook

from linli.communities.models import Building, Household, Resident
from linli.communities.roster import COLUMNS, id_number_valid, roster_import
from linli.core.errors import NotFound, ValidationFailed
from linli.core.models import AuditEvent

pytestmark = pytest.mark.django_db
HEADER = [h for _k, h, _e in COLUMNS]
GOOD = [
    [
        "第1网格",
        "1幢",
        "1",
        "102",
        "88.50",
        "业主",
        "赵一",
        "男",
        "1950",
        "户主",
        "13900001111",
        "110105195001010012",
        "独居老人",
        "热心居民",
    ],
    ["第1网格", "5幢", "2", "301", "66", "租户", "钱二", "女", "1995", "户主", "", "", "", ""],
    ["第1网格", "5幢", "2", "301", "66", "租户", "钱小", "女", "2018", "子女", "", "", "", ""],
]


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    return buf.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append([int(v) if v.isdigit() and len(v) == 4 else v for v in r])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _counts() -> tuple[int, int, int, int]:
    return (
        Resident.objects.count(),
        Household.objects.count(),
        Building.objects.count(),
        AuditEvent.objects.count(),
    )


def test_id_checksum() -> None:
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_valid_file_imports_everything(world, fmt: str) -> None:
    data = _csv(GOOD) if fmt == "csv" else _xlsx(GOOD)
    before = _counts()
    res = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(data),
        filename=f"r.{fmt}",
    )
    assert res.errors == []
    assert (res.residents_created, res.households_created, res.buildings_created) == (3, 2, 1)
    after = _counts()
    assert after[0] - before[0] == 3 and after[1] - before[1] == 2 and after[2] - before[2] == 1
    zhao = Resident.objects.get(name="赵一")
    assert zhao.tags == ["living_alone"] and zhao.tier == "active" and zhao.grid_id == world.grid.pk
    assert Household.objects.get(building__name="5幢").tenure == "tenant"
    assert AuditEvent.objects.filter(action="roster.import").count() == 1


def test_one_bad_row_imports_nothing_and_names_row_and_column(world) -> None:
    bad = [
        *GOOD,
        [
            "第9网格",
            "1幢",
            "1",
            "103",
            "-5",
            "业主",
            "",
            "男",
            "1850",
            "户主",
            "12345",
            "110105194912310021",
            "外星人",
            "x",
        ],
    ]
    before = _counts()
    res = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv(bad)),
        filename="r.csv",
    )
    assert _counts() == before
    cols = {(e.row, e.column) for e in res.errors}
    assert {
        (5, "网格"),
        (5, "面积"),
        (5, "姓名"),
        (5, "出生年份"),
        (5, "手机号"),
        (5, "身份证号"),
        (5, "特殊群体"),
        (5, "参与层级"),
    } <= cols
    msgs = [str(e) for e in res.errors]
    assert any("第 5 行「网格」" in m for m in msgs)


def test_duplicates_within_file_and_against_database(world) -> None:
    rows = [GOOD[0], GOOD[0]]
    res = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv(rows)),
        filename="r.csv",
    )
    assert any("与第 2 行" in e.message for e in res.errors)
    ok = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv([GOOD[1]])),
        filename="r.csv",
    )
    assert ok.errors == []
    again = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv([GOOD[1]])),
        filename="r.csv",
    )
    assert any("同名居民" in e.message for e in again.errors)


def test_household_area_conflict_with_existing(world) -> None:
    row = ["第1网格", "1幢", "1", "101", "99", "业主", "新人", "男", "1990", "配偶", "", "", "", ""]
    res = roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv([row])),
        filename="r.csv",
    )
    assert any(e.column == "面积" and "80.00" in e.message for e in res.errors)


@pytest.mark.parametrize(
    "data,filename,code",
    [
        (b"", "r.csv", "empty_file"),
        (b"not a zip at all", "r.xlsx", "bad_xlsx"),
        (b"\x89PNG\r\n", "r.png", "bad_type"),
        ("姓名,楼栋\n张三,1幢\n".encode(), "r.csv", "missing_columns"),
        (b"\xff\xfe\x00\x00garbage\x81", "r.csv", "bad_encoding"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_code(
    world, data: bytes, filename: str, code: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        roster_import(
            actor=world.user("secretary"),
            community=world.community,
            upload=io.BytesIO(data),
            filename=filename,
        )
    assert exc.value.code == code
    assert _counts() == before


@override_settings(LINLI_IMPORT_MAX_BYTES=1000)
def test_oversized_file_is_refused(world) -> None:
    with pytest.raises(ValidationFailed) as exc:
        roster_import(
            actor=world.user("secretary"),
            community=world.community,
            upload=io.BytesIO(_csv(GOOD * 20)),
            filename="r.csv",
        )
    assert exc.value.code == "file_too_large"


@override_settings(LINLI_IMPORT_MAX_ROWS=2)
def test_too_many_rows_is_refused(world) -> None:
    with pytest.raises(ValidationFailed) as exc:
        roster_import(
            actor=world.user("secretary"),
            community=world.community,
            upload=io.BytesIO(_csv(GOOD)),
            filename="r.csv",
        )
    assert exc.value.code == "too_many_rows"


def test_only_staff_of_that_community_may_import(world) -> None:
    for who in ["grid_worker", "other_secretary", "resident", "street_officer"]:
        with pytest.raises(NotFound):
            roster_import(
                actor=world.user(who),
                community=world.community,
                upload=io.BytesIO(_csv(GOOD)),
                filename="r.csv",
            )


def test_import_page_shows_errors_with_400(world) -> None:
    c = Client()
    c.force_login(world.user("secretary"))
    bad = [
        ["第1网格", "1幢", "1", "105", "abc", "业主", "孙", "男", "1990", "户主", "", "", "", ""]
    ]
    r = c.post(
        "/communities/import/",
        {"community": world.community.pk, "file": SimpleUploadedFile("r.csv", _csv(bad))},
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "未导入任何数据" in html and "面积" in html
    r = c.post(
        "/communities/import/",
        {"community": world.community.pk, "file": SimpleUploadedFile("r.csv", _csv(GOOD))},
    )
    assert r.status_code == 302
    assert Resident.objects.filter(name="钱小").exists()


def test_export_round_trips_and_masks_without_grant(world) -> None:
    roster_import(
        actor=world.user("secretary"),
        community=world.community,
        upload=io.BytesIO(_csv(GOOD)),
        filename="r.csv",
    )
    c = Client()
    c.force_login(world.user("secretary"))
    r = c.get(f"/communities/export/?community={world.community.pk}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    zhao = next(row for row in rows if row[6] == "赵一")
    assert zhao[10] == "139****1111" and zhao[12] == "独居老人"
    r = c.get(f"/communities/export/?community={world.community.pk}&format=csv")
    assert "赵一" in r.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="roster.export").count() == 2
    c.force_login(world.user("other_secretary"))
    assert c.get(f"/communities/export/?community={world.community.pk}").status_code == 404


def test_export_escapes_formulas_in_csv_and_xlsx(world) -> None:
    """A name typed as a formula must arrive in the spreadsheet as text, not a formula."""
    res = Resident.objects.filter(community=world.community).first()
    assert res is not None
    Resident.objects.filter(pk=res.pk).update(name='=HYPERLINK("http://evil","点我")')
    c = Client()
    c.force_login(world.user("secretary"))
    r = c.get(f"/communities/export/?community={world.community.pk}&format=csv")
    text = r.content.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and ",=HYPERLINK(" not in text
    assert r["Cache-Control"] == "no-store"
    r = c.get(f"/communities/export/?community={world.community.pk}")
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert '\'=HYPERLINK("http://evil","点我")' in cells
    assert not any(v.startswith("=") for v in cells)


def test_safe_cell_rules() -> None:
    from linli.core.exports import safe_cell

    for bad in ("=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell(-2) == -2 and safe_cell("张三") == "张三" and safe_cell(None) is None
