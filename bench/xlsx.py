#!/usr/bin/env python3
"""The console's XLSX writer (core/web/xlsx.py) against openpyxl's write_only mode, at national size.

    .venv/bin/python bench/xlsx.py [--certs 20000]

Writes the register export (every certificate, 18 columns) and a national half-year report shaped like
/quantri/bao-cao.xlsx (10 sheets: 34 provinces × 40 communes, one decision per 4 certificates, the lapsed
list) with both, and prints the seconds and sizes. Target: the register export < 3 s on the server.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import openpyxl  # noqa: E402

from core.web.exports import safe  # noqa: E402
from core.web.xlsx import write_xlsx  # noqa: E402


def register_rows(n: int) -> list[list]:
    d = date(2025, 1, 3)
    return [[i, f"Miến dong {i}", f"HTX số {i}", "Hợp tác xã", f"09{i:08d}", f"Xã {i % 40}", "Cao Bằng", "Thực phẩm",
             "Chế biến từ gạo, ngũ cốc", 3 + i % 3, f"{i}/QĐ-UBND", d + timedelta(days=i % 900),
             d + timedelta(days=1095 + i % 900), "Công nhận mới", "còn hạn", None, "có", "không"] for i in range(n)]


def report_sheets(n: int) -> list[tuple[str, list, list]]:
    communes = [[f"Tỉnh {p}", f"Xã {c}", 3, 2, 1, 6] for p in range(34) for c in range(40)]
    decisions = [[f"Tỉnh {i % 34}", f"{i}/QĐ-UBND", date(2026, 3, 1), "Đợt 1/2026", 3, 2, 1, 0, 3]
                 for i in range(n // 4)]
    lapsed = [[f"Sản phẩm {i}", f"HTX {i}", f"Xã {i % 40}", f"Tỉnh {i % 34}", 3, date(2026, 5, 1)]
              for i in range(n // 6)]
    small = [["Thực phẩm", 10, 5, 1, 16]] * 30
    return [("Sao theo nhóm", ["Nhóm", "3", "4", "5", "Tổng"], small), ("Theo phân nhóm", ["a"] * 6, small),
            ("Chủ thể", ["a"] * 3, small), ("Theo xã", ["a"] * 6, communes), ("Hình thức", ["a"] * 5, small),
            ("Hết hạn", ["a"] * 2, small), ("Chưa công nhận lại", ["a"] * 6, lapsed),
            ("Theo đợt", ["a"] * 9, decisions), ("Chỉ tiêu", ["a"] * 7, small), ("Bot", ["a"] * 2, small)]


def with_openpyxl(sheets) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for r in rows:
            ws.append([safe(v) if isinstance(v, str) else v for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def timed(fn, sheets) -> tuple[float, int]:
    t = time.perf_counter()
    data = fn(sheets)
    return time.perf_counter() - t, len(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", type=int, default=20_000)
    n = ap.parse_args().certs
    print(f"machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ours = lambda sheets: write_xlsx(sheets, text=lambda v: safe(str(v)))  # noqa: E731
    for label, sheets in (("register export", [("San pham OCOP", [f"c{i}" for i in range(18)], register_rows(n))]),
                          ("national report", report_sheets(n))):
        cells = sum(len(r) for _t, _h, rows in sheets for r in rows)
        a, b = timed(ours, sheets), timed(with_openpyxl, sheets)
        print(f"  {label:16s} {cells:8d} cells: core/web/xlsx.py {a[0]:5.2f} s ({a[1] // 1024} KiB) · "
              f"openpyxl write_only {b[0]:5.2f} s ({b[1] // 1024} KiB) · ×{b[0] / a[0]:.1f}")


if __name__ == "__main__":
    main()
