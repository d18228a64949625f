"""The delivery worker under load: priority claiming, the shared budget across processes, drains that
recover dead workers' rows and do not wait for tomorrow, CLI sends when Telegram is unreachable."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from handlers.broadcast import sending
from handlers.broadcast.runner import deliver
from core import clock
from core.config import ROOT
from core.messages import Reply
from delivery.budget import PgBudget, budget_key
from delivery.queue import enqueue, enqueue_rows
from delivery.senders import Senders
from delivery.worker import HOST, DeliveryWorker
from storage.db import make_engine, make_sessionmaker
from storage.models import Delivery, Identity, utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_checks import max_per_second
from tests.bulk import add_producers, status_counts
from tests.people import RecordingSender
from tests.telegram.conftest import free_port



async def _identity(sm, chat: int) -> Identity:
    async with sm() as s:
        return await s.scalar(select(Identity).where(Identity.chat_id == str(chat)))


async def test_claim_takes_personal_rows_before_broadcasts(db_url, make_core):
    core = make_core(db_url)
    sm = core.sessionmaker
    chats = await add_producers(sm, 30)
    async with sm() as s, s.begin():
        bc, _ = await sending.create(s, actor_user_id=None, text="Tin", segment={}, scope=None, origin="cli")
        ident = await s.scalar(select(Identity).where(Identity.chat_id == str(chats[5])))
        await enqueue(s, ident, Reply("Trả lời của cán bộ"), key="answer:1", kind="answer")
        await enqueue(s, ident, Reply("Nhắc hạn"), key="rem:1", kind="reminder")
    worker = DeliveryWorker(sm, Senders(telegram=RecordingSender()), rate=1000, per_chat_interval=0)
    rows = await worker.claim(limit=3)
    assert [r.kind for r in rows] == ["answer", "reminder", "broadcast"]
    assert bc.total == 30


async def test_officer_answer_overtakes_a_running_broadcast(tg, db_url, make_settings):
    """The answer is enqueued while a broadcast batch is being sent: it goes out within seconds."""
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    settings = make_settings(db_url, telegram_token=tg.token, telegram_api_url=tg.url, send_rate=25)
    chats = await add_producers(sm, 400)
    async with sm() as s, s.begin():
        await sending.create(s, actor_user_id=None, text="Hội chợ OCOP", segment={}, scope=None, origin="cli")
    from delivery.standalone import close_senders, open_senders
    senders, closers = await open_senders(settings, sm)
    worker = DeliveryWorker(sm, senders, rate=25, per_chat_interval=1.0)
    run = asyncio.create_task(worker.drain(timeout=60, idle_exit=False))
    try:
        await tg.wait_for(lambda: len(tg.sent) >= 40, timeout=30)      # the batch is under way
        target = chats[-1]
        async with sm() as s, s.begin():
            ident = await s.scalar(select(Identity).where(Identity.chat_id == str(target)))
            await enqueue(s, ident, Reply("Trả lời câu hỏi #1"), key="answer:1", kind="answer")
        queued_at = time.monotonic()
        await tg.wait_for(lambda: any(m.text.startswith("Trả lời") for m in tg.sent_to(target)), timeout=10)
        latency = time.monotonic() - queued_at
        assert latency < 5, latency
        async with sm() as s:
            sent = await s.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.kind == "broadcast", Delivery.status == "sent"))
        assert sent < 400                                               # the broadcast was still going
    finally:
        worker.stopping = True
        worker.wakeup.set()
        await asyncio.wait_for(run, 30)
        await close_senders(closers)
        await engine.dispose()
    assert tg.violation_count == 0


async def test_pg_budget_holds_across_processes(pg_url):
    """Three 'processes' (three engines, as `bot.py run` ×2 + `bot.py broadcast`) share one token's
    budget: together at most `rate` a second, and replies keep their headroom."""
    engines = [make_engine(pg_url) for _ in range(3)]
    key = budget_key("telegram", "123:x")
    budgets = [PgBudget(e, key, rate=25, reserve=5) for e in engines]
    bulk_times, reply_times = [], []

    async def sender(budget, bulk, out, seconds=3.0):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await budget.slot(bulk=bulk)
            out.append(time.monotonic())
    try:
        await asyncio.gather(*(sender(b, True, bulk_times) for b in budgets for _ in range(8)),
                             sender(budgets[0], False, reply_times), sender(budgets[1], False, reply_times))
    finally:
        for b, e in zip(budgets, engines):
            await b.close()
            await e.dispose()
    everything = bulk_times + reply_times
    assert max_per_second(everything) <= 30          # SEND_RATE 25 + scheduling jitter: under Telegram's 30
    assert max_per_second(bulk_times) <= 25          # the worker (20/s) leaves headroom to replies
    assert len(reply_times) >= 3 * 3                  # replies got through despite 24 bulk senders


async def test_broadcast_drain_recovers_rows_of_a_killed_worker(sqlite_url, make_settings):
    """`bot.py broadcast` must not wait for rows a killed `bot.py run` had claimed."""
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    await add_producers(sm, 20)
    async with sm() as s, s.begin():
        bc, _ = await sending.create(s, actor_user_id=None, text="Tin", segment={}, scope=None, origin="cli")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    async with FakeTelegram() as fake:
        settings = make_settings(sqlite_url, telegram_token=fake.token, telegram_api_url=fake.url)

        async def kill_a_worker_later():
            await fake.wait_for(lambda: len(fake.sent) >= 5, timeout=20)
            async with sm() as s, s.begin():       # a `bot.py run` claimed the rest, then died
                await s.execute(update(Delivery).where(Delivery.status == "queued").values(
                    status="claimed", claimed_by=f"{HOST}:{dead.pid}:dead", claimed_at=utcnow()))
        killer = asyncio.create_task(kill_a_worker_later())
        started = time.monotonic()
        code = await asyncio.wait_for(deliver(sm, settings, bc.id, out=open(os.devnull, "w")), 60)
        await killer
        assert code == 0 and time.monotonic() - started < 30
    assert (await status_counts(sm, bc.id)) == {"sent": 20}
    await engine.dispose()


async def test_drain_does_not_wait_for_a_row_due_tomorrow(db_url, make_core):
    core = make_core(db_url)
    sm = core.sessionmaker
    [today_chat, tomorrow_chat] = await add_producers(sm, 2)
    a, b = await _identity(sm, today_chat), await _identity(sm, tomorrow_chat)
    async with sm() as s, s.begin():
        await enqueue(s, a, Reply("Nhắc hạn hôm nay"), key="rem:today", kind="reminder")
        await enqueue_rows(s, [dict(key="rem:tomorrow", kind="reminder", identity_id=b.id, channel="telegram",
                                    chat_id=b.chat_id, payload=Reply("Ngày mai").to_payload(),
                                    next_attempt_at=utcnow() + timedelta(days=1))])
    sender = RecordingSender()
    worker = DeliveryWorker(sm, Senders(telegram=sender), rate=1000, per_chat_interval=0)
    started = time.monotonic()
    await worker.drain(timeout=120)
    assert time.monotonic() - started < 5
    assert [c for c, _ in sender.sent] == [str(today_chat)]


async def test_drain_waits_for_the_retry_of_a_row_it_tried(sqlite_url, make_core):
    core = make_core(sqlite_url)
    sm = core.sessionmaker
    [chat] = await add_producers(sm, 1)
    async with sm() as s, s.begin():
        await enqueue(s, await _identity(sm, chat), Reply("Nhắc"), key="rem:1", kind="reminder")
    sender = RecordingSender(fail={str(chat)})          # first attempt: a transient error

    async def heal():
        await asyncio.sleep(0.5)
        sender.fail.clear()
    healer = asyncio.create_task(heal())
    worker = DeliveryWorker(sm, Senders(telegram=sender), rate=1000, per_chat_interval=0)
    await worker.drain(timeout=30)
    await healer
    assert [c for c, _ in sender.sent] == [str(chat)]


def _bot(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)


async def test_cli_sends_when_telegram_is_unreachable(db_url):
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    await add_producers(sm, 3)
    env = dict(os.environ, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN="123456:TEST-fake-token",
               TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}", ADMIN_IDS="")
    r = await asyncio.to_thread(_bot, ["broadcast", "--text", "Tin"], env)
    err = r.stderr.strip()
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert len(err.splitlines()) == 1 and "Telegram" in err
    assert "Traceback" not in r.stdout + r.stderr and "Unclosed" not in r.stdout + r.stderr
    async with sm() as s:
        assert set(await s.scalars(select(Delivery.status))) == {"queued"}     # retryable
    r = await asyncio.to_thread(_bot, ["broadcast", "--resume", "1"], env)
    assert r.returncode == 3 and "Traceback" not in r.stderr and "Unclosed" not in r.stderr
    await engine.dispose()


async def test_remind_cli_when_telegram_is_unreachable_then_later(tg, start_bot, sqlite_url):
    from tests.products.test_cli import bot
    from tests.products.test_telegram import ADMIN, FARMER, _import_as_officer
    from tests.telegram.conftest import say, settle
    await start_bot(sqlite_url)
    await say(tg, ADMIN, "/start")
    await _import_as_officer(tg)
    before = len(tg.sent_to(FARMER))
    tg.push_contact(FARMER, "0912345678")
    await settle(tg, FARMER, before)
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2027-02-26",
                                  "TELEGRAM_BOT_TOKEN=" + tg.token, f"TELEGRAM_API_URL=http://127.0.0.1:{free_port()}")
    assert res.returncode == 3
    assert len(res.stderr.strip().splitlines()) == 1 and "Telegram" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr and "Unclosed" not in res.stdout + res.stderr
    engine = make_engine(sqlite_url)
    async with make_sessionmaker(engine)() as s:
        assert [d.status for d in await s.scalars(select(Delivery))] == ["queued"]
    await engine.dispose()
    before = len(tg.sent_to(FARMER))
    res = await asyncio.to_thread(bot, sqlite_url, "remind", "--today", "2027-02-26",   # a later run
                                  "TELEGRAM_BOT_TOKEN=" + tg.token, "TELEGRAM_API_URL=" + tg.url,
                                  "OCOP_CLOCK=" + clock.now().isoformat())
    assert res.returncode == 0, res.stderr
    assert "sent=1" in res.stdout
    await tg.wait_sent(before + 1, chat_id=FARMER)          # the queued reminder went out now
