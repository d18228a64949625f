"""Validation of what a producer types for one certificate field: (value, None) or (None, error)."""
from __future__ import annotations

from datetime import date

from handlers.products.importer import EARLIEST, parse_stars
from core.dates import DateError, parse_past_date
from core.reference import match_group, match_province


def check_name(text: str):
    t = " ".join((text or "").split())
    if len(t) < 2:
        return None, "Tên sản phẩm quá ngắn, bạn gõ lại giúp."
    if len(t) > 200:
        return None, "Tên sản phẩm dài quá 200 ký tự, bạn gõ ngắn lại giúp."
    return t, None


def check_decision(text: str):
    t = " ".join((text or "").split())
    if not t or len(t) > 64 or not any(ch.isdigit() for ch in t):
        return None, "Số quyết định cần có chữ số, ví dụ 1234/QĐ-UBND (tối đa 64 ký tự)."
    return t, None


def check_province(text: str):
    """-> ((name, note), None) or (None, error)."""
    m = match_province(text or "")
    if m is None:
        return None, f"Không nhận ra tỉnh/thành «{(text or '').strip()[:40]}». Bạn gõ lại tên tỉnh (ví dụ: Đồng Tháp)."
    return (m.province.name, m.note), None


def check_date(text: str, today: date):
    try:
        return parse_past_date(text, today, EARLIEST), None
    except DateError as exc:
        return None, f"Chưa hiểu ngày này: {exc}. Bạn gõ lại theo dạng ngày/tháng/năm, ví dụ 5/3/2024."


def check_group(text: str):
    g = match_group(text or "")
    return (g.id, None) if g else (None, "Bạn chọn một nhóm bằng các nút bên dưới giúp.")


def check_stars(text: str):
    n = parse_stars(text)
    return (n, None) if n else (None, "Sản phẩm OCOP được công nhận 3, 4 hoặc 5 sao: bạn chọn bằng nút bên dưới.")
