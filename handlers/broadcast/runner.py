"""`python bot.py broadcast`: record a broadcast and deliver it through the real delivery path.

The process sends with its own DeliveryWorker (same pacing, retries and row states as `bot.py run`)
and exits when no row of the broadcast is left to send. Interrupted (Ctrl+C / SIGTERM) it finishes
the calls in flight, hands the claimed rows back to the queue and exits: a running `bot.py run`
(or the next one started, or `bot.py broadcast --resume ID`) finishes the delivery. Killed hard
(SIGKILL), the rows it had claimed are re-queued at the next start (its process is gone) and the
few calls that were in flight are marked 'unknown' (never re-sent).
"""
from __future__ import annotations

import asyncio
import signal
import sys
import time

from sqlalchemy import select

from core.templates import render
from handlers.broadcast import sending
from handlers.broadcast.progress import Progress
from delivery.senders import Senders
from delivery.standalone import close_senders, open_senders
from delivery.worker import DeliveryWorker
from storage.models import Broadcast, Delivery


class Terminal:
    """Progress on the terminal, one line per change (at most twice a second)."""

    def __init__(self, bid: int, out=None):
        self.bid, self.out, self._last, self._at = bid, out or sys.stdout, None, 0.0

    def __call__(self, bc, summ) -> None:
        if bc.id != self.bid:
            return
        line = render("broadcast/run_progress", total=bc.total, **summ)
        now = time.monotonic()
        if line != self._last and (now - self._at > 0.5 or summ["pending"] == 0):
            print(line, file=self.out, flush=True)
            self._last, self._at = line, now


async def _pending_sendable(sm, bid: int, senders: Senders) -> int:
    async with sm() as s:
        rows = await s.execute(select(Delivery.channel).where(
            Delivery.broadcast_id == bid, Delivery.status.in_(("queued", "claimed", "sending"))))
        return sum(1 for (ch,) in rows if ch in senders)


async def deliver(sm, settings, bid: int, *, out=None) -> int:
    """Send until broadcast `bid` has nothing left this process can send. Exit code 0, or 130."""
    out = out or sys.stdout
    senders, closers = await open_senders(settings, sm)
    worker = DeliveryWorker(sm, senders, rate=settings.send_rate, per_chat_interval=settings.per_chat_interval,
                            max_attempts=settings.max_attempts)
    terminal = Terminal(bid, out)
    progress = Progress(sm, senders, on_update=terminal)
    worker.after_batch.append(progress.tick)
    loop = asyncio.get_running_loop()
    interrupted = []

    def stop(*_):
        interrupted.append(True)
        worker.stopping = True
        worker.wakeup.set()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):  # pragma: no cover
            pass
    try:
        rec = await worker.recover()
        if any(rec.values()):
            print(render("broadcast/run_recovered", **rec), file=out, flush=True)

        async def done() -> bool:
            return await _pending_sendable(sm, bid, senders) == 0
        await worker.drain(done=done)
        await progress.tick()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
        await close_senders(closers)
    async with sm() as s:
        bc = await s.get(Broadcast, bid)
        summ = sending.summary(await sending.counts(s, bid))
    if interrupted:
        print(render("broadcast/run_interrupted", pending=summ["pending"], id=bid), file=out, flush=True)
        return 130
    left = summ["pending"]
    print(render("broadcast/run_result", total=bc.total, **summ), file=out)
    print(f"sent={summ['sent']} blocked={summ['blocked']} failed={summ['failed']} pending={left} "
          f"total={bc.total} unknown={(await _unknown(sm, bid))}", file=out, flush=True)
    return 0


async def _unknown(sm, bid: int) -> int:
    from sqlalchemy import func
    async with sm() as s:
        return await s.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.broadcast_id == bid, Delivery.status == "unknown"))
