"""Regressions: an old dossier button tapped while another flow is under way."""
from sqlalchemy import select

from storage.models import Conversation
from tests.helpers import button_data, msg, texts


async def _finish_dossier(core):
    replies = await core.handle(msg("/hoso"))
    for _ in range(40):
        picks = [d for d in button_data(replies) if d.startswith("d:a:")]
        if not picks:
            return
        last = picks[0]
        replies = await core.handle(msg(callback=last))
    raise AssertionError("dossier did not finish")


async def test_old_dossier_button_keeps_the_product_draft(db_url, make_core):
    core = make_core(db_url)
    await _finish_dossier(core)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg("Mật ong rừng U Minh"))
    t = texts(await core.handle(msg(callback="d:a:goal:lan_dau")))       # first message of the finished walk
    assert "Danh mục" in t
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation))
        assert conv is not None and (conv.flow, conv.step) == ("sanpham", "group")
    assert "pa:s:4" in button_data(await core.handle(msg(callback="pa:g:thuc_pham")))
