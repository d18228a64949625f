"""Certificates through the real PTB channel and the fake Bot API server: claiming by the contact
button, an officer sending the register file, a reminder delivered by the Telegram sender (with its
buttons), a 403-blocked producer marked inactive, and `bot.py remind` sending through Telegram."""
import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from core.reminders import sweep
from storage.models import Certificate, Delivery, Identity
from tests.products.test_cli import bot
from tests.products.util import GOOD, csv_bytes
from tests.telegram.conftest import say, settle, start_bot, tap, tg  # noqa: F401

ADMIN, FARMER, BLOCKED = 1000, 2001, 2002
EXP = date(2027, 3, 5)          # "Mật ong U Minh" (0912345678) recognised 5/3/2024


async def _import_as_officer(tg):
    before = len(tg.sent_to(ADMIN))
    tg.push_document(ADMIN, "danh-sach.csv", csv_bytes(GOOD), "text/csv")
    return " ".join(s.text for s in await settle(tg, ADMIN, before))


async def test_claim_remind_and_blocked_over_telegram(tg, start_bot, db_url):  # noqa: F811
    rt = await start_bot(db_url)
    await say(tg, ADMIN, "/start")
    assert "Thêm mới: 3" in await _import_as_officer(tg)
    before = len(tg.sent_to(FARMER))
    tg.push_document(FARMER, "x.csv", csv_bytes(GOOD), "text/csv")
    assert "chỉ nhận tệp danh sách" in (await settle(tg, FARMER, before))[0].text
    out = await say(tg, FARMER, "/sanpham")
    assert "chưa có sản phẩm" in out[0].text
    await tap(tg, FARMER, "pc:menu")
    before = len(tg.sent_to(FARMER))
    tg.push_contact(FARMER, "+84912345678")
    out = await settle(tg, FARMER, before)
    assert "Đã nhận 1 sản phẩm" in out[0].text and "Mật ong U Minh" in out[0].text
    before = len(tg.sent_to(BLOCKED))
    tg.push_contact(BLOCKED, "84987654321")
    assert "Trà sen" in (await settle(tg, BLOCKED, before))[0].text
    tg.block(BLOCKED)

    async with rt.core.sessionmaker() as s, s.begin():
        res = await sweep(s, rt.core.settings, date(2025, 12, 1))     # Trà sen expires 10/1/2026: window closed
        res2 = await sweep(s, rt.core.settings, EXP - timedelta(days=180))   # Mật ong: the window opens today
    assert res.enqueued == 1 and res2.enqueued == 1
    before = len(tg.sent_to(FARMER))
    await rt.worker.drain(timeout=10)
    [reminder] = tg.sent_to(FARMER)[before:]
    assert "còn 180 ngày" in reminder.text and "05/03/2027" in reminder.text
    datas = [b.get("callback_data") for b in reminder.buttons()]
    assert "d:start:reeval" in datas and any(d.startswith("p:mute:") for d in datas)
    async with rt.core.sessionmaker() as s:
        blocked = await s.scalar(select(Identity).where(Identity.external_id == str(BLOCKED)))
        statuses = sorted(d.status for d in await s.scalars(select(Delivery)))
    assert not blocked.active and blocked.inactive_reason == "blocked"
    assert statuses == ["blocked", "sent"]
    out = await tap(tg, FARMER, label="Tắt nhắc")
    assert "Đã tắt nhắc" in out[0].text
    async with rt.core.sessionmaker() as s:
        assert (await s.scalar(select(Certificate).where(Certificate.product == "Mật ong U Minh"))).muted


async def test_remind_cli_sends_through_telegram(tg, start_bot, sqlite_url):  # noqa: F811
    rt = await start_bot(sqlite_url)
    await say(tg, ADMIN, "/start")
    await _import_as_officer(tg)
    before = len(tg.sent_to(FARMER))
    tg.push_contact(FARMER, "0912345678")
    await settle(tg, FARMER, before)
    before = len(tg.sent_to(FARMER))
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2026-10-31",
                                  "TELEGRAM_BOT_TOKEN=" + tg.token, "TELEGRAM_API_URL=" + tg.url)
    assert res.returncode == 0, res.stderr
    assert "sent=1" in res.stdout
    sent = await tg.wait_sent(before + 1, chat_id=FARMER)
    assert "còn 125 ngày" in sent[-1].text
    assert rt is not None
