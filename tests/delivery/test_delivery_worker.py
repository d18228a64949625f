"""The delivery worker's guarantees: two workers on PostgreSQL, recovery after a crash, cancel while
claimed, 429 / transient / blocked handling, graceful stop, pacing."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.messages import Reply
from delivery.outcome import SendResult
from delivery.queue import enqueue
from delivery.ratelimit import Pacer
from delivery.senders import Senders
from delivery.worker import HOST, DeliveryWorker
from storage.db import make_engine, make_sessionmaker
from storage.models import Delivery, Identity, User, utcnow
from tests.bulk import add_producers
from tests.people import RecordingSender


async def _queue(sm, n, kind="notice"):
    chats = await add_producers(sm, n)
    async with sm() as s, s.begin():
        for ident in await s.scalars(select(Identity)):
            await enqueue(s, ident, Reply(f"hi {ident.chat_id}"), key=f"t:{ident.id}", kind=kind)
    return chats


def _worker(sm, sender, **kw):
    kw.setdefault("rate", 5000)
    kw.setdefault("per_chat_interval", 0)
    return DeliveryWorker(sm, Senders(telegram=sender), **kw)


async def _statuses(sm) -> Counter:
    async with sm() as s:
        return Counter(await s.scalars(select(Delivery.status)))


class SlowSender(RecordingSender):
    async def send(self, chat_id, reply):
        await asyncio.sleep(0.002)
        return await super().send(chat_id, reply)


async def test_two_workers_on_postgres_never_send_the_same_row(pg_url):
    engines = [make_engine(pg_url), make_engine(pg_url)]
    sms = [make_sessionmaker(e) for e in engines]
    await _queue(sms[0], 600)
    sender = SlowSender()
    workers = [_worker(sm, sender, batch=25, worker_id=f"w{i}") for i, sm in enumerate(sms)]
    await asyncio.gather(*(w.drain(timeout=30) for w in workers))
    per_chat = Counter(c for c, _ in sender.sent)
    assert len(per_chat) == 600 and set(per_chat.values()) == {1}
    assert all(w.stats["sent"] > 50 for w in workers), [w.stats for w in workers]
    assert await _statuses(sms[0]) == {"sent": 600}
    for e in engines:
        await e.dispose()


async def test_recovery_requeues_dead_claims_and_marks_in_flight_unknown(db_url):
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    await _queue(sm, 5)
    dead, live = f"{HOST}:999999:1", f"{HOST}:{__import__('os').getpid()}:beef"
    old = utcnow() - timedelta(minutes=10)
    async with sm() as s, s.begin():
        rows = list(await s.scalars(select(Delivery).order_by(Delivery.id)))
        for r, (status, owner, at) in zip(rows, [("claimed", dead, utcnow()), ("sending", dead, utcnow()),
                                                 ("claimed", live, utcnow()), ("sending", live, utcnow()),
                                                 ("claimed", "otherhost:1:1", old)]):
            r.status, r.claimed_by, r.claimed_at = status, owner, at
    w = _worker(sm, RecordingSender())
    assert await w.recover() == {"requeued": 2, "unknown": 1}
    assert await _statuses(sm) == {"queued": 2, "unknown": 1, "claimed": 1, "sending": 1}
    await engine.dispose()


async def test_cancelled_while_claimed_is_not_sent(sqlite_url):
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    await _queue(sm, 3)
    sender = RecordingSender()
    w = _worker(sm, sender)
    rows = await w.claim()
    async with sm() as s, s.begin():
        await s.execute(update(Delivery).values(status="cancelled"))
    for r in rows:
        assert await w.send_one(r) == "skipped"
    assert sender.sent == [] and await _statuses(sm) == {"cancelled": 3}
    await engine.dispose()


class ScriptedSender(RecordingSender):
    def __init__(self, script):
        super().__init__()
        self.script = script            # chat -> list of SendResult to answer first
        self.calls = Counter()

    async def send(self, chat_id, reply):
        self.calls[chat_id] += 1
        todo = self.script.get(chat_id)
        if todo:
            return todo.pop(0)
        return await super().send(chat_id, reply)


async def test_429_transient_blocked_and_opted_out(db_url):
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    chats = [str(c) for c in await _queue(sm, 5, kind="broadcast")]
    async with sm() as s, s.begin():
        ident = await s.scalar(select(Identity).where(Identity.chat_id == chats[4]))
        (await s.get(User, ident.user_id)).opted_out = True
    sender = ScriptedSender({
        chats[0]: [SendResult("retry", error="429", retry_after=0.3)],
        chats[1]: [SendResult("retry", error="502")] * 10,
        chats[2]: [SendResult("blocked", error="Forbidden: bot was blocked by the user", deactivate=True)],
        chats[3]: [SendResult("retry", error="502")],
    })
    w = _worker(sm, sender, max_attempts=3)
    import delivery.worker as worker_mod
    orig = worker_mod.backoff
    worker_mod.backoff = lambda attempt: 0.05
    try:
        t0 = time.monotonic()
        await w.drain(timeout=10)
    finally:
        worker_mod.backoff = orig
    assert time.monotonic() - t0 >= 0.3                            # the 429 paused sending
    async with sm() as s:
        rows = {r.chat_id: r for r in await s.scalars(select(Delivery))}
        idents = {i.chat_id: i for i in await s.scalars(select(Identity))}
    assert (rows[chats[0]].status, rows[chats[0]].attempts) == ("sent", 1)        # 429 is not an attempt
    assert (rows[chats[1]].status, rows[chats[1]].attempts) == ("failed", 3)      # gave up after max
    assert sender.calls[chats[1]] == 3
    assert rows[chats[2]].status == "blocked" and sender.calls[chats[2]] == 1     # never retried
    assert idents[chats[2]].active is False and idents[chats[2]].inactive_reason == "blocked"
    assert (rows[chats[3]].status, rows[chats[3]].attempts) == ("sent", 2)
    assert rows[chats[4]].status == "opted_out" and sender.calls[chats[4]] == 0
    await engine.dispose()


async def test_graceful_stop_leaves_nothing_in_flight(sqlite_url):
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    await _queue(sm, 300)
    sender = SlowSender()
    w = _worker(sm, sender, rate=200)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run_forever(stop, poll=0.05))
    while len(sender.sent) < 50:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 10)
    st = await _statuses(sm)
    assert set(st) == {"sent", "queued"} and st["sent"] == len(sender.sent) < 300
    w2 = _worker(sm, sender)
    await w2.drain(timeout=10)
    assert await _statuses(sm) == {"sent": 300}
    assert set(Counter(c for c, _ in sender.sent).values()) == {1}
    await engine.dispose()


async def test_pacer_rate_per_chat_and_no_head_of_line_blocking():
    p = Pacer(rate=100, per_chat_interval=0.3)
    t0 = time.monotonic()
    stamps = {}

    async def go(name, chat):
        await p.acquire(chat)
        stamps[name] = time.monotonic() - t0
    await asyncio.gather(go("a1", "A"), go("a2", "A"), *(go(f"b{i}", f"B{i}") for i in range(10)))
    assert stamps["a2"] - stamps["a1"] >= 0.29                     # per-chat gap
    assert max(v for k, v in stamps.items() if k.startswith("b")) < 0.2   # others not held up by A
    ordered = sorted(stamps.values())
    assert all(b - a >= 0.009 for a, b in zip(ordered, ordered[1:]))     # ≤ 100/s overall


async def test_queueing_wakes_the_worker_when_the_rows_are_committed_only(sqlite_url):
    """delivery.queue is the one place that wakes workers: at the commit of a session that queued
    rows (the worker never looks before they are visible), not on rollback or a duplicate key."""
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    await add_producers(sm, 1)
    w = _worker(sm, RecordingSender())
    async with sm() as s:
        ident = await s.scalar(select(Identity))
    async with sm() as s:
        async with s.begin():
            assert await enqueue(s, ident, Reply("a"), key="wake:a", kind="notice")
            assert not w.wakeup.is_set()                  # not committed yet
        assert w.wakeup.is_set()
        w.wakeup.clear()
        with pytest.raises(RuntimeError):
            async with s.begin():
                await enqueue(s, ident, Reply("b"), key="wake:b", kind="notice")
                raise RuntimeError("handler failed")
        async with s.begin():
            assert not await enqueue(s, ident, Reply("a"), key="wake:a", kind="notice")   # already queued
        assert not w.wakeup.is_set()
    await engine.dispose()


async def test_an_urgent_send_is_not_queued_behind_a_batch_but_still_counted():
    now = [0.0]
    p = Pacer(rate=10, per_chat_interval=0, clock=lambda: now[0])
    for i in range(5):                                    # five bulk slots: the next one is 0.5 s away
        p._next_slot = max(p._next_slot, now[0]) + 0.1
    await asyncio.wait_for(p.acquire("person", urgent=True), 0.1)
    assert p._next_slot == pytest.approx(0.6)             # the batch's next slot moved back by one
