"""Read a CSV or XLSX table into rows keyed by field name, with the line number of each row.

    rows, errors = read_table(path_or_bytes, "dang-ky.xlsx",
                              columns={"product": ["Tên sản phẩm", "Sản phẩm"], ...},
                              required={"product"})

- CSV: UTF-8 with or without BOM; comma, semicolon or tab separated (chosen from the header line).
- XLSX: first worksheet, values not formulas (openpyxl, read-only). .xls is refused with advice.
- The header is the first non-empty row; headers match aliases after folding (no diacritics,
  lower case, punctuation ignored), in any order; unknown columns are ignored.
- Values are stripped strings, except XLSX date cells (datetime.date) and numbers (an integral
  float becomes "123"). Entirely empty rows are skipped.
- errors: file-level problems (line 0 or the header line): empty file, not a spreadsheet, missing
  required columns. When errors is not empty, rows is empty.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

from core.templates import validation
from core.text import fold

MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Row:
    line: int                                   # 1-based line (CSV) or row number (XLSX)
    values: dict = field(default_factory=dict)  # field -> str | date

    def get(self, name: str, default=""):
        return self.values.get(name, default)


@dataclass
class TableError:
    line: int
    message: str                               # Vietnamese, shown to officers as is
    field: str = ""                            # the column at fault, when known (web console marks the cell)

    def __str__(self) -> str:
        return validation("tables.line", line=self.line, message=self.message) if self.line else self.message


def header_key(text: str) -> str:
    """'Xã/Phường' -> 'xa phuong'; 'Số QĐ:' -> 'so qd'."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(text or ""))).split())


def _cell(value) -> str | date:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _load(source) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    return Path(source).read_bytes()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    text = data.decode("utf-8-sig")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delim = max([",", ";", "\t"], key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    for values in reader:
        yield reader.line_num, values


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        for i, values in enumerate(ws.iter_rows(values_only=True), 1):
            yield i, list(values)
    finally:
        wb.close()


def _kind(data: bytes, filename: str) -> str:
    ext = Path(filename or "").suffix.lower()
    if ext == ".xls" or data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if data.startswith(b"PK"):
        return "xlsx"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if b"\x00" in data[:4096]:
        return "binary"
    return "csv"


def _match_header(values: list, columns: dict[str, list[str]]) -> dict[int, str]:
    lookup = {}
    for name, aliases in columns.items():
        for alias in [name, *aliases]:
            lookup.setdefault(header_key(alias), name)
    found: dict[int, str] = {}
    for idx, v in enumerate(values):
        cell = _cell(v)
        name = lookup.get(header_key(cell)) if isinstance(cell, str) else None
        if name and name not in found.values():
            found[idx] = name
    return found


def _iter_source(data: bytes, filename: str) -> tuple[Iterable | None, str]:
    kind = _kind(data, filename)
    if kind == "xls":
        return None, validation("tables.xls")
    if kind == "binary":
        return None, validation("tables.not_a_table")
    if kind == "xlsx":
        try:
            return list(_xlsx_rows(data)), ""
        except Exception:
            return None, validation("tables.broken_xlsx")
    try:
        return list(_csv_rows(data)), ""
    except UnicodeDecodeError:
        return None, validation("tables.csv_encoding")
    except csv.Error:
        return None, validation("tables.broken_csv")


def read_table(source, filename: str, columns: dict[str, list[str]],
               required: set[str] | frozenset[str] = frozenset()) -> tuple[list[Row], list[TableError]]:
    """Read rows from CSV/XLSX bytes or a path. Never raises for bad content (see module doc)."""
    try:
        data = _load(source)
    except OSError as exc:
        return [], [TableError(0, validation("tables.unreadable", error=exc.strerror or exc))]
    if len(data) > MAX_BYTES:
        return [], [TableError(0, validation("tables.too_big", mb=MAX_BYTES // (1024 * 1024)))]
    if not data.strip(b" \r\n\t\xef\xbb\xbf"):
        return [], [TableError(0, validation("tables.empty"))]
    raw, problem = _iter_source(data, filename)
    if raw is None:
        return [], [TableError(0, problem)]
    it = iter([(n, v) for n, v in raw if any(_cell(x) != "" for x in v)])
    head = next(it, None)
    if head is None:
        return [], [TableError(0, validation("tables.empty"))]
    header_line, header = head
    mapping = _match_header(header, columns)
    missing = [name for name in columns if name in required and name not in mapping.values()]
    if missing:
        names = ", ".join(f"«{columns[m][0] if columns[m] else m}»" for m in missing)
        return [], [TableError(header_line, validation("tables.missing_columns", names=names))]
    rows = [Row(n, {name: _cell(values[idx]) if idx < len(values) else ""
                    for idx, name in mapping.items()}) for n, values in it]
    if not rows:
        return [], [TableError(0, validation("tables.header_only"))]
    return rows, []
