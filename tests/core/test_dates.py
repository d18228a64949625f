"""Vietnamese date parsing, month arithmetic with month-end clamping, 36-month expiry and status."""
from datetime import date, datetime

import pytest

from core.dates import (DateError, add_months, days_left, expiry_date, parse_past_date, parse_vn_date,
                        status_of)


@pytest.mark.parametrize("text", ["5/3/2024", "05-03-2024", "5/3/24", "05.03.2024", "2024-03-05",
                                  " 5 / 3 / 2024 ", "ngày 05/03/2024", "5 tháng 3 năm 2024",
                                  "2024-03-05 00:00:00", date(2024, 3, 5), datetime(2024, 3, 5, 10, 0)])
def test_usual_spellings_parse_day_first(text):
    assert parse_vn_date(text) == date(2024, 3, 5)


@pytest.mark.parametrize("text,why", [("31/2/2024", "không có ngày 31"), ("30/02/2024", "không có ngày 30"),
                                       ("29/2/2023", "không có ngày 29"), ("5/13/2024", "tháng 13"),
                                       ("hôm qua", "ngày/tháng/năm"), ("", "chưa có ngày"),
                                       ("32/1/2024", "không có ngày 32"), ("1/1/1800", "năm 1800")])
def test_impossible_dates_are_refused_with_a_reason(text, why):
    with pytest.raises(DateError) as e:
        parse_vn_date(text)
    assert why in str(e.value)


def test_leap_day_is_valid_in_leap_years():
    assert parse_vn_date("29/2/2024") == date(2024, 2, 29)


def test_future_and_too_old_recognition_dates_are_refused():
    today = date(2026, 11, 22)
    assert parse_past_date("22/11/2026", today) == today
    with pytest.raises(DateError, match="tương lai"):
        parse_past_date("23/11/2026", today)
    with pytest.raises(DateError, match="quá xa"):
        parse_past_date("1/1/2005", today)


@pytest.mark.parametrize("start,months,expected", [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),      # leap February
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2024, 5, 31), 36, date(2027, 5, 31)),
    (date(2024, 2, 29), 36, date(2027, 2, 28)),     # no 29/2 in 2027: clamp
    (date(2024, 2, 29), 48, date(2028, 2, 29)),
    (date(2024, 8, 31), 36, date(2027, 8, 31)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),
])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_expiry_is_36_months_after_recognition():
    assert expiry_date(date(2024, 3, 5)) == date(2027, 3, 5)
    assert expiry_date(date(2024, 2, 29)) == date(2027, 2, 28)
    assert expiry_date(date(2023, 5, 31)) == date(2026, 5, 31)


def test_status_and_days_left():
    exp = date(2027, 3, 5)
    assert status_of(exp, date(2026, 12, 4)) == "valid" and days_left(exp, date(2026, 12, 4)) == 91
    assert status_of(exp, date(2026, 12, 5)) == "soon"          # 90 days left
    assert status_of(exp, exp) == "soon" and days_left(exp, exp) == 0
    assert status_of(exp, date(2027, 3, 6)) == "expired" and days_left(exp, date(2027, 3, 6)) == -1
