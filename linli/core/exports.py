"""Spreadsheet exports (CSV and Excel) with formula injection escaped in one place.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read as a formula by Excel/WPS (``=HYPERLINK("http://evil","点我")`` in a resident's
memo would become a live link in the staff's statement). Such text gets a single
quote ``'`` in front, which spreadsheet programs show as plain text (OWASP "CSV
injection"). Numbers, dates and None pass unchanged, so totals
still add up; a negative *number* is a number, only *text* that starts with "-" is
escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # exports hold personal data
    return response


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> HttpResponse:
    """UTF-8 with BOM, so Excel on Chinese Windows opens it without mojibake."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(safe_row(row))
    response = HttpResponse(
        buf.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    return _attachment(response, filename)


def csv_write(out: IO[bytes], rows: Iterable[Sequence[Any]]) -> None:
    """:func:`csv_response`'s bytes into a binary file (an export made in the
    background), written as the rows come."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    for row in rows:
        writer.writerow(safe_row(row))
    text.flush()
    text.detach()  # leave ``out`` open for the caller


def xlsx_response(
    sheets: Sequence[tuple[str, Iterable[Sequence[Any]]]], filename: str
) -> HttpResponse:
    """One workbook, one (title, rows) pair per sheet, written in streaming mode."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for row in rows:
            ws.append(safe_row(row))
    out = io.BytesIO()
    wb.save(out)
    return _attachment(HttpResponse(out.getvalue(), content_type=XLSX_TYPE), filename)


# ---------------------------------------------------------------- large single sheets
#
# openpyxl builds an object per cell (tens of microseconds each without lxml): a
# 100 000 × 60 survey export took minutes. This writer emits the sheet's XML directly —
# numbers as numbers, text inline (no shared-string table), cells without coordinates
# (allowed by the format, so an empty cell is just <c/>) — streamed into the zip.

_XML_ESCAPE = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
# Control characters other than tab/newline/CR are not allowed in XML at all.
_XML_ESCAPE.update({c: "" for c in range(32) if c not in (9, 10, 13)})

_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_CONTENT_TYPES = (
    f'{_HEAD}<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
    "</Types>"
)
_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def xlsx_cell(value: Any) -> str:
    """One value as a cell of :func:`xlsx_sheet_bytes` (formula- and XML-escaped).
    Large exports render each repeated value (a label, a 0/1) once with this and pass
    rows of rendered cells with ``rendered=True``."""
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    text = str(safe_cell(value) if isinstance(value, str) else value).translate(_XML_ESCAPE)
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_sheet_bytes(title: str, rows: Iterable[Sequence[Any]], *, rendered: bool = False) -> bytes:
    """One worksheet of plain values (numbers, text; dates as ISO text), fast for
    large exports. Text is formula-escaped like everywhere else in this module.
    ``rendered``: the rows already hold :func:`xlsx_cell` strings."""
    out = io.BytesIO()
    xlsx_sheet_write(out, title, rows, rendered=rendered)
    return out.getvalue()


def xlsx_sheet_write(
    out: IO[bytes], title: str, rows: Iterable[Sequence[Any]], *, rendered: bool = False
) -> None:
    """:func:`xlsx_sheet_bytes` into a binary file (e.g. a temporary file, for an
    export made in the background)."""
    import zipfile

    name = title[:31].translate(_XML_ESCAPE) or "Sheet1"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{_DOC_REL}">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                (
                    f'{_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main"><sheetData>'
                ).encode()
            )
            chunk: list[str] = []
            for row in rows:
                cells = "".join(row) if rendered else "".join(xlsx_cell(v) for v in row)
                chunk.append("<row>" + cells + "</row>")
                if len(chunk) >= 2000:
                    sheet.write("".join(chunk).encode("utf-8"))
                    chunk.clear()
            sheet.write("".join(chunk).encode("utf-8"))
            sheet.write(b"</sheetData></worksheet>")


def xlsx_sheet_response(
    title: str, rows: Iterable[Sequence[Any]], filename: str, *, rendered: bool = False
) -> HttpResponse:
    """:func:`xlsx_sheet_bytes` as a download."""
    body = xlsx_sheet_bytes(title, rows, rendered=rendered)
    return _attachment(HttpResponse(body, content_type=XLSX_TYPE), filename)


__all__ = [
    "safe_cell",
    "safe_row",
    "csv_response",
    "csv_write",
    "xlsx_response",
    "xlsx_cell",
    "xlsx_sheet_bytes",
    "xlsx_sheet_response",
    "xlsx_sheet_write",
]
