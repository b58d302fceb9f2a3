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
from typing import Any

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


__all__ = ["safe_cell", "safe_row", "csv_response", "xlsx_response"]
