"""Regressions: forged segment buttons in /thongbao change nothing."""
from sqlalchemy import select

from storage.models import Conversation
from tests.helpers import msg, texts


async def test_unknown_group_or_topic_is_not_added(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/start", user="off"))
    await core.handle(msg("/capquyen console:off Đồng Tháp", user="admin"))
    await core.handle(msg("/thongbao", user="off"))
    await core.handle(msg("Hội chợ tháng 12 sắp mở đăng ký", user="off"))
    await core.handle(msg(callback="bc:g:zzz", user="off"))
    await core.handle(msg(callback="bc:t:zzz", user="off"))
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.flow == "thongbao"))
        assert conv.data.get("seg", {}) == {}
    t = texts(await core.handle(msg(callback="bc:pre", user="off")))
    assert "zzz" not in t
