"""Vietnamese dates: parse what people type (day first), month arithmetic, certificate expiry.

Accepted: 5/3/2024, 05-03-2024, 5/3/24, 05.03.2024, 2024-03-05 (ISO), "5 tháng 3 năm 2024",
"ngày 05/03/2024"; Excel cells arrive as date/datetime objects. Two-digit years mean 20yy.

Expiry rule (decided, documented in docs/certificates.md): a certificate recognised on day D is
valid 36 months; expires_on = D + 36 months with the day clamped to the end of a shorter month
(31/5/2024 -> 31/5/2027; 29/2/2024 -> 28/2/2027; 31/8/2024 -> 31/8/2027). expires_on is the last
day the certificate is valid ("hết hạn ngày …"); the day after it is expired.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from core.templates import validation
from core.text import fold

VALIDITY_MONTHS = 36
SOON_DAYS = 90            # "sắp hết hạn" when this many days or fewer are left

_DMY = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})$")
_WORDS = re.compile(r"^(\d{1,2})\s*thang\s*(\d{1,2})\s*(?:nam\s*)?(\d{2}|\d{4})$")


class DateError(ValueError):
    """Raised with a short Vietnamese reason the bot can show as is."""


def parse_vn_date(value) -> date:
    """Parse a date the way Vietnamese people write it (day first). Raises DateError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = fold(str(value or "")).strip()
    text = re.sub(r"^ngay\s*", "", text).rstrip(".")
    if not text:
        raise DateError(validation("dates.missing"))
    text = re.sub(r"\s+00:00(:00)?$", "", text)        # "2024-03-05 00:00:00" from spreadsheets
    m = _YMD.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _DMY.match(text) or _WORDS.match(text)
        if not m:
            raise DateError(validation("dates.not_a_date", value=str(value).strip()[:30]))
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000
    if not 1 <= mo <= 12:
        raise DateError(validation("dates.no_such_month", month=mo))
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        raise DateError(validation("dates.no_such_day", month=mo, year=y, day=d))
    if not 1900 <= y <= 2100:
        raise DateError(validation("dates.bad_year", year=y))
    return date(y, mo, d)


def parse_past_date(value, today: date, earliest: date = date(2010, 1, 1)) -> date:
    """A recognition date: real, not in the future, not before the programme existed."""
    d = parse_vn_date(value)
    if d > today:
        raise DateError(validation("dates.future", date=f"{d:%d/%m/%Y}"))
    if d < earliest:
        raise DateError(validation("dates.too_old", date=f"{d:%d/%m/%Y}", year=earliest.year))
    return d


def add_months(d: date, months: int) -> date:
    """d + months, clamping the day to the last day of the target month."""
    return d + relativedelta(months=months)


def expiry_date(recognized_on: date) -> date:
    return add_months(recognized_on, VALIDITY_MONTHS)


def days_left(expires_on: date, today: date) -> int:
    return (expires_on - today).days


def status_of(expires_on: date, today: date) -> str:
    """'valid' | 'soon' (<= SOON_DAYS left, includes the expiry day) | 'expired'."""
    left = days_left(expires_on, today)
    if left < 0:
        return "expired"
    return "soon" if left <= SOON_DAYS else "valid"


STATUS_LABEL = {"valid": "còn hiệu lực", "soon": "sắp hết hạn", "expired": "đã hết hạn"}
