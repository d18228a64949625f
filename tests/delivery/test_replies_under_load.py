"""Nothing a user is owed is lost under load: the real PTB bot against the fake Bot API, which answers
429 with retry_after as Telegram does (more than 30 sends a second, or 3 a second to one chat)."""
from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import func, select

from handlers.broadcast import sending
from core.messages import Button, Reply
from storage.models import Delivery
from tests.fakes.telegram_html import parse_html
from tests.fakes.telegram_checks import max_per_second
from tests.bulk import add_producers
from tests.telegram.conftest import say
from tests.telegram.test_rendering import router_with

QUESTION = "Giấy chứng nhận OCOP có thời hạn bao lâu?"
ASKERS = [700_000 + i for i in range(20)]


async def _broadcast(rt, n: int) -> int:
    sm = rt.core.sessionmaker
    await add_producers(sm, n)
    async with sm() as s, s.begin():
        bc, errs = await sending.create(s, actor_user_id=None, text="Hội chợ OCOP mở đăng ký", segment={},
                                        scope=None, origin="cli")
    assert not errs
    rt.worker.wakeup.set()
    return bc.id


async def _sent_count(rt, bid: int) -> int:
    async with rt.core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.broadcast_id == bid, Delivery.status == "sent"))



async def test_twenty_askers_during_a_broadcast_all_get_their_answer(tg, start_bot, db_url, caplog):
    rt = await start_bot(db_url, with_worker=True)
    for chat in ASKERS:                                 # known users (their /start answered before)
        tg.push_command(chat, "start")
    await tg.wait_for(lambda: all(tg.sent_to(c) for c in ASKERS), timeout=30)
    bid = await _broadcast(rt, 300)
    await tg.wait_for(lambda: len([s for s in tg.sent if s.chat_id >= 100_000 and s.chat_id < 700_000]) >= 20,
                      timeout=20)                      # the broadcast is going out
    before = {c: len(tg.sent_to(c)) for c in ASKERS}
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    for chat in ASKERS:                                 # 20 producers ask at the same moment
        tg.push_text(chat, QUESTION)
    await tg.wait_for(lambda: all(len(tg.sent_to(c)) > before[c] for c in ASKERS), timeout=30)
    answered_in = time.monotonic() - started
    for chat in ASKERS:
        [answer] = tg.sent_to(chat)[before[chat]:]
        assert "36 tháng" in answer.text and answer.buttons()     # the answer, with its buttons
    assert answered_in < 10
    assert await _sent_count(rt, bid) < 300                       # the broadcast was still going out
    # the token never went above Telegram's 30/s, the worker kept its share below the reply headroom
    assert max_per_second([s.t for s in tg.sent]) <= 30
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_four_questions_at_once_get_four_answers_in_order(tg, start_bot, db_url):
    await start_bot(db_url)
    chat = 710_001
    await say(tg, chat, "/start")
    before = len(tg.sent_to(chat))
    questions = [QUESTION, "OCOP là gì?", "Hồ sơ đánh giá OCOP gồm những gì?", "gcn ocop co thoi han bao lau"]
    for q in questions:
        tg.push_text(chat, q)
    await tg.wait_sent(before + 4, chat_id=chat, timeout=15)
    await asyncio.sleep(1.5)
    out = tg.sent_to(chat)[before:]
    assert len(out) == 4
    assert "36 tháng" in out[0].text and "36 tháng" in out[3].text
    assert tg.violation_count == 0                    # paced to the chat, not refused


async def test_a_refused_reply_is_sent_again_in_order_with_its_buttons(tg, start_bot, db_url, caplog):
    """Telegram refuses the 2nd message of a long reply (one message a second to this chat): it is
    sent again after retry_after, the rest follows in order, the keyboard stays on the last message."""
    lines = [f"<b>Mục {i}</b>: nội dung dài về hồ sơ OCOP tiêu chí số {i} " + "x" * 60 for i in range(120)]

    async def text(ctx, msg):
        return Reply("\n".join(lines), [[Button("👍", "fb:1"), Button("👎", "fb:0")]])
    await start_bot(db_url, router=router_with(text=text))
    chat = 720_001
    tg.set_rates(overall=(30, 1.0), per_chat=(1, 1.0))        # stricter than the bot's own pacing
    caplog.set_level(logging.WARNING)
    tg.push_text(chat, "danh sách")
    await tg.wait_for(lambda: tg.sent_to(chat) and tg.sent_to(chat)[-1].buttons(), timeout=30)
    out = tg.sent_to(chat)
    assert len(out) >= 3 and tg.violation_count >= 1             # some were refused with 429 …
    assert "\n".join(parse_html(m.text) for m in out).count("Mục") == 120     # … and sent again, in order
    assert [int(parse_html(m.text).split("Mục ")[1].split(":")[0]) for m in out] == sorted(
        int(parse_html(m.text).split("Mục ")[1].split(":")[0]) for m in out)
    assert [bool(m.buttons()) for m in out] == [False] * (len(out) - 1) + [True]
    warnings = [r for r in caplog.records if "429" in r.getMessage()]
    assert warnings and all(r.levelno == logging.WARNING and not r.exc_info for r in warnings)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_429_on_a_reply_is_retried_after_retry_after(tg, start_bot, db_url, caplog):
    await start_bot(db_url)
    chat = 730_001
    await say(tg, chat, "/start")
    before = len(tg.sent_to(chat))
    caplog.set_level(logging.WARNING)
    tg.script_errors([429], chat_id=chat, retry_after=1)
    started = time.monotonic()
    tg.push_text(chat, QUESTION)
    [answer] = (await tg.wait_sent(before + 1, chat_id=chat, timeout=10))[before:]
    assert time.monotonic() - started >= 0.9
    assert "36 tháng" in answer.text and answer.buttons()
    [line] = [r for r in caplog.records if "429" in r.getMessage()]
    assert line.levelno == logging.WARNING and line.exc_info is None and "\n" not in line.getMessage()


async def test_the_apology_is_retried_too(tg, start_bot, db_url):
    """The reply fails (502), the channel's apology is refused (429): the apology still arrives."""
    await start_bot(db_url)
    chat = 740_001
    await say(tg, chat, "/start")
    before = len(tg.sent_to(chat))
    tg.script_errors([502, 429], chat_id=chat, retry_after=1)
    tg.push_text(chat, QUESTION)
    [apology] = (await tg.wait_sent(before + 1, chat_id=chat, timeout=10))[before:]
    assert apology.text.startswith("Xin lỗi")
    assert [e[2] for e in tg.rejected()] == [502, 429]

