"""A command of another feature leaves the current flow; navigation commands keep it."""
from storage.models import Conversation
from tests.helpers import msg, texts


async def _flow(core):
    async with core.sessionmaker() as s:
        conv = await s.get(Conversation, 1)
        return conv.flow if conv else None


async def test_other_feature_command_leaves_the_flow(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/dangky"))
    assert await _flow(core) is not None
    await core.handle(msg("/sanpham"))
    assert await _flow(core) is None
    t = texts(await core.handle(msg("giay chung nhan ocop co thoi han bao lau")))
    assert "36 tháng" in t                                   # answered by the FAQ, not by /dangky


async def test_help_keeps_the_flow_and_the_flow_own_command_restarts_it(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/dangky"))
    before = await _flow(core)
    assert before is not None
    await core.handle(msg("/help"))
    assert await _flow(core) == before
    await core.handle(msg("/dangky"))
    assert await _flow(core) == before
    t = texts(await core.handle(msg("/huy")))
    assert "Đã thoát" in t and await _flow(core) is None


def test_every_command_and_flow_has_an_owner():
    from handlers import build_router
    r = build_router()
    assert all(r.command_owner[c] for c in r.commands)
    assert all(r.flow_owner[f] for f in r.flows)
    assert {"start", "help", "huongdan", "menu", "huy", "cancel"} <= r.navigation
