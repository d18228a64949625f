"""Spreadsheet downloads that are safe to open: formula injection neutralised (CSV and XLSX)."""
from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote

from aiohttp import web

from core.web.xlsx import write_xlsx

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value):
    """A cell value that a spreadsheet will never run: text starting with = + - @ (or tab/CR) gets a '."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def csv_bytes(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, date) else safe(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")       # BOM: Excel opens UTF-8 correctly


def xlsx_bytes(sheets: list[tuple[str, list[str], list]]) -> bytes:
    """sheets: (title, header, rows) -> .xlsx; text cells are inline strings, quoted by safe() when they
    look like a formula; dates are real dates (dd/mm/yyyy)."""
    return write_xlsx([(t, h, rows) for t, h, rows in sheets], text=lambda v: safe(str(v)))


def download(data: bytes, filename: str, mime: str) -> web.Response:
    return web.Response(body=data, headers={
        "Content-Type": mime, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
