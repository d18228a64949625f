"""Regressions: sharing someone else's contact card while claiming products."""
from sqlalchemy import select

from storage.models import User
from tests.helpers import msg, texts


async def test_foreign_contact_gets_a_clear_answer_and_changes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg(callback="pc:menu"))
    t = texts(await core.handle(msg(contact_not_own=True)))
    assert "người khác" in t and "chỉ đọc được tin nhắn chữ" not in t
    async with core.sessionmaker() as s:
        assert (await s.scalar(select(User))).phone is None
