"""Every file the system hands out: CSV and XLSX cells that no spreadsheet runs as a formula, PDF text, safe file names.

Stored text may predate today's input rules, so nothing here trusts it: characters XML cannot hold are
dropped, a cell that a spreadsheet would evaluate is quoted, and a download's name never breaks its header.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from app.core import inputs
from app.core.replica import from_replica

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIMETYPE = "application/pdf"
FILE_SCHEMA = {"type": "string", "format": "binary"}  # a download's body in the OpenAPI document

# A cell starting with one of these (after any spaces) is evaluated by Excel, WPS or LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
XLSX_CELL_MAX = 32_767  # longer text makes Excel refuse to open the file
_NOT_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029/\\:*?"<>|;]+')
FILENAME_MAX = 120


def cell(value):
    """One spreadsheet cell: numbers as they are, text without illegal characters and never a formula."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_CELL_MAX - 1]
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def row(values: Iterable) -> list:
    return [cell(v) for v in values]


def csv_bytes(rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a BOM, so Excel on Windows opens the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for values in rows:
        writer.writerow(row(values))
    return buffer.getvalue().encode("utf-8-sig")


def workbook(sheet_title: str) -> tuple[Workbook, Worksheet]:
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Sheet1"
    return book, sheet


def append(sheet: Worksheet, values: Iterable) -> None:
    sheet.append(row(values))


def xlsx_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pdf_text(value) -> str:
    """Stored text for a reportlab Paragraph: markup escaped, control characters gone, line breaks kept."""
    text = inputs.without_controls("" if value is None else str(value), multiline=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br/>")


def safe_filename(name: str, fallback: str = "download") -> str:
    """A file name any browser accepts in Content-Disposition: no controls, separators or quotes, bounded."""
    cleaned = " ".join(_NOT_IN_FILENAME.sub(" ", name).split()).strip(" .")
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or not stem or not ext.isascii() or not ext.isalnum() or len(ext) > 8:
        stem, ext = cleaned, ""
    stem = stem[:FILENAME_MAX].rstrip(" .") or fallback
    return f"{stem}.{ext}" if ext else stem


def attachment(data: bytes, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    """A generated file as a download (or shown inline), named safely and never kept by a shared cache."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline,
                         download_name=safe_filename(filename))
    response.headers["Cache-Control"] = "private, no-store"
    return response


MAX_ROWS = 20_000


def collect(list_page, row, *, max_rows: int = MAX_ROWS, **filters) -> list[tuple]:
    """Walk a keyset-paginated list with its own filters and scope; one row per item (read from the
    replica when there is a usable one)."""
    rows: list[tuple] = []
    cursor = None
    with from_replica():
        while len(rows) < max_rows:
            page = list_page(limit=100, cursor=cursor, **filters)
            rows.extend(row(item) for item in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    return rows[:max_rows]
