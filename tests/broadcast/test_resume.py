"""An interrupted CLI broadcast is finished by `bot.py run` (a Runtime), and Ctrl+C leaves nothing
in flight (zero 'unknown')."""
from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from datetime import timedelta

from sqlalchemy import update

from handlers.broadcast import sending
from core.runtime import Runtime
from delivery.worker import HOST
from storage.db import make_engine, make_sessionmaker
from storage.models import Broadcast, Delivery, utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.bulk import add_producers, status_counts
from tests.people import RecordingSender
from tests.delivery.test_delivery_fake_telegram import _run


class FakeChannel:
    name = "telegram"
    needs_http = False

    def __init__(self, sender):
        self.sender = sender

    async def start(self, runtime):
        return None

    async def stop(self):
        return None


async def test_runtime_finishes_a_killed_cli_broadcast(sqlite_url, make_settings):
    settings = make_settings(sqlite_url, send_rate=1000, per_chat_interval=0)
    rt = Runtime(settings)
    sm = rt.core.sessionmaker
    await add_producers(sm, 50)
    async with sm() as s, s.begin():
        bc, _ = await sending.create(s, actor_user_id=None, text="Tin", segment={}, scope=None, origin="cli")
        # the CLI process died holding 20 claimed rows and 2 calls in flight
        dead = f"{HOST}:999999:dead"
        ids = [d for d in range(1, 23)]
        await s.execute(update(Delivery).where(Delivery.id.in_(ids[:20])).values(
            status="claimed", claimed_by=dead, claimed_at=utcnow() - timedelta(seconds=5)))
        await s.execute(update(Delivery).where(Delivery.id.in_(ids[20:])).values(
            status="sending", claimed_by=dead, claimed_at=utcnow()))
    sender = RecordingSender()
    rt.add_channel(FakeChannel(sender))
    await rt.start(with_scheduler=False, with_http=False)
    try:
        for _ in range(200):
            async with sm() as s:
                if (await s.get(Broadcast, bc.id)).status == "done":
                    break
            await asyncio.sleep(0.05)
    finally:
        await rt.stop()
    assert len(sender.sent) == 48 and set(Counter(c for c, _ in sender.sent).values()) == {1}
    engine = make_engine(sqlite_url)
    counts = await status_counts(make_sessionmaker(engine), bc.id)
    await engine.dispose()
    assert counts == {"sent": 48, "unknown": 2}


async def test_ctrl_c_leaves_nothing_in_flight_then_resume(sqlite_url):
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    async with FakeTelegram(overall_rate=(500, 1.0), per_chat_rate=(1, 1.0)) as fake:
        await add_producers(sm, 600)
        env = dict(os.environ, DATABASE_URL=sqlite_url, TELEGRAM_BOT_TOKEN=fake.token,
                   TELEGRAM_API_URL=fake.url, SEND_RATE="100", PER_CHAT_INTERVAL="1", ADMIN_IDS="")
        proc = await _run(["broadcast", "--text", "Tin {{ ten }}"], env)
        await fake.wait_for(lambda: len(fake.sent) >= 150, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 130, out.decode()[-1500:]
        assert "--resume 1" in out.decode()
        counts = await status_counts(sm, 1)
        assert set(counts) == {"sent", "queued"} and counts["sent"] == len(fake.sent) < 600   # 0 unknown
        proc = await _run(["broadcast", "--resume", "1"], env)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0 and "unknown=0" in out.decode()
        per_chat = Counter(s.chat_id for s in fake.sent)
        assert len(per_chat) == 600 and set(per_chat.values()) == {1}
    await engine.dispose()
