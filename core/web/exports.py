"""Spreadsheet downloads that are safe to open: formula injection neutralised, write-only XLSX."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from urllib.parse import quote

from aiohttp import web

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
    """sheets: (title, header, rows). Write-only mode keeps 20,000 rows fast and small in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        cells = []
        for h in header:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            cells.append(c)
        ws.append(cells)
        for row in rows:
            ws.append([v.replace(tzinfo=None) if isinstance(v, datetime) else safe(v) for v in row])
        # formula-looking text is stored as text anyway (data_type 's'), and quoted by safe()
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def download(data: bytes, filename: str, mime: str) -> web.Response:
    return web.Response(body=data, headers={
        "Content-Type": mime, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
