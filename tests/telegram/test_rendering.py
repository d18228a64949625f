"""Rendering through real PTB: long replies split, stray HTML, contact keyboard, files, failures."""

import pytest

from core.messages import Button, OutFile, Reply
from handlers import build_router
from tests.fakes.telegram_html import parse_html
from tests.telegram.conftest import say, settle

CHAT = 5150


def router_with(**handlers):
    router = build_router()
    for name, fn in handlers.items():
        setattr(router, name, fn)
    return router


async def test_oversized_reply_is_split_with_buttons_on_last_chunk(tg, start_bot):
    lines = [f"<b>Mục {i}</b>: nội dung dài về hồ sơ OCOP &amp; tiêu chí số {i} " + "x" * 60 for i in range(120)]
    long_text = "\n".join(lines)

    async def text(ctx, msg):
        return Reply(long_text, [[Button("👍", "fb:1"), Button("👎", "fb:0")]])
    await start_bot(router=router_with(text=text))
    out = await say(tg, CHAT, "danh sách")
    assert len(out) >= 3 and all(len(parse_html(m.text)) <= 4096 for m in out)
    assert [bool(m.buttons()) for m in out] == [False] * (len(out) - 1) + [True]
    assert "\n".join(m.text for m in out).count("<b>Mục") == 120
    assert tg.rejected() == []


async def test_stray_markup_from_a_handler_still_parses(tg, start_bot):
    async def text(ctx, msg):
        return Reply("Giá < 5 triệu & <br> thuế <b>10%")
    await start_bot(router=router_with(text=text))
    [m] = await say(tg, CHAT, "giá?")
    assert parse_html(m.text) == "Giá < 5 triệu & <br> thuế 10%"
    assert tg.rejected() == []


async def test_contact_keyboard_and_contact_share(tg, start_bot):
    seen = []

    async def text(ctx, msg):
        return Reply("Cho tôi xin số điện thoại.", request_contact=True)

    async def contact(ctx, msg):
        seen.append((msg.contact_phone, msg.user_key))
        return Reply("Đã lưu số của bạn.")
    await start_bot(router=router_with(text=text, contact=contact))
    [ask] = await say(tg, CHAT, "đăng ký")
    kb = ask.reply_markup["keyboard"]
    assert kb[0][0]["request_contact"] is True and ask.reply_markup["one_time_keyboard"] is True
    before = len(tg.sent_to(CHAT))
    tg.push_contact(CHAT, "+84901234567")
    [done] = await settle(tg, CHAT, before)
    assert seen == [("+84901234567", str(CHAT))]
    assert done.reply_markup == {"remove_keyboard": True}
    # someone else's contact card is not taken as the user's own number
    tg.push(tg.factory.wrap(message={**tg.factory.contact(CHAT, "+84900000000")["message"],
                                     "contact": {"phone_number": "+84900000000", "first_name": "X",
                                                 "user_id": 999}}))
    await settle(tg, CHAT, before + 1)
    assert seen[1:] == [("", str(CHAT))]            # handled (and answered) without the number
    assert tg.rejected() == []


async def test_documents_in_and_out(tg, start_bot):
    got = []

    async def file(ctx, msg):
        got.append((msg.file.filename, msg.file.size, msg.file.data))
        return Reply("Đã nhận tệp.", file=OutFile("ket-qua.pdf", b"%PDF-1.4 ok", "application/pdf",
                                                   caption="<b>Kết quả</b> " + "c" * 1100))
    await start_bot(router=router_with(file=file))
    before = len(tg.sent_to(CHAT))
    tg.push_document(CHAT, "hoso.xlsx", b"PK\x03\x04 bang tinh", mime="application/vnd.ms-excel")
    out = await settle(tg, CHAT, before)
    assert got == [("hoso.xlsx", 14, b"PK\x03\x04 bang tinh")]
    doc = [m for m in out if m.method == "sendDocument"]
    assert doc and doc[0].content == b"%PDF-1.4 ok" and doc[0].filename == "ket-qua.pdf"
    assert "Kết quả" in "".join(m.text for m in out)                   # long caption moved into the text
    assert tg.rejected() == []


async def test_failing_handler_apologises_and_bot_keeps_running(tg, start_bot):
    async def text(ctx, msg):
        raise RuntimeError("boom")
    await start_bot(router=router_with(text=text))
    [m] = await say(tg, CHAT, "câu hỏi")
    assert "Xin lỗi" in m.text
    [m] = await say(tg, CHAT, "/start")
    assert "OCOP" in m.text


async def test_adapter_failure_goes_to_the_global_error_handler(tg, start_bot, caplog):
    rt = await start_bot()
    real = rt.core.handle

    async def flaky(msg):
        if msg.text == "nổ":
            raise RuntimeError("adapter boom")
        return await real(msg)
    rt.core.handle = flaky
    [m] = await say(tg, CHAT, "nổ")
    assert "Xin lỗi" in m.text
    assert any("telegram update failed" in r.message for r in caplog.records)
    [m] = await say(tg, CHAT, "/start")
    assert "OCOP" in m.text


@pytest.mark.parametrize("kind", ["photo", "edited"])
async def test_unsupported_updates_do_not_crash(tg, start_bot, kind):
    await start_bot()
    base = tg.factory.text(CHAT, "x")["message"]
    if kind == "photo":
        msg = {k: v for k, v in base.items() if k != "text"}
        msg["photo"] = [{"file_id": "p1", "file_unique_id": "up1", "width": 1, "height": 1}]
        before = len(tg.sent_to(CHAT))
        tg.push(tg.factory.wrap(message=msg))
        [m] = await settle(tg, CHAT, before)
        assert "chữ" in m.text                                 # "Tôi chỉ đọc được tin nhắn chữ…"
    else:
        tg.push(tg.factory.wrap(edited_message=base))
        [m] = await say(tg, CHAT, "/start")                    # the edit was ignored, the bot still runs
        assert "OCOP" in m.text


async def test_chats_run_concurrently_but_each_chat_in_order(tg, start_bot, pg_url):
    """PostgreSQL: on SQLite the slow handler's open write transaction would hold every other chat."""
    import asyncio

    async def text(ctx, msg):
        if msg.text == "chậm":
            await asyncio.sleep(0.6)
        return Reply(f"đáp: {msg.text}")
    await start_bot(pg_url, router=router_with(text=text))
    tg.push_text(CHAT, "chậm")
    tg.push_text(CHAT, "một")
    tg.push_text(CHAT + 1, "nhanh")
    await tg.wait_sent(3, timeout=10)
    order = [(m.chat_id, m.text) for m in tg.sent]
    assert order == [(CHAT + 1, "đáp: nhanh"), (CHAT, "đáp: chậm"), (CHAT, "đáp: một")]


async def test_polling_and_sending_survive_server_errors(tg, start_bot):
    await start_bot()
    tg.push_text(CHAT, "/start")
    await tg.wait_sent(1, chat_id=CHAT)
    tg.fail_polls([502])                              # PTB's updater retries getUpdates
    tg.push_text(CHAT, "/huongdan")
    [help_] = await settle(tg, CHAT, 1)
    assert "/huy" in help_.text and "Xin lỗi" not in help_.text
    tg.script_errors([502], chat_id=CHAT)             # the reply itself fails: the user gets the apology
    [sorry] = await say(tg, CHAT, "/huongdan")
    assert "Xin lỗi" in sorry.text
    assert [c[2] for c in tg.rejected()] == [502, 502]
