"""Regressions: a forged «Không phải tôi» (lk:no:CODE) cannot void someone else's link code."""
from sqlalchemy import select

from storage.models import Code
from tests.helpers import msg


async def test_decline_by_another_user_changes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/lienket", user="a"))
    async with core.sessionmaker() as s:
        code = (await s.scalar(select(Code))).code
    await core.handle(msg(callback=f"lk:no:{code}", user="b"))
    async with core.sessionmaker() as s:
        assert (await s.get(Code, code)).used_at is None
