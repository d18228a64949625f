"""Parse the dates and times officers type: "20/12/2026 08:00", "8h 20/12", "20-12-2026"."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2,4}))?")
MAX_AHEAD = timedelta(days=366)     # a schedule further away is almost always a typo in the year
_TIME = re.compile(r"(\d{1,2})\s*(?:[:hg]\s*(\d{2})?|giờ\s*(\d{2})?)", re.I)


def parse_date(text: str, today: date) -> date | None:
    """dd/mm[/yyyy]; without a year the next such date from today."""
    m = _DATE.search(text or "")
    if not m:
        return None
    d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
    year = (int(y) + 2000 if len(y) == 2 else int(y)) if y else today.year
    try:
        out = date(year, mo, d)
    except ValueError:
        return None
    if not y and out < today:
        try:
            out = out.replace(year=year + 1)
        except ValueError:          # 29/2 typed the day after a leap day
            return None
    return out


def parse_datetime(text: str, today: date, tz: ZoneInfo) -> datetime | None:
    """A local date and time (default 08:00) as an aware datetime in `tz`."""
    text = (text or "").strip()
    m = _DATE.search(text)
    if not m:
        return None
    day = parse_date(text, today)
    if day is None:
        return None
    rest = (text[:m.start()] + " " + text[m.end():]).strip()
    at = time(8, 0)
    if rest:
        t = _TIME.search(rest)
        if not t:
            return None
        hh, mm = int(t.group(1)), int(t.group(2) or t.group(3) or 0)
        if hh > 23 or mm > 59:
            return None
        at = time(hh, mm)
    return datetime.combine(day, at, tzinfo=tz)
