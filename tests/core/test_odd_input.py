"""Regressions: bare numbers and dates outside a flow, leaving the console."""
import io

import pytest

from channels.console import ConsoleChannel
from core.messages import Reply
from tests.helpers import msg


@pytest.mark.parametrize("text", ["2", "05-03-2024", "5/3/24", " 100.000 "])
async def test_a_bare_number_or_date_gets_a_hint_and_the_menu(db_url, make_core, text):
    core = make_core(db_url)
    [reply] = await core.handle(msg(text))
    assert f"«{text.strip()}»" in reply.text                      # errors/not_a_question
    assert all(b.data.startswith("m:") for row in reply.buttons for b in row) and len(reply.buttons) == len(core.router.menu)
    assert "Căn cứ" not in reply.text                             # not an FAQ answer


async def test_a_flow_waiting_for_a_number_still_gets_it(db_url, make_core):
    core = make_core(db_url)

    async def ask(ctx, m):
        await ctx.set_flow("sodem", "n")
        return Reply("Bao nhiêu?")

    async def got(ctx, m):
        await ctx.clear_flow()
        return Reply(f"Đã ghi {m.text}")
    core.router.command("dem", ask)
    core.router.flow("sodem", got)
    await core.handle(msg("/dem"))
    [reply] = await core.handle(msg("05-03-2024"))
    assert reply.text == "Đã ghi 05-03-2024"


async def test_questions_with_numbers_still_go_to_the_faq(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("giấy chứng nhận OCOP có thời hạn 36 tháng phải không"))
    assert "Căn cứ" in replies[0].text


@pytest.mark.parametrize("word", ["/thoat", "/thoát", "/quit", "/QUIT"])
async def test_quit_leaves_the_console(sqlite_url, make_core, word):
    core = make_core(sqlite_url)
    seen = []
    real = core.handle

    async def handle(m):
        seen.append(m.text)
        return await real(m)
    core.handle = handle
    console = ConsoleChannel(core, inp=io.StringIO(f"{word}\n/help\n"), out=io.StringIO())
    await console.run()                                           # returns instead of reading on
    assert seen == ["/start"]                                     # the greeting only: /help never read
