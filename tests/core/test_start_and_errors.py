"""The neutral core: /start menu, deep links, /huy, unknown commands, oversized input, failures."""
from sqlalchemy import func, select

from core.messages import Reply
from core.router import Router
from storage.models import Conversation, Identity, User
from tests.helpers import button_data, msg, texts


async def test_start_shows_menu_with_seven_entries(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("/start"))
    assert "OCOP" in texts(replies)
    assert button_data(replies) == ["m:faq", "m:hoso", "m:sanpham", "m:hoicho", "m:dangky", "m:lienhe",
                                    "m:tuchamdiem"]
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
        ident = await s.scalar(select(Identity))
        assert (ident.channel, ident.external_id, ident.active) == ("console", "u1", True)


async def test_start_payload_is_recorded(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start abc_123"))
    async with core.sessionmaker() as s:
        assert (await s.scalar(select(User))).start_payload == "abc_123"


async def test_unknown_command_is_polite_and_offers_menu(sqlite_url, make_core):
    core = make_core(sqlite_url)
    replies = await core.handle(msg("/xyz"))
    assert "/xyz" in texts(replies) and "/help" in texts(replies)
    assert "m:faq" in button_data(replies)


async def test_huge_message_is_refused_and_changes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    replies = await core.handle(msg("a" * 10_000))
    assert "dài quá" in texts(replies)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0


async def test_help_lists_commands(sqlite_url, make_core):
    core = make_core(sqlite_url)
    t = texts(await core.handle(msg("/huongdan")))
    assert "/huy" in t and "/start" in t


async def test_cancel_leaves_flow(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start"))
    async with core.sessionmaker() as s, s.begin():
        s.add(Conversation(user_id=1, flow="themhoicho", step="name", data={}))
    t = texts(await core.handle(msg("/huy")))
    assert "Đã thoát" in t
    async with core.sessionmaker() as s:
        assert await s.get(Conversation, 1) is None


async def test_failing_handler_rolls_back_and_apologises(db_url, make_core):
    async def boom(ctx, m):
        ctx.user.display_name = "changed"
        await ctx.session.flush()
        raise RuntimeError("bug")
    r = Router()
    r.text = boom
    from core.app import Core
    core = make_core(db_url)
    core2 = Core(core.settings, engine=core.engine, router=r)
    replies = await core2.handle(msg("hello", name="Trần B"))
    assert "Xin lỗi" in texts(replies)
    async with core.sessionmaker() as s:
        assert (await s.scalar(select(User))).display_name == "Trần B"


async def test_stale_button_namespace(sqlite_url, make_core):
    core = make_core(sqlite_url)
    assert "cũ" in texts(await core.handle(msg(callback="zz:1")))
    assert "cũ" in texts(await core.handle(msg(callback="no-colon")))
    assert isinstance((await core.handle(msg(callback="m:nothing")))[0], Reply)
