"""End to end: our Runtime + the real PTB Application polling the fake Bot API server."""
from sqlalchemy import select

from storage.models import Identity, User
from tests.telegram.conftest import say, tap

CHAT = 424242


def assert_clean(tg):
    """The fake accepted every call the bot made."""
    assert tg.rejected() == []


async def test_start_menu_commands_and_deep_link(tg, start_bot, db_url):
    rt = await start_bot(db_url)
    cmds = {c["command"]: c["description"] for c in tg.commands[("default", "")]}
    assert cmds["start"] == "Bắt đầu, xem menu chính"
    assert {"start", "help", "huy"} <= cmds.keys()
    assert all(name.isascii() and name == name.lower() for name in cmds)
    assert any(ch in "".join(cmds.values()) for ch in "ắầđư")                  # Vietnamese descriptions

    [menu] = await say(tg, CHAT, "/start")
    assert "OCOP" in menu.text and menu.parse_mode == "HTML"
    buttons = menu.buttons()
    assert len(buttons) == 7 and [b["callback_data"] for b in buttons][0] == "m:faq"
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert "Hỏi đáp OCOP" in buttons[0]["text"]

    await say(tg, CHAT + 1, "/start htx_77", name="Lê Thị B")
    async with rt.core.sessionmaker() as s:
        ident = await s.scalar(select(Identity).where(Identity.external_id == str(CHAT + 1)))
        user = await s.get(User, ident.user_id)
    assert (ident.channel, ident.chat_id, user.start_payload) == ("telegram", str(CHAT + 1), "htx_77")
    assert_clean(tg)


async def test_menu_tap_is_answered(tg, start_bot):
    await start_bot()
    await say(tg, CHAT, "/start")
    out = await tap(tg, CHAT, label="Hỏi đáp")
    assert out and out[-1].text
    assert tg.open_callbacks == set()                        # every callback query was answered
    stale = await tap(tg, CHAT, data="zz:old")
    assert "cũ" in stale[0].text
    assert_clean(tg)


async def test_unknown_command(tg, start_bot):
    await start_bot()
    [reply] = await say(tg, CHAT, "/xyz")
    assert "/xyz" in reply.text and "/help" in reply.text and len(reply.buttons()) == 7
    [reply] = await say(tg, CHAT, "/start@ocop_test_bot")
    assert "OCOP" in reply.text
    assert_clean(tg)


async def test_very_long_message_is_refused_politely(tg, start_bot):
    rt = await start_bot()
    out = await say(tg, CHAT, "a" * 10_000)
    assert len(out) == 1 and "dài quá" in out[0].text
    async with rt.core.sessionmaker() as s:
        assert await s.scalar(select(User)) is None                  # changed nothing
    assert_clean(tg)


async def test_help_lists_commands(tg, start_bot):
    await start_bot()
    [reply] = await say(tg, CHAT, "/huongdan")
    assert "/huy" in reply.text
    assert_clean(tg)
