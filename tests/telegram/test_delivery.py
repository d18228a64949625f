"""Proactive messages: DeliveryWorker + TelegramChannel.sender against the fake server."""
import pytest
from sqlalchemy import select

from core.messages import Button, Reply
from delivery.queue import enqueue
from storage.models import Delivery, Identity
from tests.telegram.conftest import say

OK, BLOCKED, GONE, LIMITED = 1001, 1002, 1003, 1004


async def identity(rt, chat: int) -> Identity:
    async with rt.core.sessionmaker() as s:
        return await s.scalar(select(Identity).where(Identity.channel == "telegram",
                                                     Identity.external_id == str(chat)))


async def test_worker_delivers_marks_blocked_inactive_and_honours_429(tg, start_bot, db_url):
    # The worker spaces sends to one chat when it acquires a slot, but commits 'sending' before the HTTP
    # call; that commit's latency varies, so with exactly 1.0 s two sends can reach Telegram < 1 s apart
    # (the fake counts that as a violation). 1.1 s leaves room for the jitter (reported to delivery).
    rt = await start_bot(db_url, per_chat_interval=1.1, send_rate=30)
    for chat in (OK, BLOCKED, GONE, LIMITED):
        await say(tg, chat, "/start")
    tg.reset()
    tg.set_rates(overall=(30, 1.0), per_chat=(1, 1.0))       # Telegram's limits; violations are counted
    tg.block(BLOCKED)
    tg.not_found(GONE)
    tg.script_errors([429], chat_id=LIMITED, retry_after=1)
    async with rt.core.sessionmaker() as s, s.begin():
        for chat in (OK, BLOCKED, GONE, LIMITED):
            ident = await s.scalar(select(Identity).where(Identity.external_id == str(chat)))
            await enqueue(s, ident, Reply("🔔 Nhắc hạn: giấy chứng nhận <b>OCOP</b> sắp hết hạn.",
                                          [[Button("Xem", "p:1")]]), key=f"t:{chat}", kind="reminder")
            await enqueue(s, ident, Reply("Tin thứ hai"), key=f"t2:{chat}", kind="notice")
    await rt.worker.drain(timeout=15)
    async with rt.core.sessionmaker() as s:
        rows = {(r.chat_id, r.key[:2]): r.status for r in await s.scalars(select(Delivery))}
    assert rows[(str(OK), "t:")] == rows[(str(OK), "t2")] == "sent"
    assert rows[(str(LIMITED), "t:")] == rows[(str(LIMITED), "t2")] == "sent"
    assert {rows[(str(BLOCKED), "t:")], rows[(str(BLOCKED), "t2")]} == {"blocked"}
    assert {rows[(str(GONE), "t:")], rows[(str(GONE), "t2")]} == {"blocked"}
    assert not (await identity(rt, BLOCKED)).active and not (await identity(rt, GONE)).active
    assert (await identity(rt, OK)).active
    # exactly once, with the keyboard
    assert [s.text[:10] for s in tg.sent_to(OK)] == ["🔔 Nhắc hạn", "Tin thứ ha"]
    assert tg.sent_to(OK)[0].buttons() == [{"text": "Xem", "callback_data": "p:1"}]
    assert len(tg.sent_to(LIMITED)) == 2
    assert tg.violations == [], [(s.chat_id, round(s.t, 3)) for s in tg.sent]


@pytest.mark.parametrize("script, status, deactivate", [
    ("block", "blocked", True), ("deactivate", "blocked", True), ("cant_initiate", "blocked", True),
    ("not_found", "blocked", True), ("429", "retry", False), ("502", "retry", False)])
async def test_sender_maps_telegram_errors(tg, start_bot, script, status, deactivate):
    rt = await start_bot()
    sender = rt.senders["telegram"]
    if script.isdigit():
        tg.script_errors([int(script)], chat_id=55, retry_after=7)
    else:
        getattr(tg, script)(55)
    result = await sender.send("55", Reply("xin chào"))
    assert (result.status, result.deactivate) == (status, deactivate)
    if script == "429":
        assert result.retry_after == 7


async def test_sender_migrated_chat_bad_edit_and_edit(tg, start_bot):
    rt = await start_bot()
    sender = rt.senders["telegram"]
    tg.migrate(-100, -100100)
    res = await sender.send("-100", Reply("nhóm"))
    assert res.status == "sent" and tg.sent[-1].chat_id == -100100
    res = await sender.send("56", Reply("Đang gửi 0/10…"))
    assert (await sender.edit("56", res.message_id, Reply("Đã gửi 10/10 ✅"))).status == "sent"
    assert (await sender.edit("56", res.message_id, Reply("Đã gửi 10/10 ✅"))).status == "sent"   # unchanged
    assert tg.edits[-1].text == "Đã gửi 10/10 ✅"
    assert (await sender.edit("56", "1", Reply("x"))).status == "failed"                           # not found
