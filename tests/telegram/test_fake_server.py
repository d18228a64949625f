"""The fake Bot API server speaks Telegram's envelope and refuses what Telegram refuses."""
import asyncio
import json
import subprocess
import sys
import time

import pytest
from aiohttp import ClientSession, web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_html import EntityError, parse_html
from tests.helpers import local_http


@pytest.fixture
async def tg():
    """The envelope tests send raw bursts: the flood limits are tested on their own below."""
    async with FakeTelegram(overall_rate=None, per_chat_rate=None) as fake:
        yield fake


@pytest.fixture
async def bot(tg):
    b = Bot(tg.token, base_url=f"{tg.url}/bot", base_file_url=f"{tg.url}/file/bot")
    async with b:
        yield b


async def raw(tg, method, *, token=None, http="POST", **kw):
    async with ClientSession() as s:
        async with s.request(http, f"{tg.url}/bot{token or tg.token}/{method}", **kw) as r:
            return r.status, await r.json()


async def test_get_me_and_envelope(tg, bot):
    assert bot.username == "ocop_test_bot"
    status, body = await raw(tg, "GETME", http="GET")
    assert status == 200 and body["ok"] is True and body["result"]["is_bot"] is True
    assert await raw(tg, "getMe", token="1:wrong") == (401, {"ok": False, "error_code": 401,
                                                             "description": "Unauthorized"})
    status, body = await raw(tg, "noSuchMethod")
    assert status == 404 and body["error_code"] == 404
    with pytest.raises(InvalidToken):
        await Bot("1:wrong", base_url=f"{tg.url}/bot").get_me()


async def test_query_form_json_and_multipart_bodies(tg, bot):
    assert (await raw(tg, "sendMessage", params={"chat_id": "5", "text": "query"}))[0] == 200
    assert (await raw(tg, "sendMessage", data={"chat_id": "5", "text": "form",
                                               "reply_markup": json.dumps({"inline_keyboard": [[
                                                   {"text": "A", "callback_data": "x:1"}]]})}))[0] == 200
    assert (await raw(tg, "sendMessage", json={"chat_id": 5, "text": "json"}))[0] == 200
    await bot.send_document(5, b"%PDF-1.4 data", filename="a.pdf", caption="<b>tệp</b>", parse_mode="HTML")
    sent = tg.sent_to(5)
    assert [s.text for s in sent[:3]] == ["query", "form", "json"]
    assert sent[1].buttons() == [{"text": "A", "callback_data": "x:1"}]
    assert (sent[3].filename, sent[3].content, sent[3].caption) == ("a.pdf", b"%PDF-1.4 data", "<b>tệp</b>")


async def test_length_limits_count_visible_text(tg, bot):
    await bot.send_message(1, "a" * 4096)
    await bot.send_message(1, "&amp;" * 4096, parse_mode="HTML")      # 4096 visible characters
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "😀" * 2049)                          # UTF-16 units
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(1, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_document(1, b"x", filename="x.txt", caption="c" * 1025)
    assert len(tg.sent_to(1)) == 2
    status, body = await raw(tg, "sendMessage", json={"chat_id": 1, "text": "a" * 4097})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


@pytest.mark.parametrize("text", ["dòng 1<br>dòng 2", "<b>đậm", "<b><i>x</b></i>", "a < b", "A & B",
                                  "&nbsp;", "</b>", "<p>x</p>", '<span class="x">s</span>'])
async def test_bad_html_is_refused(bot, text):
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(1, text, parse_mode="HTML")


def test_html_parser_accepts_telegram_subset():
    text = ('<b>Đậm</b> <strong>s</strong> <i>n</i> <em>e</em> <u>u</u> <s>x</s> <a href="https://x.vn/?a=1&amp;b=2">'
            'liên kết</a> <code>c</code> <pre><code class="language-python">p</code></pre> '
            '<span class="tg-spoiler">sp</span> <blockquote>q</blockquote> 1 &lt; 2 &gt; 0 &quot; &#39; &#x1F600; >')
    assert parse_html(text).startswith("Đậm s n e u x liên kết c p sp q 1 < 2 > 0 \" ' 😀 >")
    with pytest.raises(EntityError):
        parse_html("&#x110000;")
    assert parse_html("no tags, plain > text") == "no tags, plain > text"


async def test_callback_data_limit_is_bytes(tg, bot):
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("64", callback_data="x" * 64)]])
    await bot.send_message(1, "ok", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="đ" * 33)]])  # 66 bytes
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(1, "no", reply_markup=too_long)
    assert tg.texts_to(1) == ["ok"]


async def test_scripted_chat_states(tg, bot):
    tg.block(10)
    tg.deactivate(11)
    tg.not_found(12)
    tg.cant_initiate(13)
    tg.migrate(-14, -10014)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(10, "x")
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(11, "x")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(12, "x")
    with pytest.raises(Forbidden, match="initiate"):
        await bot.send_message(13, "x")
    with pytest.raises(ChatMigrated) as mig:
        await bot.send_message(-14, "x")
    assert mig.value.new_chat_id == -10014
    tg.unblock(10)
    await bot.send_message(10, "back")
    assert [s.chat_id for s in tg.sent] == [10]


async def test_scripted_429_and_5xx(tg, bot):
    tg.script_errors([429, 502], chat_id=7, retry_after=3)
    with pytest.raises(RetryAfter) as ra:
        await bot.send_message(7, "x")
    assert ra.value.retry_after in (3, __import__("datetime").timedelta(seconds=3))
    with pytest.raises(NetworkError):
        await bot.send_message(7, "x")
    await bot.send_message(7, "x")
    tg.flood(1.0, retry_after=2)
    status, body = await raw(tg, "sendMessage", json={"chat_id": 8, "text": "x"})
    assert status == 429 and body["parameters"] == {"retry_after": 2}
    assert body["description"] == "Too Many Requests: retry after 2"
    tg.flood(0)
    tg.transient_errors(1.0)
    assert (await raw(tg, "sendMessage", json={"chat_id": 8, "text": "x"}))[0] == 502
    tg.transient_errors(0)
    assert len(tg.sent) == 1


async def test_rate_enforcement_counts_violations(tg, bot):
    tg.set_rates(overall=(3, 1.0), per_chat=(1, 1.0))
    await bot.send_message(1, "a")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "b")                 # same chat within a second
    await bot.send_message(2, "c")
    await bot.send_message(3, "d")
    with pytest.raises(RetryAfter):
        await bot.send_message(4, "e")                 # fourth message within a second overall
    assert tg.violation_count == 2 and [v[1] for v in tg.violations] == ["per_chat", "overall"]


async def test_default_flood_limits_are_telegrams():
    """By default the fake refuses a 4th message to one chat within a second and a 31st overall,
    with 429 and parameters.retry_after, as Telegram does."""
    async with FakeTelegram() as fake:
        for i in range(3):
            assert (await raw(fake, "sendMessage", json={"chat_id": 7, "text": f"m{i}"}))[0] == 200
        status, body = await raw(fake, "sendMessage", json={"chat_id": 7, "text": "m3"})
        assert status == 429 and body["error_code"] == 429 and body["parameters"]["retry_after"] >= 1
        for chat in range(100, 127):                    # 3 + 27 = 30 accepted in this second
            assert (await raw(fake, "sendMessage", json={"chat_id": chat, "text": "x"}))[0] == 200
        status, body = await raw(fake, "sendMessage", json={"chat_id": 200, "text": "x"})
        assert status == 429 and body["parameters"]["retry_after"] >= 1
        assert [v[1] for v in fake.violations] == ["per_chat", "overall"]


async def test_get_updates_offset_and_long_poll(tg, bot):
    assert await bot.get_updates(timeout=0) == ()
    u1 = tg.push_text(5, "một")
    u2 = tg.push_command(5, "start", "abc_1")
    got = await bot.get_updates(timeout=0)
    assert [u.update_id for u in got] == [u1["update_id"], u2["update_id"]]
    assert got[1].message.text == "/start abc_1" and got[1].message.entities[0].type == "bot_command"
    got = await bot.get_updates(offset=u2["update_id"], timeout=0)        # u1 confirmed
    assert [u.update_id for u in got] == [u2["update_id"]]
    assert await bot.get_updates(offset=u2["update_id"] + 1, timeout=0) == ()
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=u2["update_id"] + 1, timeout=5))
    await asyncio.sleep(0.1)
    tg.push_text(5, "hai")
    got = await poll
    assert got[0].message.text == "hai" and time.monotonic() - started < 1.0
    started = time.monotonic()
    assert await bot.get_updates(offset=got[0].update_id + 1, timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25


async def test_second_poller_terminates_the_first_and_webhook_blocks_polling(tg, bot):
    status_first = asyncio.create_task(raw(tg, "getUpdates", json={"timeout": 5}))
    await asyncio.sleep(0.1)
    assert (await raw(tg, "getUpdates", json={"timeout": 0}))[0] == 200
    status, body = await status_first
    assert status == 409 and "terminated by other getUpdates" in body["description"]
    await bot.set_webhook("https://example.org/telegram", secret_token="s3cret_-OK")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/telegram"
    status, body = await raw(tg, "getUpdates", json={})
    assert status == 409 and "webhook is active" in body["description"]
    with pytest.raises(BadRequest):
        await bot.set_webhook("https://example.org/x", secret_token="bad secret!")
    await bot.delete_webhook()
    assert (await raw(tg, "getUpdates", json={}))[0] == 200


async def test_webhook_delivery_with_secret_header(tg, bot):
    seen = []

    async def hook(request):
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")
    async with local_http([("POST", "/telegram", hook)]) as root:
        url = f"{root}/telegram"
        assert await tg.post_webhook(url, {"update_id": 1}, secret="abc") == 200
        await bot.set_webhook(url, secret_token="TopSecret_1")
        upd = tg.push_text(9, "qua webhook")
        await tg.wait_for(lambda: len(seen) == 2 and tg.webhook_deliveries)      # recorded after the reply
        assert seen[0] == ("abc", {"update_id": 1})
        assert seen[1] == ("TopSecret_1", upd) and tg.webhook_deliveries == [(upd["update_id"], 200)]
        assert tg.updates == []


async def test_callbacks_must_be_answered_once(tg, bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="ok:1")]])
    m = await bot.send_message(3, "Chọn", reply_markup=markup)
    upd = tg.press(3, "có")
    assert upd["callback_query"]["message"]["message_id"] == m.message_id
    assert upd["callback_query"]["data"] == "ok:1"
    await bot.answer_callback_query(upd["callback_query"]["id"])
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(upd["callback_query"]["id"])
    assert tg.callback_answers == [{"id": upd["callback_query"]["id"], "text": "", "show_alert": False}]


async def test_edit_message_text(tg, bot):
    m = await bot.send_message(4, "Đang xử lý…")
    await bot.edit_message_text("Xong <b>rồi</b>", chat_id=4, message_id=m.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("Xong <b>rồi</b>", chat_id=4, message_id=m.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=4, message_id=1)
    assert [e.text for e in tg.edits] == ["Xong <b>rồi</b>"]


async def test_commands_chat_action_and_files(tg, bot):
    await bot.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("huongdan", "Hướng dẫn")])
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Bắt đầu"), ("huongdan", "Hướng dẫn")]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    await bot.send_chat_action(4, "typing")
    assert tg.chat_actions == [(4, "typing")]
    upd = tg.push_document(4, "hoso.xlsx", b"PK\x03\x04 sheet", mime="application/vnd.ms-excel")
    f = await bot.get_file(upd["message"]["document"]["file_id"])
    assert bytes(await f.download_as_bytearray()) == b"PK\x03\x04 sheet"
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")
    contact = tg.push_contact(4, "+84901234567")
    assert contact["message"]["contact"]["phone_number"] == "+84901234567"


async def test_start_in_thread_push_from_other_thread():
    fake = FakeTelegram().start_in_thread()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    async with bot:
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        fake.push_text(1, "từ luồng khác")
        got = await asyncio.wait_for(poll, 2)
        assert got[0].message.text == "từ luồng khác"


async def test_subprocess_entry_point_and_control_routes():
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--per-chat", "1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline))
        url, token = ready["url"], ready["token"]
        async with ClientSession() as s:
            await s.post(f"{url}/_fake/push", json={"kind": "command", "chat_id": 2, "command": "start"})
            async with s.get(f"{url}/bot{token}/getUpdates") as r:
                assert (await r.json())["result"][0]["message"]["text"] == "/start"
            for text in ("a", "b"):
                await s.post(f"{url}/bot{token}/sendMessage", data={"chat_id": "2", "text": text})
            async with s.get(f"{url}/_fake/stats") as r:
                stats = await r.json()
        assert stats["sent"] == 1 and stats["violations"] == 1 and stats["calls"]["sendmessage"] == 2
    finally:
        proc.terminate()
        proc.wait(5)
