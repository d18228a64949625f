"""The delivery worker: claims due rows from the database and sends them through channel senders.

Row life-cycle and crash guarantees
- queued  -> claimed : a batch is claimed in one transaction (PostgreSQL: FOR UPDATE SKIP LOCKED,
                       so two workers never claim the same row; SQLite: a single writer).
- claimed -> sending : committed immediately before the network call.
- sending -> sent / failed / blocked / … : committed right after the call.
After a crash, rows left in 'claimed' were never attempted and are re-queued after the lease
expires; rows left in 'sending' may or may not have reached the person and are marked 'unknown'
(never re-sent): at most the messages in flight at the moment of the crash.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from datetime import timedelta
from typing import Awaitable, Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.messages import Reply
from delivery.outcome import SendResult
from delivery.ratelimit import Pacer
from delivery.senders import Senders
from storage.models import Delivery, Identity, User, utcnow

log = logging.getLogger("ocop.delivery")

FINAL = {"sent", "failed", "blocked", "opted_out", "cancelled", "outside_window", "quota",
         "unreachable", "unknown"}
LEASE = timedelta(seconds=120)


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): 2, 4, 8 … capped at 300, with jitter."""
    return min(300.0, 2.0 ** attempt) * (0.8 + 0.4 * random.random())


class DeliveryWorker:
    def __init__(self, sessionmaker: async_sessionmaker, senders: Senders, *, rate: float = 25.0,
                 per_chat_interval: float = 1.0, max_attempts: int = 5, concurrency: int = 16,
                 batch: int = 100, worker_id: str | None = None):
        self.sessionmaker = sessionmaker
        self.senders = senders
        self.pacer = Pacer(rate, per_chat_interval)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.batch = batch
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self) & 0xffff:x}"
        self.wakeup = asyncio.Event()
        self.after_batch: list[Callable[[], Awaitable[None]]] = []   # e.g. broadcast progress
        self.stats = {"sent": 0, "retry": 0, "failed": 0}

    # --- recovery -------------------------------------------------------------------------
    async def recover(self) -> dict[str, int]:
        """Requeue expired 'claimed' rows; mark stale 'sending' rows 'unknown' (never re-sent)."""
        cutoff = utcnow() - LEASE
        async with self.sessionmaker() as s, s.begin():
            r1 = await s.execute(update(Delivery).where(Delivery.status == "claimed", Delivery.claimed_at < cutoff)
                                 .values(status="queued", claimed_by=None, claimed_at=None))
            r2 = await s.execute(update(Delivery).where(Delivery.status == "sending", Delivery.claimed_at < cutoff)
                                 .values(status="unknown", last_error="in flight during a crash"))
        return {"requeued": r1.rowcount or 0, "unknown": r2.rowcount or 0}

    async def recover_own_and_dead(self) -> dict[str, int]:
        """At start-up of a single process: everything claimed/sending by earlier runs is stale."""
        async with self.sessionmaker() as s, s.begin():
            r1 = await s.execute(update(Delivery).where(Delivery.status == "claimed",
                                                        Delivery.claimed_by != self.worker_id)
                                 .values(status="queued", claimed_by=None, claimed_at=None))
            r2 = await s.execute(update(Delivery).where(Delivery.status == "sending",
                                                        Delivery.claimed_by != self.worker_id)
                                 .values(status="unknown", last_error="in flight during a crash"))
        return {"requeued": r1.rowcount or 0, "unknown": r2.rowcount or 0}

    # --- claiming -------------------------------------------------------------------------
    async def claim(self, limit: int | None = None) -> list[Delivery]:
        limit = limit or self.batch
        now = utcnow()
        async with self.sessionmaker() as s, s.begin():
            pick = (select(Delivery.id).where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
                    .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
            if s.bind.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = list(await s.scalars(pick))
            if not ids:
                return []
            res = await s.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.status == "queued")
                                  .values(status="claimed", claimed_by=self.worker_id, claimed_at=now)
                                  .returning(Delivery))
            rows = list(res.scalars())
        rows.sort(key=lambda r: r.id)
        return rows

    # --- sending --------------------------------------------------------------------------
    async def _finish(self, row: Delivery, **values) -> None:
        async with self.sessionmaker() as s, s.begin():
            await s.execute(update(Delivery).where(Delivery.id == row.id, Delivery.claimed_by == self.worker_id)
                            .values(**values))

    async def _precheck(self, row: Delivery) -> str | None:
        """Skip rows whose recipient became unreachable or opted out since enqueueing."""
        async with self.sessionmaker() as s:
            ident = await s.get(Identity, row.identity_id)
            if ident is None or not ident.active:
                return "blocked"
            if row.kind == "broadcast":
                user = await s.get(User, ident.user_id)
                if user is not None and user.opted_out:
                    return "opted_out"
        return None

    async def send_one(self, row: Delivery) -> str:
        skip = await self._precheck(row)
        if skip:
            await self._finish(row, status=skip, claimed_at=utcnow())
            return skip
        sender = self.senders.for_channel(row.channel)
        if sender is None:
            await self._finish(row, status="queued", claimed_by=None,
                               next_attempt_at=utcnow() + timedelta(seconds=60))
            return "no_sender"
        wait = self.pacer.chat_ready_in(row.chat_id)
        if wait > 0:
            await asyncio.sleep(wait)
        await self.pacer.acquire(row.chat_id)
        # 'sending' is committed before the call: see the module docstring
        await self._finish(row, status="sending", attempts=row.attempts + 1, claimed_at=utcnow())
        try:
            result = await sender.send(row.chat_id, Reply.from_payload(row.payload))
        except Exception as exc:  # a sender bug or an unexpected network error: retry later
            log.exception("sender raised for delivery %s", row.id)
            result = SendResult("retry", error=f"{type(exc).__name__}: {exc}"[:300])
        return await self._record(row, result)

    async def _record(self, row: Delivery, result: SendResult) -> str:
        attempts = row.attempts + 1
        now = utcnow()
        if result.status == "sent":
            await self._finish(row, status="sent", sent_at=now, provider_message_id=result.message_id or None,
                               last_error=None)
            self.stats["sent"] += 1
            return "sent"
        if result.status == "retry":
            if result.retry_after:
                self.pacer.pause(result.retry_after)
            if attempts >= self.max_attempts and not result.retry_after:
                await self._finish(row, status="failed", last_error=result.error[:300])
                self.stats["failed"] += 1
                return "failed"
            delay = result.retry_after if result.retry_after else backoff(attempts)
            await self._finish(row, status="queued", claimed_by=None, last_error=result.error[:300],
                               attempts=attempts if not result.retry_after else row.attempts,
                               next_attempt_at=now + timedelta(seconds=delay))
            self.stats["retry"] += 1
            return "retry"
        # permanent outcomes
        await self._finish(row, status=result.status, last_error=result.error[:300] or None)
        if result.deactivate:
            async with self.sessionmaker() as s, s.begin():
                await s.execute(update(Identity).where(Identity.id == row.identity_id)
                                .values(active=False, inactive_reason=result.status[:64]))
        self.stats["failed"] += 1
        return result.status

    # --- loops ----------------------------------------------------------------------------
    async def run_batch(self) -> int:
        rows = await self.claim()
        if not rows:
            return 0
        sem = asyncio.Semaphore(self.concurrency)

        async def one(r):
            async with sem:
                return await self.send_one(r)
        await asyncio.gather(*(one(r) for r in rows))
        for hook in self.after_batch:
            try:
                await hook()
            except Exception:
                log.exception("after_batch hook failed")
        return len(rows)

    async def pending(self) -> int:
        from sqlalchemy import func
        async with self.sessionmaker() as s:
            return await s.scalar(select(func.count()).select_from(Delivery)
                                  .where(Delivery.status.in_(("queued", "claimed"))))

    async def drain(self, timeout: float | None = None, idle_exit: bool = True) -> None:
        """Send until nothing is queued (waiting for retries that are due within `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        while True:
            n = await self.run_batch()
            if n:
                continue
            if idle_exit and not await self._has_live_rows():
                return
            if deadline and loop.time() > deadline:
                return
            await asyncio.sleep(0.2)

    async def _has_live_rows(self) -> bool:
        async with self.sessionmaker() as s:
            row = await s.scalar(select(Delivery.id).where(or_(
                Delivery.status == "queued",
                and_(Delivery.status == "claimed", Delivery.claimed_by == self.worker_id))).limit(1))
            return row is not None

    async def run_forever(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        await self.recover()
        while not stop.is_set():
            try:
                n = await self.run_batch()
            except Exception:
                log.exception("delivery batch failed")
                n = 0
            if n == 0:
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=poll)
                except asyncio.TimeoutError:
                    pass
                if int(asyncio.get_running_loop().time()) % 60 == 0:
                    await self.recover()
