"""Regressions: /hoicho month filters that are not real months answer politely."""
import pytest

from tests.helpers import msg, texts

INTERNAL = "gặp lỗi khi xử lý"


@pytest.mark.parametrize("text", ["/hoicho 12/9999", "/hoicho 12/0000", "/hoicho tháng 1/0001"])
async def test_out_of_range_year_is_a_bad_filter(sqlite_url, make_core, text):
    core = make_core(sqlite_url)
    t = texts(await core.handle(msg(text)))
    assert INTERNAL not in t and "chưa hiểu" in t


@pytest.mark.parametrize("data", ["f:m:2026-13", "f:m:2026-00", "f:m:0000-12", "f:m:9999-12"])
async def test_forged_month_button_is_stale(sqlite_url, make_core, data):
    core = make_core(sqlite_url)
    t = texts(await core.handle(msg(callback=data)))
    assert INTERNAL not in t
