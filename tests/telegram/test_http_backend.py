"""PTB's Bot on our aiohttp transport (channels.telegram_http) against the fake Bot API: what PTB's
own httpx transport does, done the same way (JSON bodies, multipart files, Telegram's errors as PTB's
exceptions, timeouts and refused connections as TimedOut / NetworkError)."""
import asyncio
import socket

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from channels.telegram_http import AiohttpRequest
from tests.helpers import local_http


def make_bot(url: str, token: str, **kw) -> Bot:
    return Bot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot", request=AiohttpRequest(**kw),
               get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=5))


async def test_send_message_with_html_and_keyboard_as_json(tg):
    async with make_bot(tg.url, tg.token) as bot:
        me = await bot.get_me()
        assert me.username == "ocop_test_bot"
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("Đã có", callback_data="d:y")]])
        msg = await bot.send_message(42, "<b>Hồ sơ</b> đánh giá lại", parse_mode=ParseMode.HTML, reply_markup=kb)
    [sent] = tg.sent_to(42)
    assert sent.text == "<b>Hồ sơ</b> đánh giá lại" and msg.message_id == sent.message_id
    assert sent.parse_mode == "HTML"
    assert sent.buttons() == [{"text": "Đã có", "callback_data": "d:y"}]


async def test_document_goes_as_multipart_with_its_name_and_bytes(tg):
    pdf = b"%PDF-1.4 fake \x00\xff bytes"
    async with make_bot(tg.url, tg.token) as bot:
        await bot.send_document(7, InputFile(pdf, filename="ho-so-ocop.pdf"), caption="Danh mục hồ sơ")
    [sent] = tg.sent_to(7)
    assert (sent.method, sent.filename, sent.content, sent.caption) == \
        ("sendDocument", "ho-so-ocop.pdf", pdf, "Danh mục hồ sơ")


async def test_telegram_errors_become_ptb_exceptions(tg):
    async with make_bot(tg.url, tg.token) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(5, "<b>không đóng thẻ", parse_mode=ParseMode.HTML)
        tg.block(6)
        with pytest.raises(Forbidden):
            await bot.send_message(6, "xin chào")
        tg.script_errors([429], chat_id=8, retry_after=3)
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(8, "xin chào")
        assert err.value.retry_after in (3, 3.0) or err.value.retry_after.total_seconds() == 3
    with pytest.raises(InvalidToken):
        async with make_bot(tg.url, "1:wrong") as bad:
            await bad.get_me()


async def test_long_poll_waits_and_returns_pushed_update(tg):
    async with make_bot(tg.url, tg.token) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.3)
        assert not poll.done()                   # a real long poll: the server holds it
        tg.push_text(99, "ocop la gi")
        [update] = await asyncio.wait_for(poll, 3)
    assert update.message.text == "ocop la gi"


async def test_slow_server_times_out_and_refused_connection_is_network_error():
    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": {}})
    req = AiohttpRequest(read_timeout=0.2)
    await req.initialize()
    try:
        async with local_http([("POST", "/bot{token}/{method}", slow)]) as root:
            with pytest.raises(TimedOut):
                await req.post(f"{root}/bot1:x/getMe")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        with pytest.raises(NetworkError) as err:
            await req.post(f"http://127.0.0.1:{free}/bot1:x/getMe")
        assert not isinstance(err.value, TimedOut)
    finally:
        await req.shutdown()


async def test_body_is_json_and_user_agent_is_ptbs():
    seen = {}

    async def api(request):
        if request.match_info["method"] == "getMe":
            return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "b",
                                                             "username": "b_bot"}})
        seen["type"], seen["ua"] = request.content_type, request.headers.get("User-Agent", "")
        seen["body"] = await request.json()
        return web.json_response({"ok": True, "result": {"message_id": 3, "date": 0, "text": "Hội chợ",
                                                         "chat": {"id": 5, "type": "private"}}})
    async with local_http([("POST", "/bot{token}/{method}", api)]) as root:
        async with Bot("1:x", base_url=f"{root}/bot", request=AiohttpRequest()) as bot:
            msg = await bot.send_message(5, "Hội chợ")
    assert msg.message_id == 3
    assert seen["type"] == "application/json"
    assert seen["body"]["text"] == "Hội chợ" and str(seen["body"]["chat_id"]) == "5"
    assert seen["ua"].startswith("python-telegram-bot")
