"""The delivery worker: claims due rows from the database and sends them through channel senders.

Row life-cycle and crash guarantees
- queued  -> claimed : due ids are picked (PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers
                       never claim the same row), then UPDATE … WHERE id IN (…) AND status='queued'
                       RETURNING in the same transaction (the status guard covers SQLite).
- claimed -> sending : committed immediately before the network call, and only if the row is
                       still 'claimed' by this worker (a cancelled or re-queued row is never sent).
- sending -> sent / failed / blocked / … : committed right after the call.
After a crash, rows left in 'claimed' were never attempted and are re-queued (at start-up when
their worker's process is gone, otherwise after the lease expires); rows left in 'sending' may or
may not have reached the person and are marked 'unknown' (never re-sent): at most the messages in
flight at the moment of the crash. A graceful stop (stop event, SIGINT/SIGTERM) lets the calls in
flight finish and releases the claimed rows, so it leaves no 'unknown' row.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
from datetime import timedelta, timezone
from typing import Awaitable, Callable

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.messages import Reply
from core.ops import metrics
from delivery import queue
from delivery.outcome import NO_SENDER, SendResult
from delivery.ratelimit import Pacer
from delivery.recovery import HOST, LEASE, owner_is_dead, recover_stale  # noqa: F401 (re-exported)
from delivery.senders import Senders
from storage.models import Delivery, Identity, User, utcnow

log = logging.getLogger("ocop.delivery")

# Claim order: replies to a person first, then reminders and notices, broadcasts last.
PRIORITY = {"answer": 0, "reminder": 1, "notice": 1, "progress": 1, "broadcast": 2}
URGENT = tuple(k for k, p in PRIORITY.items() if p < PRIORITY["broadcast"])
_priority = case(*((Delivery.kind == k, p) for k, p in PRIORITY.items()), else_=1)


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): 2, 4, 8 … capped at 300, with jitter."""
    return min(300.0, 2.0 ** attempt) * (0.8 + 0.4 * random.random())


class DeliveryWorker:
    def __init__(self, sessionmaker: async_sessionmaker, senders: Senders, *, rate: float = 25.0,
                 per_chat_interval: float = 1.0, max_attempts: int = 5, concurrency: int = 16,
                 batch: int | None = None, worker_id: str | None = None):
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.senders = senders
        self.pacer = Pacer(rate, per_chat_interval)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        # ~15 s of sending per claim: the pause between batches costs < 1 % of the rate
        self.batch = batch or min(2000, max(100, int(rate * 15)))
        self.hook_interval = 3.0       # after_batch hooks also run this often while a batch sends
        self.express_interval = 1.0    # while a batch sends, rows of URGENT kinds are claimed this often
        self.worker_id = worker_id or f"{HOST}:{os.getpid()}:{id(self) & 0xffff:x}"
        self.wakeup = asyncio.Event()  # set when rows are queued in this process (delivery.queue)
        queue.listen(self)
        self.stopping = False          # graceful stop: finish calls in flight, release the rest
        self.after_batch: list[Callable[[], Awaitable[None]]] = []   # e.g. broadcast progress
        # called after a row ended without reaching the person (not 'unknown'): the reminder
        # route chain (handlers/reach/chain.py) moves on to the next route
        self.on_undelivered: list[Callable[[Delivery, str, str], Awaitable[None]]] = []
        self.stats = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "released": 0}
        self.in_flight = 0
        self._retrying: set[int] = set()   # rows this worker re-queued for a retry (drain waits for them)
        self._undelivered_later: list[tuple[Delivery, str, str]] = []

    # --- recovery -------------------------------------------------------------------------
    async def recover(self) -> dict[str, int]:
        """Requeue 'claimed' rows of dead or expired workers; mark their 'sending' rows 'unknown'.

        Rows held by another live worker (a second process on PostgreSQL) are left alone."""
        return await recover_stale(self.sessionmaker, self.worker_id)

    # --- claiming -------------------------------------------------------------------------
    async def claim(self, limit: int | None = None, urgent_only: bool = False,
                    kinds: tuple[str, ...] | None = None) -> list[Delivery]:
        """Due rows, most urgent kind first (PRIORITY), then oldest due first; `kinds` restricts the kinds."""
        limit = limit or self.batch
        now = utcnow()
        async with self.sessionmaker() as s, s.begin():
            pick = (select(Delivery.id).where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
                    .order_by(_priority, Delivery.next_attempt_at, Delivery.id).limit(limit))
            if urgent_only or kinds is not None:
                pick = pick.where(Delivery.kind.in_(kinds if kinds is not None else URGENT))
            if s.bind.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            # two statements, not UPDATE … IN (sub-select): PostgreSQL may re-run a LIMIT … SKIP LOCKED
            # sub-select inside a semi-join and claim more than `limit` rows
            ids = list(await s.scalars(pick))
            if not ids:
                return []
            res = await s.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.status == "queued")
                                  .values(status="claimed", claimed_by=self.worker_id, claimed_at=now)
                                  .returning(Delivery).execution_options(synchronize_session=False))
            rows = list(res.scalars())
            if rows:
                rows = await self._skip_unreachable(s, rows)
        later, self._undelivered_later = self._undelivered_later, []
        for r, status, error in later:
            await self._undelivered(r, status, error)
        rows.sort(key=lambda r: (PRIORITY.get(r.kind, 1), r.next_attempt_at, r.id))
        return rows

    async def _undelivered(self, row: Delivery, status: str, error: str) -> None:
        for hook in self.on_undelivered:
            try:
                await hook(row, status, error)
            except Exception:
                log.exception("on_undelivered hook failed for delivery %s", row.id)

    async def _skip_unreachable(self, s, rows: list[Delivery]) -> list[Delivery]:
        """Rows whose recipient became unreachable or opted out since enqueueing end here."""
        q = (select(Delivery.id, Identity.active, User.opted_out)
             .join(Identity, Identity.id == Delivery.identity_id).join(User, User.id == Identity.user_id)
             .where(Delivery.id.in_([r.id for r in rows if r.identity_id is not None])))
        state = {rid: (active, opted) for rid, active, opted in await s.execute(q)}
        keep, blocked, opted = [], [], []
        for r in rows:
            if r.identity_id is None:          # a phone route (ZNS): its sender checks consent
                keep.append(r)
                continue
            active, opted_out = state.get(r.id, (False, False))
            if not active:
                blocked.append(r.id)
            elif r.kind == "broadcast" and opted_out:
                opted.append(r.id)
            else:
                keep.append(r)
        for status, ids in (("blocked", blocked), ("opted_out", opted)):
            if ids:
                await s.execute(update(Delivery).where(Delivery.id.in_(ids))
                                .values(status=status, last_error="recipient unreachable" if status == "blocked"
                                        else "opted out").execution_options(synchronize_session=False))
                self.stats["skipped"] += len(ids)
                self._undelivered_later += [(r, status, "recipient unreachable") for r in rows if r.id in ids]
        return keep

    # --- sending --------------------------------------------------------------------------
    async def _write(self, stmt) -> int:
        """One small committed write on a plain connection (cheaper than an ORM session per row)."""
        async with self.engine.begin() as conn:
            res = await conn.execute(stmt)
            return res.rowcount or 0

    async def _finish(self, row: Delivery, **values) -> int:
        return await self._write(update(Delivery.__table__).where(
            Delivery.id == row.id, Delivery.claimed_by == self.worker_id).values(**values))

    async def _release(self, row: Delivery) -> None:
        await self._write(update(Delivery.__table__).where(
            Delivery.id == row.id, Delivery.status == "claimed", Delivery.claimed_by == self.worker_id)
            .values(status="queued", claimed_by=None, claimed_at=None))
        self.stats["released"] += 1

    async def _mark_sending(self, row: Delivery) -> bool:
        """claimed -> sending, committed; False when the row was cancelled or taken back meanwhile."""
        return bool(await self._write(update(Delivery.__table__).where(
            Delivery.id == row.id, Delivery.status == "claimed", Delivery.claimed_by == self.worker_id)
            .values(status="sending", attempts=row.attempts + 1, claimed_at=utcnow())))

    async def send_one(self, row: Delivery, urgent: bool = False) -> str:
        if self.stopping:
            await self._release(row)
            return "released"
        sender = self.senders.for_channel(row.channel)
        if sender is None:
            await self._finish(row, status="queued", claimed_by=None, last_error=f"{NO_SENDER}{row.channel}",
                               next_attempt_at=utcnow() + timedelta(seconds=60))
            return "no_sender"
        await self.pacer.acquire(row.chat_id, urgent=urgent)
        pace = getattr(sender, "pace", None)      # the channel's shared budget (Telegram: all processes)
        if pace is not None and not self.stopping:
            await pace(row.chat_id, personal=urgent)
        if self.stopping:
            await self._release(row)
            return "released"
        # 'sending' is committed before the call: see the module docstring
        if not await self._mark_sending(row):
            return "skipped"
        self.in_flight += 1
        try:
            await self.pacer.gate()
            try:
                if hasattr(sender, "send_payload"):     # e.g. ZNS: template data and tracking id
                    result = await sender.send_payload(row.chat_id, row.payload, row.key)
                else:
                    result = await sender.send(row.chat_id, Reply.from_payload(row.payload))
            except Exception as exc:  # a sender bug or an unexpected network error: retry later
                log.exception("sender raised for delivery %s", row.id)
                result = SendResult("retry", error=f"{type(exc).__name__}: {exc}"[:300])
            self.pacer.sent(row.chat_id)
            return await self._record(row, result)
        finally:
            self.in_flight -= 1

    async def _record(self, row: Delivery, result: SendResult) -> str:
        metrics.observe_delivery(row.channel, result.status)
        if result.retry_after and row.channel != "telegram":   # Telegram's are counted by its transport
            metrics.rate_limited(row.channel)
        attempts = row.attempts + 1
        now = utcnow()
        if result.status == "sent":
            await self._finish(row, status="sent", sent_at=now, provider_message_id=result.message_id or None,
                               last_error=None)
            self.stats["sent"] += 1
            return "sent"
        if result.status == "retry" and result.not_before is not None:
            # the channel said when (ZNS night rule, daily quota): this row only, not an attempt
            await self._finish(row, status="queued", claimed_by=None, last_error=result.error[:300],
                               attempts=row.attempts, next_attempt_at=result.not_before.astimezone(timezone.utc))
            self.stats["retry"] += 1
            return "retry"
        if result.status == "retry":
            if result.retry_after:
                self.pacer.pause(result.retry_after)
            if attempts >= self.max_attempts and not result.retry_after:
                await self._finish(row, status="failed", last_error=result.error[:300])
                self.stats["failed"] += 1
                await self._undelivered(row, "failed", result.error)
                return "failed"
            # flood control is not the message's fault: it does not count as an attempt
            delay = result.retry_after if result.retry_after else backoff(attempts)
            await self._finish(row, status="queued", claimed_by=None, last_error=result.error[:300],
                               attempts=attempts if not result.retry_after else row.attempts,
                               next_attempt_at=now + timedelta(seconds=delay))
            self.stats["retry"] += 1
            if len(self._retrying) < 10_000:
                self._retrying.add(row.id)
            return "retry"
        # permanent outcomes
        await self._finish(row, status=result.status, last_error=result.error[:300] or None)
        if result.deactivate:
            async with self.sessionmaker() as s, s.begin():
                await s.execute(update(Identity).where(Identity.id == row.identity_id)
                                .values(active=False, inactive_reason=result.status[:64]))
        self.stats["failed"] += 1
        await self._undelivered(row, result.status, result.error)
        return result.status

    # --- loops ----------------------------------------------------------------------------
    async def run_batch(self) -> int:
        if self.stopping:
            return 0
        rows = await self.claim()
        if rows:
            sem = asyncio.Semaphore(self.concurrency)

            async def one(r):
                async with sem:
                    return await self.send_one(r)

            async def ticker():
                while True:
                    await asyncio.sleep(self.hook_interval)
                    await self.run_hooks()
            tick = asyncio.create_task(ticker())
            batch_done = asyncio.Event()
            # the express lane takes only kinds more urgent than everything in this batch (a batch of
            # reminders lets answers through, not more reminders beside its own `concurrency` sends)
            top = min(PRIORITY.get(r.kind, 1) for r in rows)
            faster = tuple(k for k, p in PRIORITY.items() if p < top)
            express = asyncio.create_task(self._express(batch_done, faster))
            try:
                await asyncio.gather(*(one(r) for r in rows))
            finally:
                tick.cancel()
                batch_done.set()           # not cancelled: a claim it made is always sent or released
                await asyncio.gather(express, return_exceptions=True)
        await self.run_hooks()
        return len(rows)

    async def _express(self, batch_done: asyncio.Event, kinds: tuple[str, ...]) -> None:
        """While a batch sends: rows of kinds more urgent than the batch's (`kinds`) enqueued meanwhile go
        out at once when queued in this process (wake-up), within `express_interval` otherwise, not after
        the batch. Their sends run beside the batch's (at most concurrency/4); the lane ends with the batch, after
        the rows it claimed are sent (or released on a stop)."""
        tasks: set[asyncio.Task] = set()
        lane = asyncio.Semaphore(max(1, self.concurrency // 4))

        async def one(r):
            async with lane:
                return await self.send_one(r, urgent=True)
        try:
            while kinds and not self.stopping:
                await self._nudged(batch_done, self.express_interval)
                if batch_done.is_set():
                    break
                try:
                    rows = await self.claim(limit=50, kinds=kinds)
                except Exception:
                    log.exception("express claim failed")
                    continue
                for r in rows:
                    t = asyncio.create_task(one(r))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _nudged(self, done: asyncio.Event, seconds: float) -> None:
        """Wait until `done`, a wake-up (rows queued in this process) or `seconds`, whichever is first."""
        self.wakeup.clear()
        waits = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(self.wakeup.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def run_hooks(self) -> None:
        for hook in self.after_batch:
            try:
                await hook()
            except Exception:
                log.exception("after_batch hook failed")

    async def drain(self, timeout: float | None = None, idle_exit: bool = True,
                    done: Callable[[], Awaitable[bool]] | None = None, recover_every: float = 5.0) -> None:
        """Send until nothing is due (waiting for the retries of rows it tried), or until `done()`.

        Rows due later (tomorrow's reminder) do not keep it waiting. Like run_forever it recovers the
        rows of dead or expired workers while it runs (every `recover_every` s), so the rows a killed
        `bot.py run` had claimed are sent too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        next_recover = loop.time() + recover_every
        while not self.stopping:
            n = await self.run_batch()
            if done is not None and await done():
                return
            if loop.time() >= next_recover:
                next_recover = loop.time() + recover_every
                await self.recover()
            if n:
                continue
            if idle_exit and done is None and not await self._has_live_rows():
                return
            if deadline and loop.time() > deadline:
                return
            await self._idle(0.2)

    async def _idle(self, seconds: float) -> None:
        self.wakeup.clear()
        try:
            await asyncio.wait_for(self.wakeup.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _has_live_rows(self) -> bool:
        """Due now, waiting for the retry of a row this worker tried, or held by this worker."""
        mine = [Delivery.id.in_(list(self._retrying))] if self._retrying else []
        async with self.sessionmaker() as s:
            row = await s.scalar(select(Delivery.id).where(or_(
                and_(Delivery.status == "queued", or_(Delivery.next_attempt_at <= utcnow(), *mine)),
                and_(Delivery.status.in_(("claimed", "sending")), Delivery.claimed_by == self.worker_id)))
                .limit(1))
            return row is not None

    async def run_forever(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Send until `stop` is set; then finish the calls in flight and release claimed rows."""
        async def watch():
            await stop.wait()
            self.stopping = True
            self.wakeup.set()
        watcher = asyncio.create_task(watch())
        loop = asyncio.get_running_loop()
        next_recover = loop.time() + 60
        try:
            await self.recover()
            while not stop.is_set():
                try:
                    n = await self.run_batch()
                except Exception:
                    log.exception("delivery batch failed")
                    n = 0
                if n == 0 and not stop.is_set():
                    await self._idle(poll)
                if loop.time() >= next_recover:
                    next_recover = loop.time() + 60
                    try:
                        await self.recover()
                    except Exception:
                        log.exception("delivery recovery failed")
        finally:
            watcher.cancel()
