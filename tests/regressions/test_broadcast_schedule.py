"""Regressions: the time an officer types to schedule a broadcast."""
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from handlers.broadcast.when import parse_date, parse_datetime
from storage.models import Broadcast
from tests.helpers import msg, texts


async def test_schedule_years_away_is_refused(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/thongbao", user="admin"))
    await core.handle(msg("Lịch tập huấn tháng 12", user="admin"))
    await core.handle(msg(callback="bc:sch", user="admin"))
    t = texts(await core.handle(msg("1/12/2062 08:00", user="admin")))     # 2062 for 2026
    assert "một năm" in t
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Broadcast)) == 0


def test_leap_day_without_year_after_the_leap_day_is_not_an_error():
    assert parse_date("29/2", date(2028, 3, 1)) is None
    assert parse_datetime("29/2 8:00", date(2028, 3, 1), ZoneInfo("Asia/Ho_Chi_Minh")) is None
