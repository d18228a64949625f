"""Validation of what a producer types for one certificate field: (value, None) or (None, error)."""
from __future__ import annotations

from datetime import date

from handlers.products.importer import EARLIEST, parse_stars
from core.dates import DateError, parse_past_date
from core.reference import match_group, match_province
from core.templates import validation


def check_name(text: str):
    t = " ".join((text or "").split())
    if len(t) < 2:
        return None, validation("products.name_short")
    if len(t) > 200:
        return None, validation("products.name_long")
    return t, None


def check_decision(text: str):
    t = " ".join((text or "").split())
    if not t or len(t) > 64 or not any(ch.isdigit() for ch in t):
        return None, validation("products.decision")
    return t, None


def check_province(text: str):
    """-> ((province id, note), None) or (None, error)."""
    m = match_province(text or "")
    if m is None:
        return None, validation("products.province", value=(text or "").strip()[:40])
    return (m.province.id, m.note), None


def check_date(text: str, today: date):
    try:
        return parse_past_date(text, today, EARLIEST), None
    except DateError as exc:
        return None, validation("products.date", error=exc)


def check_group(text: str):
    g = match_group(text or "")
    return (g.id, None) if g else (None, validation("products.group_button"))


def check_stars(text: str):
    n = parse_stars(text)
    return (n, None) if n else (None, validation("products.stars_button"))
