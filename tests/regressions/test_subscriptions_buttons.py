"""Regressions: /dangky buttons tapped out of order or from an old message."""
from sqlalchemy import select

from storage.models import Conversation
from tests.helpers import button_data, msg, texts

INTERNAL = "gặp lỗi khi xử lý"


async def test_group_button_before_province_is_not_an_error(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/dangky"))
    replies = await core.handle(msg(callback="sub:g:thuc_pham"))      # from an older /dangky message
    assert INTERNAL not in texts(replies)
    assert "sub:p:dong_thap" in button_data(replies)                 # still asked for the province
    replies = await core.handle(msg(callback="sub:t:hoi_cho"))
    assert "sub:p:dong_thap" in button_data(replies)                 # topics are not reached without a province
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation))
        assert (conv.flow, conv.step) == ("dangky", "province")


async def test_old_subscription_button_keeps_another_flow(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg("Mật ong rừng"))                            # product flow, step 2
    replies = await core.handle(msg(callback="sub:p:dong_thap"))     # old /dangky message
    assert "cũ" in texts(replies)
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation))
        assert (conv.flow, conv.step, conv.data["name"]) == ("sanpham", "group", "Mật ong rừng")
    replies = await core.handle(msg(callback="pa:g:thuc_pham"))
    assert "pa:s:4" in button_data(replies)
