"""Roster import and export (Excel .xlsx and CSV).

Import is all-or-nothing: every row is validated first and errors are reported by row
and column in Chinese; only a file without a single error is written, in one
transaction, with one audit event.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from linli.communities.models import (
    Building,
    Household,
    OrgUnit,
    OutsideOwner,
    Ownership,
    Resident,
    SpecialGroup,
)
from linli.communities.ownership import parse_share
from linli.communities.permissions import current_grant, manages_community
from linli.core import audit
from linli.core.errors import NotFound, ValidationFailed

# (key, header) in file order. Headers are Chinese because the files come from and go
# to community offices; English headers are accepted on import as well.
COLUMNS: list[tuple[str, str, str]] = [
    ("grid", "网格", "grid"),
    ("building", "楼栋", "building"),
    ("unit", "单元", "unit"),
    ("room", "房号", "room"),
    ("area_m2", "面积", "area_m2"),
    ("tenure", "产权", "tenure"),
    ("name", "姓名", "name"),
    ("gender", "性别", "gender"),
    ("birth_year", "出生年份", "birth_year"),
    ("relation", "与户主关系", "relation"),
    ("phone", "手机号", "phone"),
    ("id_number", "身份证号", "id_number"),
    ("tags", "特殊群体", "tags"),
    ("tier", "参与层级", "tier"),
    # Ownership (产权): optional; files without these columns import as before.
    ("owner", "产权人", "owner"),
    ("share", "产权份额", "share"),
    ("resides", "在此居住", "resides"),
]
REQUIRED = {"grid", "building", "room", "area_m2", "tenure", "name", "birth_year"}
# A row that only records ownership (the person lives elsewhere) needs no birth year.
OWNER_ONLY_OPTIONAL = {"birth_year"}
YES_NO = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False, "": None}
HEADER_TO_KEY = {h: k for k, h, _e in COLUMNS} | {e: k for k, _h, e in COLUMNS}
KEY_TO_HEADER = {k: h for k, h, _e in COLUMNS}

TENURE = {"业主": "owner", "租户": "tenant", "owner": "owner", "tenant": "tenant"}
GENDER = {"男": "m", "女": "f", "m": "m", "f": "f", "": ""}
RELATION = {str(label): value for value, label in Resident.Relation.choices} | {
    v: v for v in Resident.Relation.values
}
TIER = {str(label).split("（")[0]: value for value, label in Resident.Tier.choices} | {
    v: v for v in Resident.Tier.values
}
TAGS = {str(label): value for value, label in SpecialGroup.choices} | {
    v: v for v in SpecialGroup.values
}
# One filled-in example row for the downloadable template (same order as COLUMNS).
TEMPLATE_EXAMPLE = [
    "1网格",
    "1幢",
    "2",
    "301",
    "89.5",
    "业主",
    "张三",
    "男",
    "1958",
    "户主",
    "13800000000",
    "",
    "独居老人",
    "一般居民",
    "是",
    "1",
    "是",
]


def allowed_values() -> list[tuple[str, bool, str]]:
    """(header, required, what may be written) per column, shown on the import page."""
    join = "、".join
    allowed = {
        "grid": _("本社区已有网格的名称"),
        "building": _("楼栋名称，如 1幢"),
        "unit": _("单元号，可空"),
        "room": _("房号，如 301"),
        "area_m2": _("建筑面积（平方米），数字"),
        "tenure": join(["业主", "租户"]),
        "name": _("居民姓名"),
        "gender": join(["男", "女"]) + _("，可空"),
        "birth_year": _("四位年份，如 1958"),
        "relation": join(str(lbl) for _v, lbl in Resident.Relation.choices),
        "phone": _("11位手机号，可空"),
        "id_number": _("18位身份证号，可空（校验码须正确）"),
        "tags": join(str(lbl) for _v, lbl in SpecialGroup.choices) + _("，多个用“、”分隔，可空"),
        "tier": join(str(lbl).split("（")[0] for _v, lbl in Resident.Tier.choices) + _("，可空"),
        "owner": _(
            "是 / 否，可空。同一身份证号出现在多套房屋的产权人行，"
            "视为同一位业主（导入前列出合并预览）"
        ),
        "share": _("共有时每位共有人的份额，如 0.5、50% 或 1/2，一户合计须为 1；独有可空"),
        "resides": _("是 / 否，可空（默认是）。“否”表示只登记产权、此人不住在这里，须填身份证号"),
    }
    return [(h, k in REQUIRED, str(allowed[k])) for k, h, _e in COLUMNS]


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_number_valid(value: str) -> bool:
    """GB 11643-1999: 17 digits and a mod-11 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


@dataclass
class RowError:
    row: int  # 1-based row number as shown in Excel (header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return _("第 %(row)d 行「%(col)s」：%(msg)s") % {
            "row": self.row,
            "col": self.column,
            "msg": self.message,
        }


@dataclass(frozen=True)
class Merge:
    """One owner whose ID number appears on several units (or is already on the
    roster): the import records them once, owning every listed unit."""

    name: str
    id_masked: str
    rows: tuple[int, ...]
    units: tuple[str, ...]
    existing: bool  # already registered in the community


@dataclass
class ImportResult:
    households_created: int = 0
    buildings_created: int = 0
    residents_created: int = 0
    ownerships_created: int = 0
    outside_owners_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    # Merges were found and not yet confirmed: nothing was written.
    needs_confirmation: bool = False


def _read_rows(upload: IO[bytes], filename: str) -> list[list[str]]:
    name = filename.lower()
    raw = upload.read(settings.LINLI_IMPORT_MAX_BYTES + 1)
    if len(raw) > settings.LINLI_IMPORT_MAX_BYTES:
        mb = settings.LINLI_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ValidationFailed(
            _("文件过大（上限 %(mb)d MB）。") % {"mb": mb}, code="file_too_large"
        )
    if not raw:
        raise ValidationFailed(_("文件是空的。"), code="empty_file")
    if name.endswith(".csv"):
        text = None
        for enc in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise ValidationFailed(_("无法识别文件编码，请另存为 UTF-8 CSV。"), code="bad_encoding")
        try:
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise ValidationFailed(
                _("CSV 文件格式有误：%(e)s") % {"e": exc}, code="bad_csv"
            ) from exc
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise ValidationFailed(
                _("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), code="bad_xlsx"
            ) from exc
        ws = wb.worksheets[0]
        rows: list[list[str]] = []
        for values in ws.iter_rows(values_only=True):
            rows.append(["" if v is None else _cell_text(v) for v in values])
            if len(rows) > settings.LINLI_IMPORT_MAX_ROWS + 1:
                break
        wb.close()
        return rows
    raise ValidationFailed(_("只支持 .xlsx 或 .csv 文件。"), code="bad_type")


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


@dataclass
class Parsed:
    rows: list[dict[str, Any]]
    errors: list[RowError]
    merges: list[Merge]
    # ID numbers whose first row records ownership only and who are not registered:
    # outside owners (业主 not living in the community) to create.
    outside_ids: set[str]


def parse_and_validate(
    *, community: OrgUnit, upload: IO[bytes], filename: str
) -> tuple[list[dict[str, Any]], list[RowError]]:
    p = parse_roster(community=community, upload=upload, filename=filename)
    return p.rows, p.errors


def parse_roster(*, community: OrgUnit, upload: IO[bytes], filename: str) -> Parsed:
    rows = _read_rows(upload, filename)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationFailed(_("文件中没有数据。"), code="empty_file")
    header = rows[0]
    keys = [HEADER_TO_KEY.get(h.strip()) for h in header]
    missing = [KEY_TO_HEADER[k] for k in REQUIRED if k not in keys]
    if missing:
        raise ValidationFailed(
            _("缺少必填列：%(cols)s。请使用导出的模板。") % {"cols": "、".join(sorted(missing))},
            code="missing_columns",
        )
    body = rows[1:]
    if len(body) > settings.LINLI_IMPORT_MAX_ROWS:
        raise ValidationFailed(
            _("行数过多（上限 %(n)d 行），请拆分文件。") % {"n": settings.LINLI_IMPORT_MAX_ROWS},
            code="too_many_rows",
        )
    grids = {g.name: g for g in OrgUnit.objects.filter(parent=community, kind="grid")}
    buildings = {b.name: b for b in Building.objects.filter(community=community)}
    existing_households = {
        (h.building.name, h.unit, h.room): h
        for h in Household.objects.filter(community=community).select_related("building")
    }
    existing_ids = set(
        Resident.objects.filter(community=community)
        .exclude(id_number="")
        .values_list("id_number", flat=True)
    )
    existing_people = set(
        Resident.objects.filter(community=community).values_list("household_id", "name")
    )
    existing_outside = set(
        OutsideOwner.objects.filter(community=community)
        .exclude(id_number="")
        .values_list("id_number", flat=True)
    )
    owned_units = set(
        Ownership.objects.filter(community=community, until__isnull=True).values_list(
            "household_id", flat=True
        )
    )
    this_year = date.today().year
    errors: list[RowError] = []
    parsed: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    id_names: dict[str, str] = {}
    id_units: dict[str, list[tuple[int, tuple[str, str, str]]]] = {}
    id_owner_only_first: set[str] = set()
    seen_id_units: dict[tuple[str, tuple[str, str, str]], int] = {}
    unit_owner_rows: dict[tuple[str, str, str], list[tuple[int, Decimal | None]]] = {}
    seen_people: dict[tuple[str, str, str, str], int] = {}
    file_households: dict[tuple[str, str, str], tuple[Decimal, str, int]] = {}

    for idx, raw in enumerate(body, start=2):
        if not any(raw):
            continue
        rec = {k: (raw[i].strip() if i < len(raw) else "") for i, k in enumerate(keys) if k}

        def err(key: str, msg: str, _row: int = idx) -> None:
            errors.append(RowError(_row, KEY_TO_HEADER[key], msg))

        out: dict[str, Any] = {"row": idx}
        owner_only_row = YES_NO.get(rec.get("resides", "").lower()) is False
        for key in REQUIRED:
            if not rec.get(key) and not (owner_only_row and key in OWNER_ONLY_OPTIONAL):
                err(key, _("必填"))
        grid = grids.get(rec.get("grid", ""))
        if rec.get("grid") and grid is None:
            err("grid", _("本社区没有名为「%(v)s」的网格") % {"v": rec["grid"]})
        b = buildings.get(rec.get("building", ""))
        if b is not None and grid is not None and b.grid_id != grid.pk:
            err("building", _("该楼栋属于网格「%(g)s」，与本行网格不符") % {"g": b.grid.name})
        try:
            area = Decimal(rec.get("area_m2", "") or "x")
            if area <= 0 or area > 10000 or area.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidOperation
        except InvalidOperation:
            area = Decimal(0)
            if rec.get("area_m2"):
                err("area_m2", _("应为大于 0 的数字，最多两位小数"))
        tenure = TENURE.get(rec.get("tenure", ""))
        if rec.get("tenure") and tenure is None:
            err("tenure", _("应为「业主」或「租户」"))
        gender = GENDER.get(rec.get("gender", ""))
        if gender is None:
            err("gender", _("应为「男」或「女」"))
        try:
            birth_year = int(rec.get("birth_year", "") or "x")
            if not 1900 <= birth_year <= this_year:
                raise ValueError
        except ValueError:
            birth_year = 0
            if rec.get("birth_year"):
                err("birth_year", _("应为 1900 到 %(y)d 之间的年份") % {"y": this_year})
        relation = RELATION.get(rec.get("relation", "") or "户主")
        if relation is None:
            err("relation", _("无法识别的关系"))
        phone = rec.get("phone", "")
        if phone and not PHONE_RE.match(phone):
            err("phone", _("应为 11 位手机号"))
        id_number = rec.get("id_number", "").upper()
        is_owner = YES_NO.get(rec.get("owner", "").lower())
        resides = YES_NO.get(rec.get("resides", "").lower())
        if rec.get("owner") and is_owner is None:
            err("owner", _("应为「是」或「否」"))
        if rec.get("resides") and resides is None:
            err("resides", _("应为「是」或「否」"))
        addr = (rec.get("building", ""), rec.get("unit", ""), rec.get("room", ""))
        # owner_only: this row records ownership only (the person lives elsewhere —
        # another row of the file, the roster already, or outside the community).
        owner_only = resides is False
        share: Decimal | None = None
        if rec.get("share"):
            try:
                share = parse_share(rec["share"])
            except ValidationFailed as exc:
                err("share", str(exc.message))
            if not is_owner:
                err("share", _("只有产权人行才填写产权份额"))
        if owner_only and not (is_owner and id_number):
            err("resides", _("不在此居住的行须为产权人，并填写身份证号"))
        if id_number:
            if not id_number_valid(id_number):
                err("id_number", _("身份证号格式或校验位不正确"))
            elif (id_number, addr) in seen_id_units:
                first_here = seen_id_units[(id_number, addr)]
                err("id_number", _("同一户中该身份证号重复（第 %(r)d 行）") % {"r": first_here})
            elif id_number in existing_ids or id_number in existing_outside:
                if not is_owner:
                    err("id_number", _("该身份证号已在本社区登记"))
                else:
                    owner_only = True  # the same person, already registered: merged
                    id_units.setdefault(id_number, []).append((idx, addr))
            elif id_number in seen_ids:
                first = seen_ids[id_number]
                if not is_owner:
                    err("id_number", _("与第 %(r)d 行重复") % {"r": first})
                elif id_names[id_number] != rec.get("name", ""):
                    err("name", _("与第 %(r)d 行身份证号相同但姓名不同") % {"r": first})
                else:
                    owner_only = True  # one owner, several units
                    id_units[id_number].append((idx, addr))
            else:
                seen_ids[id_number] = idx
                id_names[id_number] = rec.get("name", "")
                id_units[id_number] = [(idx, addr)]
                if owner_only:
                    id_owner_only_first.add(id_number)
            seen_id_units.setdefault((id_number, addr), idx)
        tags: list[str] = []
        for part in re.split(r"[、,，;；\s]+", rec.get("tags", "")):
            if not part:
                continue
            if part not in TAGS:
                err("tags", _("未知标签「%(t)s」") % {"t": part})
            else:
                tags.append(TAGS[part])
        tier = TIER.get(rec.get("tier", "") or "none")
        if tier is None:
            err("tier", _("应为 居民代表 / 楼栋联络员 / 热心居民 / 一般居民"))
        person = (*addr, rec.get("name", ""))
        if owner_only:
            pass  # no resident is created for this row
        elif person in seen_people:
            err("name", _("与第 %(r)d 行是同一户的同名居民") % {"r": seen_people[person]})
        else:
            seen_people[person] = idx
        existing_h = existing_households.get(addr)
        if is_owner:
            unit_owner_rows.setdefault(addr, []).append((idx, share))
            if existing_h is not None and existing_h.pk in owned_units:
                err("owner", _("该户已登记产权人，如需变更请在产权页面更正"))
        if existing_h is not None:
            if not owner_only and (existing_h.pk, rec.get("name", "")) in existing_people:
                err("name", _("该户已有同名居民"))
            if area and existing_h.area_m2 != area:
                err("area_m2", _("与已登记面积 %(a)s 不一致") % {"a": existing_h.area_m2})
            if tenure and existing_h.tenure != tenure:
                err("tenure", _("与已登记产权状态不一致"))
        elif area and tenure:
            prior = file_households.get(addr)
            if prior is None:
                file_households[addr] = (area, tenure, idx)
            elif prior[0] != area or prior[1] != tenure:
                err("area_m2", _("同一户的面积/产权与第 %(r)d 行不一致") % {"r": prior[2]})
        for key in ("name", "unit", "room", "building"):
            limit = {"name": 40, "unit": 10, "room": 10, "building": 40}[key]
            if len(rec.get(key, "")) > limit:
                err(key, _("过长（最多 %(n)d 个字符）") % {"n": limit})
        out.update(
            grid=grid,
            building=rec.get("building", ""),
            unit=rec.get("unit", ""),
            room=rec.get("room", ""),
            area_m2=area,
            tenure=tenure,
            name=rec.get("name", ""),
            gender=gender or "",
            birth_year=birth_year,
            relation=relation,
            phone=phone,
            id_number=id_number,
            tags=sorted(set(tags)),
            tier=tier,
            owner=bool(is_owner),
            share=share,
            owner_only=owner_only,
        )
        parsed.append(out)
    if not parsed and not errors:
        raise ValidationFailed(_("文件中没有数据。"), code="empty_file")
    # Co-owners' shares, per unit: a sole owner may leave the share empty (= 1);
    # co-owners each state theirs and together they make exactly 1.
    for owner_rows in unit_owner_rows.values():
        if len(owner_rows) == 1:
            continue
        if any(sh is None for _r, sh in owner_rows):
            for r, sh in owner_rows:
                if sh is None:
                    errors.append(RowError(r, KEY_TO_HEADER["share"], _("共有人须填写产权份额")))
            continue
        total = sum((sh for _r, sh in owner_rows if sh is not None), Decimal(0))
        if total != 1:
            errors.append(
                RowError(
                    owner_rows[0][0],
                    KEY_TO_HEADER["share"],
                    _("该户共有人的产权份额合计应为 1，现为 %(t)s") % {"t": total.normalize()},
                )
            )
    errors.sort(key=lambda e: (e.row, e.column))
    from linli.core.masking import mask_id_number

    merges = [
        Merge(
            name=id_names.get(idn)
            or next((str(r["name"]) for r in parsed if r["id_number"] == idn), ""),
            id_masked=mask_id_number(idn),
            rows=tuple(r for r, _a in units),
            units=tuple(f"{b}{u + '单元' if u else ''}{room}" for _r, (b, u, room) in units),
            existing=idn in existing_ids or idn in existing_outside,
        )
        for idn, units in id_units.items()
        if len(units) > 1 or idn in existing_ids or idn in existing_outside
    ]
    return Parsed(parsed, errors, merges, id_owner_only_first)


def roster_import(
    *,
    actor: Any,
    community: OrgUnit,
    upload: IO[bytes],
    filename: str,
    confirm_merges: bool = False,
) -> ImportResult:
    """Validate the whole file; write nothing unless every row is valid. When the file
    names one owner on several units (or an owner already registered), the merges are
    listed and nothing is written until the caller confirms them."""
    if community.kind != "community" or not manages_community(actor, community):
        raise NotFound()
    parsed = parse_roster(community=community, upload=upload, filename=filename)
    rows = parsed.rows
    result = ImportResult(errors=parsed.errors, merges=parsed.merges)
    if result.errors:
        return result
    if parsed.merges and not confirm_merges:
        result.needs_confirmation = True
        return result
    with transaction.atomic():
        buildings = {b.name: b for b in Building.objects.filter(community=community)}
        households = {
            (h.building.name, h.unit, h.room): h
            for h in Household.objects.filter(community=community).select_related("building")
        }
        new_residents: list[Resident] = []
        row_household: dict[int, Household] = {}
        for r in rows:
            b = buildings.get(r["building"])
            if b is None:
                b = Building.objects.create(community=community, grid=r["grid"], name=r["building"])
                buildings[b.name] = b
                result.buildings_created += 1
            key = (r["building"], r["unit"], r["room"])
            h = households.get(key)
            if h is None:
                h = Household.objects.create(
                    community=community,
                    building=b,
                    unit=r["unit"],
                    room=r["room"],
                    area_m2=r["area_m2"],
                    tenure=r["tenure"],
                )
                households[key] = h
                result.households_created += 1
            row_household[r["row"]] = h
            if r["owner_only"]:
                continue
            new_residents.append(
                Resident(
                    community=community,
                    grid_id=b.grid_id,
                    household=h,
                    name=r["name"],
                    gender=r["gender"],
                    birth_year=r["birth_year"],
                    relation=r["relation"],
                    phone=r["phone"],
                    id_number=r["id_number"],
                    tags=r["tags"],
                    tier=r["tier"],
                )
            )
        created = Resident.objects.bulk_create(new_residents, batch_size=1000)
        result.residents_created = len(new_residents)
        _record_ownerships(community, rows, row_household, created, parsed.outside_ids, result)
        audit.record(
            actor=actor,
            action="roster.import",
            target=community,
            community_id=community.pk,
            payload={
                "file": filename[:100],
                "residents": result.residents_created,
                "households": result.households_created,
                "buildings": result.buildings_created,
                "ownerships": result.ownerships_created,
                "outside_owners": result.outside_owners_created,
                "merged_owners": len(result.merges),
            },
        )
    return result


def _record_ownerships(
    community: OrgUnit,
    rows: list[dict[str, Any]],
    row_household: dict[int, Household],
    created: list[Resident],
    outside_ids: set[str],
    result: ImportResult,
) -> None:
    """The file's owner rows as Ownership rows (validated by :func:`parse_roster`:
    shares add up per unit, no unit already has recorded owners)."""
    owner_rows = [r for r in rows if r["owner"]]
    if not owner_rows:
        return
    residing = [r for r in rows if not r["owner_only"]]
    by_row = {r["row"]: res for r, res in zip(residing, created, strict=True)}
    by_id: dict[str, Resident | OutsideOwner] = {
        res.id_number: res for res in created if res.id_number
    }
    ids = {r["id_number"] for r in owner_rows if r["id_number"]} - set(by_id)
    if ids:
        by_id |= {
            res.id_number: res
            for res in Resident.objects.filter(community=community, id_number__in=ids)
        }
        by_id |= {
            o.id_number: o
            for o in OutsideOwner.objects.filter(community=community, id_number__in=ids)
        }
    new_outside = [
        OutsideOwner(
            community=community,
            name=next(r["name"] for r in owner_rows if r["id_number"] == idn),
            id_number=idn,
            phone=next(r["phone"] for r in owner_rows if r["id_number"] == idn),
        )
        for idn in sorted(outside_ids - set(by_id))
    ]
    for o in OutsideOwner.objects.bulk_create(new_outside):
        by_id[o.id_number] = o
    result.outside_owners_created = len(new_outside)
    today = date.today()
    ownerships = []
    for r in owner_rows:
        owner: Resident | OutsideOwner | None = (
            by_row.get(r["row"]) if not r["owner_only"] else None
        )
        if owner is None:
            owner = by_id[r["id_number"]]
        ownerships.append(
            Ownership(
                community=community,
                household=row_household[r["row"]],
                resident=owner if isinstance(owner, Resident) else None,
                outside_owner=owner if isinstance(owner, OutsideOwner) else None,
                share=r["share"] if r["share"] is not None else Decimal(1),
                since=today,
            )
        )
    Ownership.objects.bulk_create(ownerships, batch_size=1000)
    result.ownerships_created = len(ownerships)


def _owner_only_rows(
    community: OrgUnit,
    owns: dict[tuple[int, str], Decimal],
    *,
    full_phone: bool,
    full_id: bool,
    mask_phone: Any,
    mask_id_number: Any,
) -> list[list[str]]:
    """Rows for ownership of units the owner does not live in (a resident's other
    units, outside owners). The developer's units are not persons: they stay on the
    产权 pages, not in the roster file."""
    rows: list[list[str]] = []
    people = [k for _h, k in owns if k[0] in "ro"]
    if not people:
        return rows
    r_ids = {int(k[1:]) for k in people if k[0] == "r"}
    o_ids = {int(k[1:]) for k in people if k[0] == "o"}
    who: dict[str, tuple[str, str, str]] = {
        f"r{pk}": (name, phone, idn)
        for pk, name, phone, idn in Resident.objects.filter(pk__in=r_ids).values_list(
            "pk", "name", "phone", "id_number"
        )
    } | {
        f"o{pk}": (name, phone, idn)
        for pk, name, phone, idn in OutsideOwner.objects.filter(pk__in=o_ids).values_list(
            "pk", "name", "phone", "id_number"
        )
    }
    units = {
        h.pk: h
        for h in Household.objects.filter(
            pk__in={hid for hid, _k in owns}, community=community
        ).select_related("building__grid")
    }
    for (hid, key), share in sorted(owns.items()):
        if key[0] not in "ro" or key not in who or hid not in units:
            continue
        h = units[hid]
        name, phone, idn = who[key]
        rows.append(
            [
                h.building.grid.name,
                h.building.name,
                h.unit,
                h.room,
                str(h.area_m2),
                "业主" if h.tenure == "owner" else "租户",
                name,
                "",
                "",
                "",
                phone if full_phone else mask_phone(phone),
                idn if full_id else mask_id_number(idn),
                "",
                "",
                "是",
                "" if share == 1 else f"{share.normalize()}",
                "否",
            ]
        )
    return rows


def roster_export_rows(*, actor: Any, community: OrgUnit) -> list[list[str]]:
    """The roster in the import layout. Phone and ID number are included only under a
    current grant for that scope (otherwise masked); the export itself is audited."""
    if community.kind != "community" or not manages_community(actor, community):
        raise NotFound()
    from linli.core.masking import mask_id_number, mask_phone

    tag_label = dict(SpecialGroup.choices)
    tier_label = {v: str(label).split("（")[0] for v, label in Resident.Tier.choices}
    rel_label = dict(Resident.Relation.choices)
    probe = Resident.objects.filter(community=community).select_related("grid").first()
    full_phone = probe is not None and current_grant(actor, probe, "contact") is not None
    full_id = probe is not None and current_grant(actor, probe, "identity") is not None
    medical = probe is not None and current_grant(actor, probe, "medical") is not None
    financial = probe is not None and current_grant(actor, probe, "financial") is not None
    from linli.communities.models import SENSITIVE_TAGS

    out = [[h for _k, h, _e in COLUMNS]]
    qs = (
        Resident.objects.filter(community=community, is_active=True)
        .select_related("household__building", "grid")
        .order_by("household__building__name", "household__unit", "household__room", "id")
    )
    # Active ownerships: (household, owner key) → share; the rows of units a person
    # owns but does not live in follow the roster (在此居住 = 否), so a re-import
    # records the same owners.
    owns: dict[tuple[int, str], Decimal] = {}
    for hid, rid, oid, did, share in Ownership.objects.filter(
        community=community, until__isnull=True
    ).values_list("household_id", "resident_id", "outside_owner_id", "developer_id", "share"):
        key = f"r{rid}" if rid else (f"o{oid}" if oid else f"d{did}")
        owns[(hid, key)] = share

    def share_text(share: Decimal | None) -> list[str]:
        if share is None:
            return ["", "", "是"]
        return ["是", "" if share == 1 else f"{share.normalize()}", "是"]

    for r in qs.iterator(chunk_size=2000):
        h = r.household
        shown_tags = [
            t
            for t in r.tags
            if t not in SENSITIVE_TAGS
            or (SENSITIVE_TAGS[t] == "medical" and medical)
            or (SENSITIVE_TAGS[t] == "financial" and financial)
        ]
        out.append(
            [
                r.grid.name,
                h.building.name,
                h.unit,
                h.room,
                str(h.area_m2),
                "业主" if h.tenure == "owner" else "租户",
                r.name,
                {"m": "男", "f": "女"}.get(r.gender, ""),
                str(r.birth_year),
                str(rel_label.get(r.relation, "")),
                r.phone if full_phone else mask_phone(r.phone),
                r.id_number if full_id else mask_id_number(r.id_number),
                "、".join(str(tag_label.get(t, t)) for t in shown_tags),
                tier_label.get(r.tier, ""),
                *share_text(owns.pop((h.pk, f"r{r.pk}"), None)),
            ]
        )
    out += _owner_only_rows(
        community,
        owns,
        full_phone=full_phone,
        full_id=full_id,
        mask_phone=mask_phone,
        mask_id_number=mask_id_number,
    )
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="roster.export",
            target=community,
            community_id=community.pk,
            payload={"rows": len(out) - 1, "phone": full_phone, "id_number": full_id},
        )
    return out
